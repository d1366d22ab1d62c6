// Small PromQL builders shared by alerts, rules and dashboards. They keep
// selectors valid when a configured matcher is empty and keep every join on
// the same label set.
{
  // The phases of the exporter's flagger_canary_status_phase state set, in
  // the order Flagger walks them. Their position + 1 is the value of the
  // namespace_canary:flagger_canary_status_phase:code recording rule; 0 is
  // "Unknown" (no or an unrecognised status phase).
  phases:: [
    'Initializing',
    'Initialized',
    'Waiting',
    'Progressing',
    'WaitingPromotion',
    'Promoting',
    'Finalising',
    'Succeeded',
    'Failed',
    'Terminating',
    'Terminated',
  ],

  // '{a, b}' from a list of matchers, skipping empty ones.
  selector(matchers):: '{' + std.join(', ', std.filter(function(m) m != '', matchers)) + '}',

  // A series of the exporter for canaries: metric{exporter job, namespaces, extra}.
  canary(config, metric, extra=[]):: metric + self.selector(config.canarySelectors + extra),

  // A matcher on the phase label for one phase or a list of phases.
  phaseMatcher(phases)::
    if std.isArray(phases) then
      if std.length(phases) == 1 then 'phase="%s"' % phases[0] else 'phase=~"%s"' % std.join('|', phases)
    else 'phase="%s"' % phases,

  // 'on (cluster, namespace, canary, job, instance)'.
  on(config):: 'on (%s)' % std.join(', ', config.canaryJoinLabels),

  // 'by (cluster, a, b)'.
  by(config, labels):: 'by (%s)' % std.join(', ', [config.clusterLabel] + labels),

  // 1 for every canary currently in one of the phases.
  inPhase(config, phases)::
    '%s == 1' % self.canary(config, 'flagger_canary_status_phase', [self.phaseMatcher(phases)]),

  // Like inPhase, but reading the last sample within the gap tolerance, so a
  // scrape gap (exporter restart) neither resolves nor re-fires an alert. The
  // state set keeps a 0 series for every other phase, so a real change of
  // phase is still seen on the next scrape.
  stillInPhase(config, phase)::
    'last_over_time(%s[%s]) == 1' % [
      self.canary(config, 'flagger_canary_status_phase', [self.phaseMatcher(phase)]),
      config.exporterGapTolerance,
    ],

  // Canaries whose status.canaryWeight is 100, read through the gap
  // tolerance like stillInPhase. Together with phase Failed it marks
  // Flagger's failed promotion (the primary did not become ready while
  // Promoting or Finalising: Flagger routes all traffic to the canary and
  // writes canaryWeight 100), which a rollback never does (it routes all
  // traffic to the primary and writes canaryWeight 0).
  allTrafficOnCanary(config)::
    'last_over_time(%s[%s]) == 100' % [
      self.canary(config, 'flagger_canary_status_canary_weight'),
      config.exporterGapTolerance,
    ],

  // Canaries that entered the phase within the window: its state-set series
  // was 0 at some sample in the window, or the exporter counted a transition
  // into it. Neither is true for an unchanged canary after an exporter
  // restart: the state set stays 1 and the counter restarts at 0 (increase
  // treats the drop as a reset, not as a transition).
  enteredPhase(config, phase, window)::
    |||
      min_over_time(%(phaseSeries)s[%(window)s]) == 0
      or
      increase(%(transitions)s[%(window)s]) > 0
    ||| % {
      phaseSeries: $.canary(config, 'flagger_canary_status_phase', [$.phaseMatcher(phase)]),
      transitions: $.canary(config, 'flagger_canary_transitions_total', [$.phaseMatcher(phase)]),
      window: window,
    },

  // Adds target_name from flagger_canary_info to a per-canary expression.
  // During a scrape gap the info series is taken from the last sample, like
  // stillInPhase, so the alert does not drop. Only then, and one per canary
  // (topk): an info series whose labels changed (say the strategy) leaves
  // its old series in last_over_time for a while, and two series on the
  // "one" side would make the whole rule fail to evaluate.
  withTarget(config, expr)::
    |||
      (
      %(expr)s)
      * %(on)s group_left (target_name)
        (
          %(info)s
          or %(on)s
          topk by (%(labels)s) (1, last_over_time(%(info)s[%(gap)s]))
        )
    ||| % {
      expr: $.indent(expr, 2),
      on: $.on(config),
      labels: std.join(', ', config.canaryJoinLabels),
      info: $.canary(config, 'flagger_canary_info'),
      gap: config.exporterGapTolerance,
    },

  // Sub-expressions several alerts of one group share. Each is recorded by
  // the first rules of that group and read back, at the same timestamp, by
  // the alerts after it: Prometheus evaluates a group's rules in order and a
  // rule sees the samples of the rules before it (with concurrent rule
  // evaluation it waits for the rules whose metrics it reads), so an alert
  // reading one of these selects exactly what the expression would at that
  // instant, but the big families under it are read once per group instead
  // of once per alert. Each records at most one series per canary (its
  // phase, not the twelve of the state set), and the alerts select them by
  // phase, so the reads that follow are small. The names
  // differ per group: a series written by two groups would interleave two
  // evaluation schedules. Not for dashboards: they exist only while their
  // group is loaded. The window in the names is exporterGapTolerance.
  recorded(config):: {
    local gap = config.exporterGapTolerance,
    // flagger-canary: canaries in Failed or WaitingPromotion, across gaps.
    held: 'namespace_canary:flagger_canary_status_phase:last%s' % gap,
    // flagger-canary: canaries whose canary weight is 100, across gaps.
    allTraffic: 'namespace_canary:flagger_canary_status_canary_weight:last%s_eq100' % gap,
    // flagger-canary: canaries in Failed, across gaps, with target_name.
    failedTarget: 'namespace_canary:flagger_canary_status_phase_failed:last%s_target' % gap,
    // flagger-canary-lifecycle: canaries in a phase a notice is about,
    // across gaps, with target_name.
    lifecycle: 'namespace_canary:flagger_canary_status_phase:last%s_target' % gap,
  },

  // A recorded series (recorded(config)[name]) of the exporter's canaries,
  // optionally for one phase or a list of phases.
  recordedSeries(config, name, phases=null)::
    self.canary(config, self.recorded(config)[name], if phases == null then [] else [self.phaseMatcher(phases)]),

  // The phases of promql.phases that are in list, in that order.
  orderedPhases(list):: std.filter(function(p) std.member(list, p), self.phases),

  // A Prometheus duration of one unit ('90s', '10m', '2h', '1d') in seconds.
  seconds(d)::
    local units = { s: 1, m: 60, h: 3600, d: 86400 };
    local unit = d[std.length(d) - 1];
    assert std.objectHas(units, unit) : 'duration %s: want a number and one of s, m, h, d' % d;
    std.parseInt(d[0:std.length(d) - 1]) * units[unit],

  // Indents every non-empty line of a multi-line string.
  indent(s, n)::
    local pad = std.repeat(' ', n);
    std.join('\n', [if l == '' then l else pad + l for l in std.split(s, '\n')]),
}
