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
  // A notice is an info alert with the phase it announces, Flagger's wording
  // in `message` and the label lifecycle="true", which the Alertmanager
  // templates and the event adapter both read to tell a rollout step from a
  // problem. n: { name, phase, message, summary, description, expr? }; the
  // default expr fires when the canary entered n.phase within
  // lifecycleWindow and is still in it.
  local notice(c, n) = {
    alert: n.name,
    expr: if std.objectHas(n, 'expr') then n.expr else promql.withTarget(c, |||
      (%(still)s)
      and %(on)s
      (
      %(entered)s)
    ||| % {
      still: promql.stillInPhase(c, n.phase),
      on: promql.on(c),
      entered: promql.indent(promql.enteredPhase(c, n.phase, c.lifecycleWindow), 2),
    }),
    // No `for`: the notice goes out on the step, like Flagger's own.
    'for': '0s',
    labels: { severity: 'info', phase: n.phase, lifecycle: 'true' },
    annotations: { summary: n.summary, description: n.description, message: n.message },
  },

  local ns = '{{ $labels.namespace }}',

  lifecycleAlerts(c):: [
    notice(c, {
      name: 'FlaggerCanaryInitialized',
      phase: 'Initialized',
      message: 'Initialization done! {{ $labels.canary }}.%s' % ns,
      summary: 'Flagger initialised a new canary.',
      description: 'Canary %s was initialised: Flagger created the primary {{ $labels.target_name }}-primary and routes all traffic to it.' % a.canaryRef(c),
    }),
    // Fires for the whole rollout (Progressing to Finalising) rather than on
    // entry, and resolves when it ends in Succeeded or Failed. The phase
    // label is fixed so that moving between rollout phases keeps one alert.
    notice(c, {
      name: 'FlaggerCanaryNewRevision',
      phase: 'Progressing',
      message: 'New revision detected! Scaling up {{ $labels.target_name }}.%s' % ns,
      summary: 'Flagger started the analysis of a new canary revision.',
      description: 'Canary %s is rolling out a new revision of {{ $labels.target_name }}.' % a.canaryRef(c),
      expr: promql.withTarget(c, |||
        max without (phase) (
          last_over_time(%(phase)s[%(gap)s])
        ) == 1
      ||| % {
        phase: promql.canary(c, 'flagger_canary_status_phase', [promql.phaseMatcher(c.revisionPhases)]),
        gap: c.exporterGapTolerance,
      }),
    }),
    notice(c, {
      name: 'FlaggerCanaryWaitingPromotion',
      phase: 'WaitingPromotion',
      message: 'Halt {{ $labels.canary }}.%s advancement waiting for promotion approval' % ns,
      summary: 'A canary analysis completed and waits for promotion approval.',
      description: 'Canary %s passed its analysis and waits for its confirm-promotion webhook before promoting {{ $labels.target_name }}.' % a.canaryRef(c),
    }),
    notice(c, {
      name: 'FlaggerCanaryPromoted',
      phase: 'Succeeded',
      message: 'Promotion completed! Scaling down {{ $labels.target_name }}.%s' % ns,
      summary: 'Flagger promoted a canary.',
      description: 'Canary %s succeeded: the new revision of {{ $labels.target_name }} is now the primary and the canary is scaled down.' % a.canaryRef(c),
    }),
    // Flagger's "Canary failed!" comes with a rollback. A failed promotion
    // (Failed with canaryWeight 100) sends "Promotion failed, primary not
    // ready" instead and keeps the canary serving: that is the critical
    // FlaggerCanaryPromotionFailed, not this notice.
    notice(c, {
      name: 'FlaggerCanaryFailed',
      phase: 'Failed',
      message: 'Canary failed! Scaling down {{ $labels.canary }}.%s' % ns,
      summary: 'Flagger rolled a canary back.',
      description: 'Canary %s failed: Flagger routed all traffic back to {{ $labels.target_name }}-primary and scaled the canary down.' % a.canaryRef(c),
      expr: promql.withTarget(c, |||
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
    }),
  ],
}
