// Lifecycle notices: alerts that stand in for Flagger's own Slack/Teams
// messages, with a `message` annotation worded like Flagger's. They fire on
// the evaluation after the exporter sees the phase change and resolve when
// the canary leaves the phase or lifecycleWindow has passed, so an unchanged
// canary never re-fires; an exporter restart changes neither the state set
// nor the (reset-tolerant) increase of the transitions counter, so it does
// not produce a false notice either.
local a = import '../lib/alert.libsonnet';
local promql = import '../lib/promql.libsonnet';

{
  local notice(c, name, phase, message, summary, description, expr=null) =
    a.alert(
      c,
      name,
      'info',
      if expr != null then expr else promql.withTarget(c, |||
        (%(still)s)
        and %(on)s
        (
        %(entered)s)
      ||| % {
        still: promql.stillInPhase(c, phase),
        on: promql.on(c),
        entered: promql.indent(promql.enteredPhase(c, phase, c.lifecycleWindow), 2),
      }),
      // No `for`: the notice goes out on the step, like Flagger's own.
      '0s',
      summary,
      description,
      { phase: phase },
      { message: message },
    ),

  local ns = '{{ $labels.namespace }}',

  lifecycleAlerts(c):: [
    notice(
      c,
      'FlaggerCanaryInitialized',
      'Initialized',
      'Initialization done! {{ $labels.canary }}.%s' % ns,
      'Flagger initialised a new canary.',
      'Canary %s was initialised: Flagger created the primary {{ $labels.target_name }}-primary and routes all traffic to it.' % a.canaryRef(c),
    ),
    // Fires for the whole rollout (Progressing to Finalising) rather than on
    // entry, and resolves when it ends in Succeeded or Failed. The phase
    // label is fixed so that moving between rollout phases keeps one alert.
    notice(
      c,
      'FlaggerCanaryNewRevision',
      'Progressing',
      'New revision detected! Scaling up {{ $labels.target_name }}.%s' % ns,
      'Flagger started the analysis of a new canary revision.',
      'Canary %s is rolling out a new revision of {{ $labels.target_name }}.' % a.canaryRef(c),
      promql.withTarget(c, |||
        max without (phase) (
          last_over_time(%(phase)s[%(gap)s])
        ) == 1
      ||| % {
        phase: promql.canary(c, 'flagger_canary_status_phase', [promql.phaseMatcher(c.revisionPhases)]),
        gap: c.exporterGapTolerance,
      }),
    ),
    notice(
      c,
      'FlaggerCanaryWaitingPromotion',
      'WaitingPromotion',
      'Halt {{ $labels.canary }}.%s advancement waiting for promotion approval' % ns,
      'A canary analysis completed and waits for promotion approval.',
      'Canary %s passed its analysis and waits for its confirm-promotion webhook before promoting {{ $labels.target_name }}.' % a.canaryRef(c),
    ),
    notice(
      c,
      'FlaggerCanaryPromoted',
      'Succeeded',
      'Promotion completed! Scaling down {{ $labels.target_name }}.%s' % ns,
      'Flagger promoted a canary.',
      'Canary %s succeeded: the new revision of {{ $labels.target_name }} is now the primary and the canary is scaled down.' % a.canaryRef(c),
    ),
    // Flagger's "Canary failed!" comes with a rollback. A failed promotion
    // (Failed with canaryWeight 100) sends "Promotion failed, primary not
    // ready" instead and keeps the canary serving: that is the critical
    // FlaggerCanaryPromotionFailed, not this notice.
    notice(
      c,
      'FlaggerCanaryFailed',
      'Failed',
      'Canary failed! Scaling down {{ $labels.canary }}.%s' % ns,
      'Flagger rolled a canary back.',
      'Canary %s failed: Flagger routed all traffic back to {{ $labels.target_name }}-primary and scaled the canary down.' % a.canaryRef(c),
      promql.withTarget(c, |||
        (%(still)s)
        and %(on)s
        (
        %(entered)s)
        unless %(on)s
        (%(allTraffic)s)
      ||| % {
        still: promql.stillInPhase(c, 'Failed'),
        on: promql.on(c),
        entered: promql.indent(promql.enteredPhase(c, 'Failed', c.lifecycleWindow), 2),
        allTraffic: promql.allTrafficOnCanary(c),
      }),
    ),
  ],
}
