// The routing, receivers and inhibition of alertmanager/alertmanager.yml as
// an AlertmanagerConfig (monitoring.coreos.com/v1alpha1), for Alertmanagers
// run by prometheus-operator. A function of the mixin's _config:
//
//   (import 'alertmanager/alertmanager-config.libsonnet')($._config)
//
// Settings live in _config.alertmanagerConfig (all optional; use `+:` for
// the nested objects so the defaults below stay):
//
//   alertmanagerConfig+: {
//     namespace: 'monitoring',   // default: _config.manifests.namespace
//     labels: { alertmanagerConfig: 'flagger' },
//     receivers+: { msteamsLegacy: true, pager: false },
//     secretKeys+: { slack: 'my-slack-url' },
//   }
//
// Differences from the file, all prometheus-operator's doing:
// - Secrets are SecretKeySelectors on one Secret in the object's namespace;
//   the operator copies their values into the generated configuration.
// - An AlertmanagerConfig cannot load template files. The templates in
//   alertmanager/templates/ must be given to the Alertmanager itself
//   (Alertmanager.spec.alertmanagerConfiguration.templates, or the
//   configSecret's `templates:`); the receivers below name them.
// - By default (alertmanagerConfigMatcherStrategy OnNamespace) the operator
//   adds namespace="<this object's namespace>" to the top route and to both
//   sides of every inhibit rule, so canaries of other namespaces never
//   arrive. Run it with the strategy None, or put the object in the
//   Alertmanager's namespace with OnNamespaceExceptForAlertmanagerNamespace,
//   or reference it from Alertmanager.spec.alertmanagerConfiguration.
// - The operator forces `continue: true` on the top route, so alerts also
//   go on to the routes that follow it.
local defaults = {
  // null: _config.manifests.name / .namespace, like the mixin's other
  // manifests. labels are added to _config.manifests.labels (e.g. the
  // label an Alertmanager's alertmanagerConfigSelector picks).
  name: null,
  namespace: null,
  labels: {},
  // One Secret holding every URL and key, as for the file's secret mount.
  secretName: 'flagger-alertmanager',
  secretKeys: {
    slack: 'slack-url',
    msteamsWorkflow: 'msteams-workflow-url',
    msteamsLegacy: 'msteams-legacy-url',
    eventAdapter: 'event-adapter-url',
    pagerduty: 'pagerduty-routing-key',
  },
  // Which receivers to render. msteamsLegacy is opt-in (MessageCard for
  // retired Office 365 connectors) and reached by flagger_teams_legacy="true".
  receivers: {
    slack: true,
    msteams: true,
    msteamsLegacy: false,
    eventAdapter: true,
    pager: true,
  },
  // Helm's slack.channel; only legacy Slack webhooks honour it.
  slackChannel: '',
};

