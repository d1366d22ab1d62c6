// The alert groups. Each file under alerts/ returns a list of rules (and
// the recording rules its alerts share, see promql.recorded);
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
    // Per-canary alerts also carry Flagger's checksum for the event adapter;
    // problems also Flagger's latest step, for chat.
    local perCanary(rules) = [a.withChecksum(c, r) for r in withRunbooks(rules)],
    // (not the failed promotion, whose notification already is that step).
    local problems(rules) = [
      if r.alert == 'FlaggerCanaryPromotionFailed' then r else a.withLastStep(c, r)
      for r in perCanary(rules)
    ],
    groups+:
      (if c.canaryRollbackAlertEnabled then [{
         name: 'flagger-canary-rollback',
         rules: canaryRollback.canaryRollbackAlerts(c),
       }] else [])
      // Each group starts with the sub-expressions its alerts share (see
      // promql.recorded).
      + [{
        name: 'flagger-canary',
        rules: canary.canaryRecords(c) + problems(canary.canaryAlerts(c)) + withRunbooks(exporter.exporterAlerts(c)),
      }]
      + (if c.lifecycleAlertsEnabled then [{
           name: 'flagger-canary-lifecycle',
           rules: lifecycle.lifecycleRecords(c) + perCanary(lifecycle.lifecycleAlerts(c)),
         }] else []),
  },
}
