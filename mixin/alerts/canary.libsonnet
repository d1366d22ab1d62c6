// Conventional alerts on canaries. They read only the exporter's job, so a
// Prometheus that scrapes Flagger too does not alert twice, and every one
// carries the labels canary, namespace and (where it means something) phase.
local a = import '../lib/alert.libsonnet';
local promql = import '../lib/promql.libsonnet';

{
  canaryAlerts(c)::
    local s(metric, extra=[]) = promql.canary(c, metric, extra);
    [
      // Failed is the phase Flagger leaves a canary in after a rollback until
      // the next revision. target_name is copied into `name`, Flagger's label
      // for the target, so Alertmanager can inhibit canary_rollback (from
      // Flagger or the exporter) with equal: [namespace, name].
      a.alert(
        c,
        'FlaggerCanaryRolledBack',
        'warning',
        |||
          label_replace(
          %s,
            "name", "$1", "target_name", "(.*)"
          )
        ||| % promql.indent(std.rstripChars(promql.withTarget(c, promql.stillInPhase(c, 'Failed') + '\n'), '\n'), 2),
        c.rolledBackFor,
        'A canary analysis failed and Flagger rolled the canary back.',
        'Canary %s (target {{ $labels.target_name }}) is in phase Failed: Flagger routed all traffic back to the primary and scaled the canary down.' % a.canaryRef(c),
      ),

      // Flagger stamps lastTransitionTime on every step (weight, iteration,
      // failed check, phase), so no stamp for longer than the deadline in a
      // phase that should step every interval means the rollout is stuck.
      // Flagger rolls back on this itself; when it does not, the rollout needs a
      // human. The value is the time since the last step.
      a.alert(
        c,
        'FlaggerCanaryProgressDeadlineExceeded',
        'critical',
        |||
          (
            time() - %(ltt)s
            > %(deadline)s
          )
          * %(on)s group_left (phase)
            (%(phase)s)
        ||| % {
          ltt: s('flagger_canary_status_last_transition_timestamp_seconds'),
          deadline: s('flagger_canary_progress_deadline_seconds'),
          on: promql.on(c),
          phase: promql.inPhase(c, c.rolloutPhases),
        },
        c.progressDeadlineExceededFor,
        'A canary has made no progress for longer than its progress deadline.',
        'Canary %s has been in phase {{ $labels.phase }} without a step for {{ $value | humanizeDuration }}, longer than its progressDeadlineSeconds; Flagger has neither advanced nor rolled it back.' % a.canaryRef(c),
      ),

      // A leading indicator: the canary is heading for a rollback. The value is
      // the number of failed checks. The comparisons are chained (filter > 0,
      // then >= the fraction of the threshold) so the failed-checks series are
      // selected once.
      a.alert(
        c,
        'FlaggerCanaryFailedChecksRising',
        'info',
        |||
          (
            (%(failed)s > 0)
              >= %(fraction)s * %(threshold)s
          )
          * %(on)s group_left (phase)
            (%(phase)s)
        ||| % {
          failed: s('flagger_canary_status_failed_checks'),
          threshold: s('flagger_canary_analysis_threshold'),
          fraction: c.failedChecksFraction,
          on: promql.on(c),
          phase: promql.inPhase(c, c.analysisPhases),
        },
        c.failedChecksRisingFor,
        'A canary analysis is failing checks and heading for a rollback.',
        'Canary %s has {{ $value }} failed metric checks in phase {{ $labels.phase }}, at least %d%% of its analysis threshold; Flagger rolls it back when the threshold is reached.' % [a.canaryRef(c), std.round(c.failedChecksFraction * 100)],
      ),

      // WaitingPromotion re-stamps lastTransitionTime every interval, so the
      // duration comes from `for`, not from the timestamp.
      a.alert(
        c,
        'FlaggerCanaryWaitingPromotionTooLong',
        'warning',
        promql.stillInPhase(c, 'WaitingPromotion'),
        c.waitingPromotionTooLongFor,
        'A canary has been waiting for promotion approval for a long time.',
        'Canary %s has been in phase WaitingPromotion for more than %s: its confirm-promotion webhook keeps answering no, and the canary keeps receiving traffic meanwhile.' % [a.canaryRef(c), c.waitingPromotionTooLongFor],
      ),

      // Flagger alerts on a rollback only when failed checks reached the
      // threshold. It marks the canary Failed with failedChecks reset to 0, so
      // the check looks at the highest failed-checks value in the time before
      // the rollback instead of the current one.
      a.alert(
        c,
        'FlaggerCanarySilentRollback',
        'warning',
        |||
          (%(still)s)
          and %(on)s
          (
          %(entered)s)
          and %(on)s
          (
            max_over_time(%(failed)s[%(lookback)s])
            < %(threshold)s
          )
        ||| % {
          still: promql.stillInPhase(c, 'Failed'),
          on: promql.on(c),
          entered: promql.indent(promql.enteredPhase(c, 'Failed', c.silentRollbackWindow), 2),
          failed: s('flagger_canary_status_failed_checks'),
          lookback: c.silentRollbackLookback,
          threshold: s('flagger_canary_analysis_threshold'),
        },
        c.silentRollbackFor,
        'A canary was rolled back without reaching its failed-checks threshold.',
        'Canary %s entered phase Failed while its failed checks stayed below the analysis threshold (progress deadline, rollback webhook or a manual change). Flagger sends no rollback notification in this case.' % a.canaryRef(c),
        { phase: 'Failed' },
      ),
    ],
}
