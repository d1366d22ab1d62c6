// Recording rules (level:metric:operations) that keep the fleet dashboard to
// a few series per namespace at 10k canaries. Alerts do not depend on them,
// so the alert file works on its own.
local promql = import '../lib/promql.libsonnet';

{
  prometheusRules+:: {
    local c = $._config,
    local s(metric, extra=[]) = promql.canary(c, metric, extra),
    local codeRecord = 'namespace_canary:flagger_canary_status_phase:code',
    // The phase of each code: Unknown, then promql.phases.
    local codes = ['Unknown'] + promql.phases,
    groups+: [{
      name: 'flagger-canary.rules',
      rules: [
        // One series per canary whose value encodes its phase (see
        // promql.phases; 0 = Unknown), for state timelines and tables: the
        // state set has twelve series per canary and exactly one is 1 (the
        // exporter exports Unknown = 1 when the status has no phase it
        // knows). The state set is read once, filtered to that one, and
        // multiplied by a constant vector of the twelve codes, one per phase
        // label. (A state set with no 1 at all, which the exporter never
        // exports, gets no code.)
        {
          record: codeRecord,
          expr: |||
            sum without (phase) (
              (%(phase)s == 1)
              * on (phase) group_left ()
              (
                %(codes)s
              )
            )
          ||| % {
            phase: s('flagger_canary_status_phase'),
            codes: std.join('\n    or ', [
              'label_replace(vector(%d), "phase", "%s", "", "")' % [i, codes[i]]
              for i in std.range(0, std.length(codes) - 1)
            ]),
          },
        },
        // Canaries per namespace and phase, counted from the phase code
        // (count_values labels each count with its code, which the
        // label_replace chain turns into the phase) rather than by summing
        // the twelve series of every canary again. Every namespace the
        // exporter counts canaries in (flagger_canary_total) has all twelve
        // phases, 0 where no canary is in it, as the state set gives.
        {
          record: 'namespace_phase:flagger_canary_status_phase:sum',
          expr: |||
            sum %(by)s (
                %(counts)s
              or
                %(zeros)s
            )
          ||| % {
            by: promql.by(c, ['namespace', 'phase']),
            counts: std.foldl(
              function(e, i) 'label_replace(%s, "phase", "%s", "code", "%d")' % [e, codes[i], i],
              std.range(0, std.length(codes) - 1),
              'count_values %s ("code", %s)' % [promql.by(c, ['namespace']), promql.canary(c, codeRecord)],
            ),
            zeros: std.join('\n    or ', [
              'label_replace(0 * %s, "phase", "%s", "", "")' % [s('flagger_canary_total'), p]
              for p in codes
            ]),
          },
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
