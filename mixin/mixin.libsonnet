// The Flagger monitoring mixin: prometheusAlerts, prometheusRules,
// grafanaDashboards and _config, in the monitoring-mixin shape. Override
// _config to fit your setup:
//
//   (import 'flagger-monitoring/mixin/mixin.libsonnet') + {
//     _config+:: { exporterSelector: 'job="my-exporter"', showMultiCluster: true },
//   }
//
// A later addition (Alertmanager routing) is expected to join as
// `alertmanagerConfig` from alertmanager/ in the same way.
(import 'config.libsonnet')
+ (import 'alerts/alerts.libsonnet')
+ (import 'rules/rules.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
