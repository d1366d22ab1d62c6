// The alert groups. Each file under alerts/ returns a list of rules;
// canary_rollback and the lifecycle notices are separate groups so that
// _config can switch each off on its own. canary_rollback stays exactly
// Flagger's documented rule, so it gets no runbook link.
local a = import '../lib/alert.libsonnet';
local canary = import 'canary.libsonnet';
local canaryRollback = import 'canary_rollback.libsonnet';
local exporter = import 'exporter.libsonnet';
local lifecycle = import 'lifecycle.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    local withRunbooks(rules) = [a.withRunbook(c, r) for r in rules],
    groups+:
      (if c.canaryRollbackAlertEnabled then [{
         name: 'flagger-canary-rollback',
         rules: canaryRollback.canaryRollbackAlerts(c),
       }] else [])
      + [{
        name: 'flagger-canary',
        rules: withRunbooks(canary.canaryAlerts(c) + exporter.exporterAlerts(c)),
      }]
      + (if c.lifecycleAlertsEnabled then [{
           name: 'flagger-canary-lifecycle',
           rules: withRunbooks(lifecycle.lifecycleAlerts(c)),
         }] else []),
  },
}
