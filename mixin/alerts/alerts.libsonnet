// The alert groups. canary_rollback and the lifecycle notices are separate
// groups so that _config can switch each off on its own.
local canary = import 'canary.libsonnet';
local canaryRollback = import 'canary_rollback.libsonnet';
local exporter = import 'exporter.libsonnet';
local lifecycle = import 'lifecycle.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    groups+:
      (if c.canaryRollbackAlertEnabled then [canaryRollback.canaryRollbackGroup(c)] else [])
      + [{
        name: 'flagger-canary',
        rules: canary.canaryAlerts(c) + exporter.exporterAlerts(c),
      }]
      + (if c.lifecycleAlertsEnabled then [{
           name: 'flagger-canary-lifecycle',
           rules: lifecycle.lifecycleAlerts(c),
         }] else []),
  },
}