function(_config)
  local c = defaults + std.get(_config, 'alertmanagerConfig', {});
  local cl = std.get(_config, 'clusterLabel', 'cluster');
  local manifests = std.get(_config, 'manifests', {});
  local namespace =
    if c.namespace != null then c.namespace else std.get(manifests, 'namespace', 'monitoring');
  local name = if c.name != null then c.name else std.get(manifests, 'name', 'flagger-monitoring');
  local labels = std.get(manifests, 'labels', {}) + c.labels;
  local secret(key) = { name: c.secretName, key: c.secretKeys[key] };
  local m(name, op, value) = { name: name, matchType: op, value: value };
  local tmpl(name) = '{{ template "%s" . }}' % name;
  local flaggerAlerts = m('alertname', '=~', 'canary_rollback|Flagger.*');
  // Slack and Teams Workflows, with or without resolved messages.
  local chat(name, sendResolved) = {
    name: name,
    [if c.receivers.slack then 'slackConfigs']: [{
      apiURL: secret('slack'),
      sendResolved: sendResolved,
      [if c.slackChannel != '' then 'channel']: c.slackChannel,
      username: 'flagger',
      iconEmoji: ':rocket:',
      color: tmpl('slack.flagger.color'),
      title: tmpl('slack.flagger.title'),
      titleLink: tmpl('slack.flagger.titlelink'),
      text: tmpl('slack.flagger.text'),
      fallback: tmpl('slack.flagger.fallback'),
    }],
    [if c.receivers.msteams then 'msteamsv2Configs']: [{
      webhookURL: secret('msteamsWorkflow'),
      sendResolved: sendResolved,
      title: tmpl('msteamsv2.flagger.title'),
      text: tmpl('msteamsv2.flagger.text'),
    }],
  };

  {
    apiVersion: 'monitoring.coreos.com/v1alpha1',
    kind: 'AlertmanagerConfig',
    metadata: {
      name: name,
      namespace: namespace,
      [if labels != {} then 'labels']: labels,
    },
    spec: {
      // See alertmanager/alertmanager.yml for why each route is there.
      route: {
        receiver: 'flagger-chat',
        matchers: [flaggerAlerts],
        groupBy: [cl, 'namespace', 'canary'],
        groupWait: '10s',
        groupInterval: '1m',
        repeatInterval: '12h',
        routes: std.prune([
          if c.receivers.eventAdapter then {
            receiver: 'flagger-event-adapter',
            // Flagger sends no event for canary_rollback; the
            // FlaggerCanaryFailed notice is the rollback's event.
            // Nor the traffic-increase notice: the exporter relays Flagger's
            // own events for that gate (FlaggerCanaryStep).
            matchers: [m('alertname', '=~', 'Flagger.*'), m('alertname', '!~', 'FlaggerCanaryRolledBack|FlaggerCanaryWaitingTrafficIncrease')],
            groupBy: ['...'],
            groupWait: '0s',
            groupInterval: '30s',
            repeatInterval: '24h',
            continue: true,
          },
          if c.receivers.pager then {
            receiver: 'flagger-pager',
            matchers: [m('severity', '=', 'critical')],
            groupBy: ['alertname', cl, 'namespace', 'canary', 'name'],
            groupWait: '30s',
            groupInterval: '5m',
            repeatInterval: '4h',
            continue: true,
          },
          if c.receivers.msteamsLegacy then {
            receiver: 'flagger-teams-legacy',
            matchers: [m('flagger_teams_legacy', '=', 'true')],
            groupBy: [cl, 'namespace', 'canary', 'name'],
            continue: true,
          },
          {
            receiver: 'flagger-chat',
            matchers: [m('alertname', '=', 'canary_rollback')],
            groupBy: [cl, 'namespace', 'name'],
            // Long enough for FlaggerCanaryRolledBack (another rule group,
            // up to one evaluation interval later) to inhibit it first.
            groupWait: '90s',
          },
          // Per-step events relayed by the exporter: the adapter only.
          {
            receiver: 'flagger-none',
            matchers: [m('alertname', '=', 'FlaggerCanaryStep')],
            groupBy: ['...'],
          },
          // One chat message per lifecycle notice, no resolved messages.
          {
            receiver: 'flagger-chat-notices',
            matchers: [m('lifecycle', '=', 'true')],
            groupBy: ['...'],
          },
          // The FlaggerCanaryFailed notice is the rollback's one message.
          {
            receiver: 'flagger-none',
            matchers: [m('alertname', '=', 'FlaggerCanaryRolledBack')],
          },
          { receiver: 'flagger-chat' },
        ]),
      },

      receivers: std.prune([
        chat('flagger-chat', true),
        // The same channels for notices: a step ends when the next begins.
        chat('flagger-chat-notices', false),
        { name: 'flagger-none' },
        if c.receivers.msteamsLegacy then {
          name: 'flagger-teams-legacy',
          msteamsConfigs: [{
            webhookUrl: secret('msteamsLegacy'),
            sendResolved: true,
            title: tmpl('msteams.flagger.title'),
            summary: tmpl('msteams.flagger.summary'),
            text: tmpl('msteams.flagger.text'),
          }],
        },
        if c.receivers.eventAdapter then {
          name: 'flagger-event-adapter',
          webhookConfigs: [{
            urlSecret: secret('eventAdapter'),
            sendResolved: true,
            maxAlerts: 0,
            timeout: '10s',
          }],
        },
        if c.receivers.pager then {
          name: 'flagger-pager',
          pagerdutyConfigs: [{
            routingKey: secret('pagerduty'),
            sendResolved: true,
            severity: 'critical',
            description: tmpl('pagerduty.flagger.description'),
          }],
        },
      ]),

      inhibitRules: [
        {
          sourceMatch: [m('alertname', '=~', 'FlaggerExporterDown|FlaggerExporterNotSynced')],
          targetMatch: [
            m('alertname', '=~', 'Flagger.+'),
            m('alertname', '!~', 'FlaggerExporter.+'),
            m('canary', '=~', '.+'),
          ],
          equal: [cl],
        },
        {
          sourceMatch: [m('alertname', '=', 'FlaggerExporterDown')],
          targetMatch: [m('alertname', '=', 'FlaggerExporterNotSynced')],
          equal: [cl],
        },
        {
          sourceMatch: [m('alertname', '=~', 'FlaggerCanaryRolledBack|FlaggerCanaryPromotionFailed')],
          targetMatch: [m('alertname', '=', 'canary_rollback')],
          equal: [cl, 'namespace', 'name'],
        },
        {
          sourceMatch: [flaggerAlerts, m('severity', '=', 'critical')],
          targetMatch: [flaggerAlerts, m('severity', '=', 'warning')],
          equal: ['alertname', cl, 'namespace', 'canary'],
        },
      ],
    },
  }
