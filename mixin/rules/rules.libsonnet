// Recording rules (level:metric:operations) that keep the fleet dashboard to
// a few series per namespace at 10k canaries. Alerts do not depend on them,
// so the alert file works on its own.
local promql = import '../lib/promql.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local s(metric, extra=[]) = promql.canary(c, metric, extra),
    groups+: [{
      name: 'flagger-canary.rules',
      rules: [
        // One series per canary whose value encodes its phase (see
        // promql.phases; 0 = Unknown), for state timelines and tables: the
        // state set has twelve series per canary and exactly one is 1.
        // Each phase's series are filtered to == 1 before they are scaled and
        // unioned, so the `or` chain and the sum see one series per canary
        // (plus the Unknown series, always exported, which gives the 0)
        // instead of all twelve.
        {
          record: 'namespace_canary:flagger_canary_status_phase:code',
          expr: 'sum without (phase) (\n%s\n)\n' % std.join('\n  or\n', [
            '  (%s == 1) * %d' % [s('flagger_canary_status_phase', ['phase="%s"' % p]), i + 1]
            for i in std.range(0, std.length(promql.phases) - 1)
            for p in [promql.phases[i]]
          ] + ['  %s * 0' % s('flagger_canary_status_phase', ['phase="Unknown"'])]),
        },
        {
          record: 'namespace_phase:flagger_canary_status_phase:sum',
          expr: 'sum %s (%s)' % [promql.by(c, ['namespace', 'phase']), s('flagger_canary_status_phase')],
        },
        // Phase changes per second by the phase entered: Failed counts
        // rollbacks, Succeeded promotions.
        {
          record: 'namespace_phase:flagger_canary_transitions:rate%s' % c.transitionsRateWindow,
          expr: 'sum %s (rate(%s[%s]))' % [
            promql.by(c, ['namespace', 'phase']),
            s('flagger_canary_transitions_total'),
            c.transitionsRateWindow,
          ],
        },
        {
          record: 'namespace_strategy_provider:flagger_canary_info:count',
          expr: 'count %s (%s)' % [promql.by(c, ['namespace', 'strategy', 'provider']), s('flagger_canary_info')],
        },
      ],
    }],
  },
}
