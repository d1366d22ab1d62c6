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
  // Flagger's chat fields (pkg/controller/events.go alertMetadata), which it
  // adds to its initialisation and new-revision messages, read from the
  // exporter's series when the notice is sent. Traffic routing is Flagger's
  // wording for the strategy; a progressive canary shows its first step and
  // the maximum weight Flagger computes.
  // Settings rarely change: read across a gap in the exporter's scrapes, as
  // withTarget does for the target.
  local acrossGaps(c) = 'last_over_time(%%s[%s])' % c.exporterGapTolerance,

  local fields(c) = {
    local lastOver = acrossGaps(c),
    local q(metric) = a.seriesOf(c, metric, lastOver),
    local value(metric) = a.fromSeries(c, metric, 'value', lastOver),
    target: '{{ with %s }}{{ . | first | label "target_kind" }}/{{ $labels.target_name }}.{{ $labels.namespace }}{{ end }}' % q('flagger_canary_info'),
    failed_checks_threshold: value('flagger_canary_analysis_threshold'),
    progress_deadline: '{{ with %s }}{{ . | first | value }}s{{ end }}' % q('flagger_canary_progress_deadline_seconds'),
    traffic_routing: '{{ with %s }}{{ $s := . | first | label "strategy" }}' % q('flagger_canary_info')
                     + '{{ if eq $s "blue-green" }}Blue/Green{{ else if eq $s "ab-testing" }}A/B Testing{{ else }}'
                     + '{{ with %s }}Weight step: {{ . | first | value }}%s{{ end }}' % [q('flagger_canary_analysis_step_weight'), '{{ with %s }} max: {{ . | first | value }}{{ end }}' % q('flagger_canary_analysis_max_weight')]
                     + '{{ end }}{{ end }}',
  },

  // The phases the notices are about: each notice's and the rollout's.
  local noticePhases(c) = promql.orderedPhases(['Initialized', 'Waiting', 'Progressing', 'WaitingPromotion', 'Succeeded', 'Failed'] + c.revisionPhases),

  // The canaries in one of the notices' phases (through the gap tolerance,
  // like stillInPhase), with target_name, recorded first in the group (see
  // promql.recorded): every notice reads it, for its own phase only.
  lifecycleRecords(c):: [{
    record: promql.recorded(c).lifecycle,
    expr: std.rstripChars(promql.withTarget(c, promql.stillInPhase(c, noticePhases(c))), '\n'),
  }],

  // The canaries in the phase, with target_name.
  local inPhase(c, phase) = promql.recordedSeries(c, 'lifecycle', phase),

  // Canaries that entered the phase within lifecycleWindow and are still in
  // it: the notice's expression. also is another way of having entered (a
  // PromQL condition on the same canaries), unless a set of canaries the
  // notice is not for.
  local entered(c, phase, also=null, unless=null) =
    '%s\nand %s\n(\n%s%s)\n' % [
      inPhase(c, phase),
      promql.on(c),
      promql.indent(promql.enteredPhase(c, phase, c.lifecycleWindow), 2),
      if also == null then '' else '  or\n  %s\n' % also,
    ] + (if unless == null then '' else 'unless %s\n(%s)\n' % [promql.on(c), unless]),

  // '{{ with skipAnalysis }}…' : yes when the canary skips its analysis,
  // else no (also when the exporter has no such series).
  local ifSkipped(c, yes, no) =
    '{{ with %s }}{{ if eq (. | first | value) 1.0 }}%s{{ else }}%s{{ end }}{{ else }}%s{{ end }}'
    % [a.seriesOf(c, 'flagger_canary_skip_analysis'), yes, no, no],

  // A notice is an info alert with the phase it announces and the label
  // lifecycle="true", which the Alertmanager templates and the event adapter
  // both read to tell a rollout step from a problem. Flagger words each step
  // twice: `message` is its event text (event webhook, Kubernetes Events),
  // `notification` its chat text (Slack, Teams). n: { name, phase, message,
  // notification, summary, description, eventType?, flaggerSeverity?,
  // fields?, expr? };
  // eventType is Flagger's for the step's event (Normal by default); fields adds
  // Flagger's chat fields; the default expr fires when the canary entered
  // n.phase within lifecycleWindow and is still in it (entered).
  local notice(c, n) = {
    alert: n.name,
    expr: if std.objectHas(n, 'expr') then n.expr else entered(c, n.phase),
    // No `for`: the notice goes out on the step, like Flagger's own.
    'for': '0s',
    labels: { severity: c.noticeSeverity, phase: n.phase, lifecycle: 'true' },
    annotations: {
      summary: n.summary,
      description: n.description,
      message: n.message,
      notification: n.notification,
      // The Kubernetes event type Flagger gives the step's event.
      event_type: std.get(n, 'eventType', 'Normal'),
      // The severity Flagger gives its chat message (info, warn, error):
      // Slack's colour is danger for error only, as Flagger's.
      flagger_severity: std.get(n, 'flaggerSeverity', 'info'),
    } + (if std.get(n, 'fields', false) then fields(c) else {}),
  },

  local ns = '{{ $labels.namespace }}',

  // Why Flagger rolled back, as a template choosing among w's texts: the
  // failed checks reached the threshold ($n), else its latest rollback step
  // within lifecycleWindow ($s) was a rollback webhook or the progress
  // deadline, else other.
  local failedWhy(c, w) =
    '{{ $n := 0.0 }}{{ with %s }}{{ $n = . | first | value }}{{ end }}' % a.seriesOf(c, 'flagger_canary_status_failed_checks', 'max_over_time(%%s[%s])' % c.lifecycleWindow)
    + '{{ $t := 1.0 }}{{ with %s }}{{ $t = . | first | value }}{{ end }}' % a.seriesOf(c, 'flagger_canary_analysis_threshold')
    // The newest rollback step (values are the Events' times).
    + '{{ $s := "" }}{{ $at := 0.0 }}{{ range %s }}{{ if and (match `^Rolling back ` .Labels.message) (ge .Value $at) }}{{ $s = .Labels.message }}{{ $at = .Value }}{{ end }}{{ end }}' % a.seriesOf(c, 'flagger_canary_last_step_timestamp_seconds', 'last_over_time(%%s[%s])' % c.lifecycleWindow)
    + '{{ if and (gt $n 0.0) (ge $n $t) }}%s' % w.threshold
    + '{{ else if match `^Rolling back \\S+ manual webhook invoked$` $s }}%s' % w.manual
    + '{{ else if match `^Rolling back \\S+ progress deadline exceeded ` $s }}%s' % w.deadline
    + '{{ else }}%s{{ end }}' % w.other,

  lifecycleAlerts(c):: [
    notice(c, {
      name: 'FlaggerCanaryInitialized',
      notification: 'New %s detected, initialization completed.' % a.fromSeries(c, 'flagger_canary_info', 'label "target_kind"', acrossGaps(c)),
      fields: true,
      phase: 'Initialized',
      message: 'Initialization done! {{ $labels.canary }}.%s' % ns,
      summary: 'Flagger initialised a new canary.',
      description: 'Canary %s was initialised: Flagger created the primary {{ $labels.target_name }}-primary and routes all traffic to it.' % a.canaryRef(c),
      // Flagger often initialises a new canary within one scrape interval
      // of its creation, so the exporter's first scrape already shows
      // Initialized and no phase change is seen: a canary created within
      // the window counts as having entered the phase. An exporter restart
      // leaves the creation time as it was, so it invents nothing.
      expr: entered(c, 'Initialized', also='time() - %s < %d' % [
        promql.canary(c, 'flagger_canary_created_timestamp_seconds'),
        promql.seconds(c.lifecycleWindow),
      ]),
    }),
    // Fires for the whole rollout (Progressing to Finalising) rather than on
    // entry, and resolves when it ends in Succeeded or Failed. The phase
    // label is fixed so that moving between rollout phases keeps one alert.
    notice(c, {
      name: 'FlaggerCanaryNewRevision',
      notification: 'New revision detected, progressing canary analysis.',
      fields: true,
      phase: 'Progressing',
      message: 'New revision detected! Scaling up {{ $labels.target_name }}.%s' % ns,
      summary: 'Flagger started the analysis of a new canary revision.',
      description: 'Canary %s is rolling out a new revision of {{ $labels.target_name }}.' % a.canaryRef(c),
      expr: 'max without (phase) (%s)\n' % inPhase(c, c.revisionPhases),
    }),
    // confirm-rollout: Flagger holds a new revision in Waiting until the
    // webhook approves, and says so once.
    notice(c, {
      name: 'FlaggerCanaryWaiting',
      eventType: 'Warning',
      flaggerSeverity: 'warn',
      notification: 'Canary is waiting for approval.',
      phase: 'Waiting',
      message: 'Halt {{ $labels.canary }}.%s advancement waiting for approval' % ns,
      summary: 'A new canary revision waits for rollout approval.',
      description: 'Canary %s has a new revision of {{ $labels.target_name }} and waits for its confirm-rollout webhook before starting the analysis.' % a.canaryRef(c),
    }),
    // Flagger's confirm-traffic-increase gate holds a Progressing canary
    // without writing its status, so no status series shows it; Flagger's
    // latest step does: its "Halt … waiting for traffic increase approval"
    // Event, repeated on every tick while the gate is closed (the exporter's
    // Events watch). Flagger posts the chat message on every tick too; the
    // notice sends it once per gate. The exporter relays Flagger's events
    // themselves, so this notice goes to chat only (alertmanager.yml).
    notice(c, {
      name: 'FlaggerCanaryWaitingTrafficIncrease',
      eventType: 'Warning',
      flaggerSeverity: 'warn',
      notification: 'Canary traffic increase is waiting for approval.',
      phase: 'Progressing',
      message: 'Halt {{ $labels.canary }}.%s advancement waiting for traffic increase approval' % ns,
      summary: 'A canary analysis waits for approval of its next traffic increase.',
      description: 'Canary %s holds the traffic of {{ $labels.target_name }} at its current step until its confirm-traffic-increase webhook approves the next.' % a.canaryRef(c),
      // The gate's step must be the newest (values are the Events' times):
      // the step that replaces it when the gate opens ends the notice at
      // once, so the next gate gets a notice of its own.
      expr: |||
        %(progressing)s
        and %(on)s
        (
          last_over_time(%(halt)s[%(gap)s])
          >= %(on)s group_left
          max by (%(by)s) (last_over_time(%(any)s[%(gap)s]))
        )
      ||| % {
        progressing: inPhase(c, 'Progressing'),
        on: promql.on(c),
        by: std.join(', ', c.canaryJoinLabels),
        halt: promql.canary(c, 'flagger_canary_last_step_timestamp_seconds', ['message=~"Halt .+ advancement waiting for traffic increase approval( .*)?"']),
        any: promql.canary(c, 'flagger_canary_last_step_timestamp_seconds'),
        gap: c.exporterGapTolerance,
      },
    }),
    notice(c, {
      name: 'FlaggerCanaryWaitingPromotion',
      eventType: 'Warning',
      flaggerSeverity: 'warn',
      notification: 'Canary promotion is waiting for approval.',
      phase: 'WaitingPromotion',
      message: 'Halt {{ $labels.canary }}.%s advancement waiting for promotion approval' % ns,
      summary: 'A canary analysis completed and waits for promotion approval.',
      description: 'Canary %s passed its analysis and waits for its confirm-promotion webhook before promoting {{ $labels.target_name }}.' % a.canaryRef(c),
    }),
    notice(c, {
      name: 'FlaggerCanaryPromoted',
      notification: ifSkipped(c, 'Canary analysis was skipped, promotion finished.', 'Canary analysis completed successfully, promotion finished.'),
      phase: 'Succeeded',
      // Flagger's event says so when the analysis was skipped.
      message: ifSkipped(c, 'Promotion completed! Canary analysis was skipped for {{ $labels.target_name }}.%s' % ns, 'Promotion completed! Scaling down {{ $labels.target_name }}.%s' % ns),
      summary: 'Flagger promoted a canary.',
      description: 'Canary %s succeeded: the new revision of {{ $labels.target_name }} is now the primary and the canary is scaled down.' % a.canaryRef(c),
    }),
    // Flagger's "Canary failed!" comes with a rollback. A failed promotion
    // (Failed with canaryWeight 100) sends "Promotion failed, primary not
    // ready" instead and keeps the canary serving: that is the critical
    // FlaggerCanaryPromotionFailed, not this notice.
    notice(c, {
      name: 'FlaggerCanaryFailed',
      eventType: 'Warning',
      // Flagger's chat message says why it rolled back: the failed-checks
      // threshold, else its rollback step ("Rolling back … manual webhook
      // invoked", "Rolling back … progress deadline exceeded <err>"), which
      // the exporter's Events watch shows; else the event text.
      notification: failedWhy(c, {
        threshold: 'Failed checks threshold reached {{ $n }}',
        manual: 'Rolling back manual webhook invoked',
        deadline: 'Progress deadline exceeded {{ $s | reReplaceAll `^Rolling back \\S+ progress deadline exceeded ` "" }}',
        other: 'Canary failed! Scaling down {{ $labels.canary }}.%s' % ns,
      }),
      flaggerSeverity: failedWhy(c, { threshold: 'error', manual: 'warn', deadline: 'error', other: 'error' }),
      phase: 'Failed',
      message: 'Canary failed! Scaling down {{ $labels.canary }}.%s' % ns,
      summary: 'Flagger rolled a canary back.',
      description: 'Canary %s failed: Flagger routed all traffic back to {{ $labels.target_name }}-primary and scaled the canary down.' % a.canaryRef(c),
      expr: entered(c, 'Failed', unless=promql.allTrafficOnCanary(c)),
    }),
  ],
}
