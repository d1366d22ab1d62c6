// Conventional alerts on canaries. They read only the exporter's job, so a
// Prometheus that scrapes Flagger too does not alert twice, and every one
// carries the labels canary, namespace and (where it means something) phase.
local a = import '../lib/alert.libsonnet';
local promql = import '../lib/promql.libsonnet';

{
  // Recorded first in the group (see promql.recorded): which canaries are
  // in Failed or WaitingPromotion, which route all traffic to the canary,
  // and the Failed ones with their target. Four alerts read the first, three
  // the second and two the third, each only for the canaries it is about.
  canaryRecords(c)::
    local r = promql.recorded(c);
    [
      {
        record: r.held,
        expr: promql.stillInPhase(c, ['Failed', 'WaitingPromotion']),
      },
      {
        record: r.allTraffic,
        expr: promql.allTrafficOnCanary(c),
      },
      {
        record: r.failedTarget,
        expr: std.rstripChars(promql.withTarget(c, promql.recordedSeries(c, 'held', 'Failed')), '\n'),
      },
    ],

  canaryAlerts(c)::
    local s(metric, extra=[]) = promql.canary(c, metric, extra);
    local held(phase) = promql.recordedSeries(c, 'held', phase);
    local allTraffic = promql.recordedSeries(c, 'allTraffic');
    local failedTarget = promql.recordedSeries(c, 'failedTarget');
    // Copies target_name into `name`, Flagger's label for the target.
    local targetAsName(expr) = |||
      label_replace(
      %s,
        "name", "$1", "target_name", "(.*)"
      )
    ||| % promql.indent(std.rstripChars(expr, '\n'), 2);
    [
      // Failed is the phase Flagger leaves a canary in after a rollback until
      // the next revision. Failed with canaryWeight 100 is not a rollback but
      // a failed promotion (PromotionFailed below). target_name is copied
      // into `name`, Flagger's label for the target, so Alertmanager can
      // inhibit canary_rollback (from Flagger or the exporter) with equal:
      // [namespace, name].
      {
        alert: 'FlaggerCanaryRolledBack',
        expr: targetAsName(|||
          %(failedTarget)s
          unless %(on)s
          %(allTraffic)s
        ||| % {
          failedTarget: failedTarget,
          on: promql.on(c),
          allTraffic: allTraffic,
        }),
        'for': c.rolledBackFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'Flagger rolled a canary back to its primary.',
          description: 'Canary %s (target {{ $labels.target_name }}) is in phase Failed: Flagger routed all traffic back to the primary and scaled the canary down.' % a.canaryRef(c),
        },
      },

      // Flagger 1.44's handleFailedPromotion: the primary became non-retriably
      // not ready while Promoting or Finalising. Flagger marks the canary
      // Failed but, instead of rolling back onto the broken primary, routes
      // all traffic to the canary and writes canaryWeight 100 (a rollback
      // writes 0). Its own notification is "Promotion failed, primary not
      // ready: ...", severity error. Labelled like RolledBack (phase, name).
      {
        alert: 'FlaggerCanaryPromotionFailed',
        expr: targetAsName(|||
          %(failedTarget)s
          and %(on)s
          %(allTraffic)s
        ||| % {
          failedTarget: failedTarget,
          on: promql.on(c),
          allTraffic: allTraffic,
        }),
        'for': c.promotionFailedFor,
        labels: { severity: 'critical' },
        annotations: {
          // Flagger's chat text, with the error from its step "Promotion of
          // <target>.<ns> failed, primary not ready: <err>" (the exporter's
          // Events watch), its last word while the canary stays Failed;
          // empty without it, and chat shows the description.
          notification: '{{ $s := "" }}{{ range %s }}{{ if match `^Promotion of \\S+ failed, primary not ready: ` .Labels.message }}{{ $s = .Labels.message }}{{ end }}{{ end }}' % a.seriesOf(c, 'flagger_canary_last_step_timestamp_seconds')
                        + '{{ with $s }}Promotion failed, primary not ready: {{ . | reReplaceAll `^Promotion of \\S+ failed, primary not ready: ` "" }}{{ end }}',
          summary: 'A canary promotion failed: the primary is not ready and all traffic goes to the canary.',
          description: 'Canary %s failed its promotion: {{ $labels.target_name }}-primary did not become ready, so Flagger marked the canary Failed and routes all traffic to the canary {{ $labels.target_name }} (canaryWeight 100), the only healthy copy. The primary is broken and the canary is not scaled down.' % a.canaryRef(c),
        },
      },

      // Flagger writes the status (stamping lastTransitionTime) on every
      // step of a rollout phase: each weight step, iteration and failed check
      // and each phase change, once per analysis interval. It legitimately
      // goes longer without a write when
      // - a run overruns its interval: the ticker drops the next tick
      //   (two intervals);
      // - the canary or primary workload is not ready: Flagger waits until
      //   the workload exceeds progressDeadlineSeconds and then rolls back
      //   (or fails the promotion), which is written on the next run (the
      //   deadline plus one interval);
      // - a confirm-traffic-increase gate is closed: Flagger stays in
      //   Progressing without writing anything (so Progressing is left out
      //   for canaries with such a webhook);
      // - the canary is suspended: Flagger skips it.
      // So the threshold is interval + max(deadline, interval) + slack, with
      // Flagger's interval default (60s) and minimum (10s). Past it the
      // rollout is stuck (Flagger down, routing or promotion failing on every
      // run, a primary Flagger keeps waiting for) and needs a human. The value
      // is the time since the last status write.
      {
        alert: 'FlaggerCanaryProgressDeadlineExceeded',
        expr: local interval = |||
          (
            clamp_min(%(interval)s, 10)
            or %(on)s
            0 * %(deadline)s + 60
          )
        ||| % {
          interval: s('flagger_canary_analysis_interval_seconds'),
          deadline: s('flagger_canary_progress_deadline_seconds'),
          on: promql.on(c),
        };
             // A multi-line expression placed after n columns of a line.
             local hang(expr, n) = std.strReplace(std.rstripChars(expr, '\n'), '\n', '\n' + std.repeat(' ', n));
             local other = std.filter(function(p) p != 'Progressing', c.rolloutPhases);
             local phases = std.prune([
          if other != [] then promql.inPhase(c, other),
          if std.member(c.rolloutPhases, 'Progressing') then std.rstripChars(|||
            (
              %s
              unless %s
              %s > 0
            )
          ||| % [
            promql.inPhase(c, 'Progressing'),
            promql.on(c),
            s('flagger_canary_analysis_webhooks', ['type="confirm-traffic-increase"']),
          ], '\n'),
        ]);
             |||
          (
            time() - %(ltt)s
            > %(on)s
            (
                2 * %(interval)s
              + %(on)s
                clamp_min(
                  %(deadline)s
                  - %(on)s
                  %(intervalNested)s
                , 0)
              + %(slack)s
            )
          )
          * %(on)s group_left (phase)
            (
          %(phases)s
            )
          unless %(on)s
            %(suspended)s == 1
        ||| % {
          ltt: s('flagger_canary_status_last_transition_timestamp_seconds'),
          deadline: s('flagger_canary_progress_deadline_seconds'),
          // The analysis interval Flagger uses: the spec's, at least 10s, and
          // 60s when unset (the exporter exports no series then).
          interval: hang(interval, 6),
          intervalNested: hang(interval, 8),
          slack: c.progressDeadlineSlackSeconds,
          on: promql.on(c),
          phases: promql.indent(std.join('\nor\n', phases), 4),
          suspended: s('flagger_canary_suspended'),
        },
        'for': c.progressDeadlineExceededFor,
        labels: { severity: 'critical' },
        annotations: {
          summary: 'A canary rollout has made no progress for longer than Flagger ever needs for a step.',
          description: 'Canary %s has been in phase {{ $labels.phase }} for {{ $value | humanizeDuration }} without a status update, longer than its analysis interval plus the larger of progressDeadlineSeconds and another interval: Flagger has neither advanced it nor rolled it back.' % a.canaryRef(c),
        },
      },

      // A leading indicator: the canary is heading for a rollback. The value is
      // the number of failed checks. The comparisons are chained (filter > 0,
      // then >= the fraction of the threshold) so the failed-checks series are
      // selected once.
      {
        alert: 'FlaggerCanaryFailedChecksRising',
        expr: |||
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
        'for': c.failedChecksRisingFor,
        labels: { severity: 'info' },
        annotations: {
          summary: 'A canary analysis is failing checks and heading for a rollback.',
          description: 'Canary %s has {{ $value }} failed metric checks in phase {{ $labels.phase }}, at least %d%% of its analysis threshold; Flagger rolls it back when the threshold is reached.' % [a.canaryRef(c), std.round(c.failedChecksFraction * 100)],
        },
      },

      // WaitingPromotion re-stamps lastTransitionTime every interval, so the
      // duration comes from `for`, not from the timestamp.
      {
        alert: 'FlaggerCanaryWaitingPromotionTooLong',
        expr: held('WaitingPromotion'),
        'for': c.waitingPromotionTooLongFor,
        labels: { severity: 'warning' },
        annotations: {
          summary: 'A canary has been waiting for promotion approval for a long time.',
          description: 'Canary %s has been in phase WaitingPromotion for more than %s: its confirm-promotion webhook keeps answering no, and the canary keeps receiving traffic meanwhile.' % [a.canaryRef(c), c.waitingPromotionTooLongFor],
        },
      },

      // Failed without failed checks at the threshold: the metric analysis
      // did not cause the rollback. Flagger marks the canary Failed with
      // failedChecks reset to 0, so the check looks at the highest value in
      // the time before. Flagger notifies some of these rollbacks ("Rolling
      // back manual webhook invoked", "Progress deadline exceeded") and not
      // others (the canary or primary workload non-retriably not ready outside
      // promotion, an initialisation error). A failed promotion (canaryWeight
      // 100) is PromotionFailed's.
      {
        alert: 'FlaggerCanaryRolledBackBelowThreshold',
        expr: |||
          %(held)s
          and %(on)s
          (
          %(entered)s)
          and %(on)s
          (
            max_over_time(%(failed)s[%(lookback)s])
            < %(threshold)s
          )
          unless %(on)s
          %(allTraffic)s
        ||| % {
          held: held('Failed'),
          on: promql.on(c),
          entered: promql.indent(promql.enteredPhase(c, 'Failed', c.rolledBackBelowThresholdWindow), 2),
          failed: s('flagger_canary_status_failed_checks'),
          lookback: c.rolledBackBelowThresholdLookback,
          threshold: s('flagger_canary_analysis_threshold'),
          allTraffic: allTraffic,
        },
        'for': c.rolledBackBelowThresholdFor,
        labels: { severity: 'warning', phase: 'Failed' },
        annotations: {
          summary: 'A canary was rolled back without reaching its failed-checks threshold.',
          description: 'Canary %s entered phase Failed while its failed checks stayed below the analysis threshold: the metric analysis did not cause this rollback. Flagger notifies a rollback by a rollback webhook ("Rolling back manual webhook invoked") or a progress deadline ("Progress deadline exceeded"), but not one because the canary or primary workload stopped being ready outside promotion or the primary could not be initialised.' % a.canaryRef(c),
        },
      },
    ],
}
