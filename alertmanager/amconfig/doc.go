// Package amconfig holds the tests of the example Alertmanager configuration
// (alertmanager/alertmanager.yml), its notification templates
// (alertmanager/templates) and the AlertmanagerConfig rendered from
// mixin/alertmanager. The tests drive Alertmanager's own code: its config
// loader, router, inhibitor, template engine and the Slack, Teams, webhook
// and PagerDuty notifiers, against loopback servers.
//
// The package has no code of its own on purpose: the adapter binary must not
// link Alertmanager's config or notify packages, and nothing else needs them.
package amconfig
