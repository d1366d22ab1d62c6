// The Flagger monitoring mixin: prometheusAlerts, prometheusRules,
// grafanaDashboards and _config, in the monitoring-mixin shape. Override
// _config to fit your setup:
//
//   (import 'flagger-monitoring/mixin/mixin.libsonnet') + {
//     _config+:: { exporterSelector: 'job="my-exporter"', showMultiCluster: true },
//   }
//
// alertmanagerConfig is the Alertmanager routing of alertmanager/ as a
// prometheus-operator AlertmanagerConfig object, built from the same _config
// (settings in _config.alertmanagerConfig).
(import 'config.libsonnet')
+ (import 'alerts/alerts.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
+ {
  alertmanagerConfig+:: (import 'alertmanager/alertmanager-config.libsonnet')($._config),
}
