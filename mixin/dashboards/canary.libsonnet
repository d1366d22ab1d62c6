// "Flagger / Canary": one canary in depth, from the exporter's metrics and,
// in the last row, Flagger's own (labelled with the target's name, which the
// hidden `target` variable looks up from flagger_canary_info).
local g = import '../lib/grafana.libsonnet';
local promql = import '../lib/promql.libsonnet';
local common = import 'common.libsonnet';

{
  dashboard(c)::
    local cl = common.clusterMatcher(c);
    local one = [cl, 'namespace="$namespace"', 'canary="$canary"'];
    local s(metric, extra=[]) = promql.canary(c, metric, one + extra);
    local code = 'namespace_canary:flagger_canary_status_phase:code' + promql.selector(one);
    local flagger(metric) = metric + promql.selector([c.flaggerSelector, cl, 'namespace="$namespace"', 'name="$target"']);
    local by = common.canaryBy(c);

    g.dashboard(
      c,
      'flagger-canary.json',
      'Flagger / Canary',
      'One Flagger canary: phase, traffic weights, failed checks and iterations over time, its analysis settings, and the analysis metrics Flagger itself exports.',
      [
        g.datasourceVariable(),
        common.clusterVariable(c),
        common.namespaceVariable(c, false),
        common.canaryVariable(c, false),
        // Flagger's metrics name the target, not the Canary.
        g.queryVariable('target', 'Target', common.infoSelector(c, ['namespace="$namespace"', 'canary="$canary"']), 'target_name', hide=2),
      ],
      [
        g.row('Status'),
        g.stat('Phase', 'Current status.phase of the canary (Unknown: no status yet).', 'none', [g.target('max(%s)' % code)], w=4, color='background') {
          fieldConfig+: { defaults+: { mappings: g.phaseMappings } },
        },
        g.stat('Canary weight', 'status.canaryWeight: the step Flagger reached (0 in WaitingPromotion, while the routes stay at the last step; flagger_canary_weight is the routed share).', 'percent', [g.target('max(%s)' % s('flagger_canary_status_canary_weight'))], w=3),
        g.stat('Failed checks', 'Failed metric checks of the current analysis (status.failedChecks) and the threshold at which Flagger rolls back.', 'none', [
          g.target('max(%s)' % s('flagger_canary_status_failed_checks'), 'failed'),
          g.target('max(%s)' % s('flagger_canary_analysis_threshold'), 'threshold'),
        ], w=4),
        g.stat('Iterations', 'Analysis iterations done (status.iterations) and planned (analysis.iterations; 0 for weight-based canaries).', 'none', [
          g.target('max(%s)' % s('flagger_canary_status_iterations'), 'done'),
          g.target('max(%s)' % s('flagger_canary_analysis_iterations'), 'planned'),
        ], w=4),
        g.stat('Since last change', 'Time since status.lastTransitionTime; Flagger updates it on every step of a rollout.', 's', [g.target('max(time() - %s)' % s('flagger_canary_status_last_transition_timestamp_seconds'))], w=3),
        g.stat('Suspended', 'spec.suspend: Flagger skips this canary while it is set.', 'none', [g.target('max(%s)' % s('flagger_canary_suspended'))], w=3) {
          fieldConfig+: { defaults+: { mappings: g.yesNoMappings } },
        },
        g.stat('Skip analysis', 'spec.skipAnalysis: Flagger promotes new revisions without analysis while it is set.', 'none', [g.target('max(%s)' % s('flagger_canary_skip_analysis'))], w=3) {
          fieldConfig+: { defaults+: { mappings: g.yesNoMappings } },
        },

        g.table(
          'Canary',
          'The target the canary rolls out, its provider and strategy, and when the Canary object was created.',
          'none',
          [
            g.target('max %s (%s)' % [common.canaryBy(c, ['target_kind', 'target_name', 'provider', 'strategy']), s('flagger_canary_info')]),
            g.target('max %s (%s) * 1000' % [by, s('flagger_canary_created_timestamp_seconds')]),
          ],
          [
            { field: 'target_kind', title: 'Kind' },
            { field: 'target_name', title: 'Target' },
            { field: 'provider', title: 'Provider' },
            { field: 'strategy', title: 'Strategy' },
            { field: 'Value #B', title: 'Created' },
          ],
          w=12,
          h=5,
        ) {
          fieldConfig+: { overrides: [{ matcher: { id: 'byName', options: 'Created' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }] }] },
        },
        g.stat('Promoted', 'Status of the Promoted condition: True after initialisation or promotion, False after a rollback, Unknown during a rollout.', 'none', [
          g.target('max by (status) (%s == 1)' % s('flagger_canary_status_promoted'), '{{status}}'),
        ], w=3, h=5) { options+: { textMode: 'name', colorMode: 'none' } },
        g.stat('Analysis interval', 'analysis.interval: time between two analysis steps.', 's', [g.target('max(%s)' % s('flagger_canary_analysis_interval_seconds'))], w=3, h=5),
        g.stat('Progress deadline', 'progressDeadlineSeconds: how long Flagger waits for the canary or primary workload to become ready before it rolls back (while promoting: fails the promotion).', 's', [g.target('max(%s)' % s('flagger_canary_progress_deadline_seconds'))], w=3, h=5),
        g.stat('Weights', 'analysis.maxWeight and analysis.stepWeight: the largest share of traffic the canary gets and the increment per step.', 'percent', [
          g.target('max(%s)' % s('flagger_canary_analysis_max_weight'), 'max'),
          g.target('max(%s)' % s('flagger_canary_analysis_step_weight'), 'step'),
        ], w=3, h=5),

        g.row('Rollout'),
        g.stateTimeline('Phase over time', 'Phase of the canary over time (namespace_canary:flagger_canary_status_phase:code).', [g.target(code, 'phase')], g.phaseMappings, h=5),
        g.timeseries(
          'Traffic weight',
          'Traffic routed to the primary (<target>-primary) and the canary (<target>), from flagger_canary_weight.',
          'percent',
          [g.target('max by (workload) (%s)' % s('flagger_canary_weight'), '{{workload}}')],
          stack=true,
        ) { fieldConfig+: { defaults+: { min: 0, max: 100 } } },
        g.timeseries(
          'Failed checks',
          'Failed metric checks of the analysis against the threshold at which Flagger rolls back.',
          'none',
          [
            g.target('max(%s)' % s('flagger_canary_status_failed_checks'), 'failed checks'),
            g.target('max(%s)' % s('flagger_canary_analysis_threshold'), 'threshold'),
          ],
        ),
        g.timeseries(
          'Iterations',
          'Analysis iterations done against the number planned (blue-green and A/B testing canaries).',
          'none',
          [
            g.target('max(%s)' % s('flagger_canary_status_iterations'), 'done'),
            g.target('max(%s)' % s('flagger_canary_analysis_iterations'), 'planned'),
          ],
        ),
        g.timeseries(
          'Phase changes',
          'Phase changes the exporter observed, by the phase entered (flagger_canary_transitions_total).',
          'none',
          [g.target('sum by (phase) (increase(%s[$__rate_interval])) > 0' % s('flagger_canary_transitions_total'), '{{phase}}')],
          bars=true,
        ),
        g.table(
          "Flagger's steps",
          "Flagger's per-step messages in the time range (weight steps, failed checks, hook results, rollback reasons), newest first, from its Kubernetes Events (flagger_canary_last_step_timestamp_seconds, the exporter's Events watch). A message that repeats on every tick is listed once, at its last time.",
          'none',
          [g.target('max by (type, message) (last_over_time(%s[$__range])) * 1000' % s('flagger_canary_last_step_timestamp_seconds'))],
          [
            { field: 'Value', title: 'Time' },
            { field: 'type', title: 'Type' },
            { field: 'message', title: 'Message' },
          ],
          h=8,
        ) {
          options+: { sortBy: [{ displayName: 'Time', desc: true }] },
          fieldConfig+: { overrides: [
            { matcher: { id: 'byName', options: 'Time' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }, { id: 'custom.width', value: 180 }] },
            { matcher: { id: 'byName', options: 'Type' }, properties: [{ id: 'custom.width', value: 90 }] },
          ] },
        },

        g.row("Flagger's analysis"),
        g.timeseries(
          'Metric analysis',
          "Last value of each analysis metric check, from Flagger's flagger_canary_metric_analysis.",
          'short',
          [g.target('max by (metric) (%s)' % flagger('flagger_canary_metric_analysis'), '{{metric}}')],
          w=8,
        ),
        g.timeseries(
          'Analysis step duration',
          "Duration of one analysis step, 50th and 99th percentile, from Flagger's flagger_canary_duration_seconds.",
          's',
          [
            g.target('histogram_quantile(%s, sum by (le) (rate(%s[$__rate_interval])))' % [q, flagger('flagger_canary_duration_seconds_bucket')], 'p%d' % std.round(std.parseJson(q) * 100))
            for q in ['0.5', '0.99']
          ],
          w=8,
        ),
        g.timeseries(
          'Analysis results',
          "Canary analyses that ended in success or failure, from Flagger's flagger_canary_successes_total and flagger_canary_failures_total.",
          'none',
          [
            g.target('sum(increase(%s[$__rate_interval]))' % flagger('flagger_canary_successes_total'), 'successes'),
            g.target('sum(increase(%s[$__rate_interval]))' % flagger('flagger_canary_failures_total'), 'failures'),
          ],
          w=8,
          bars=true,
        ),
      ],
    ),
}
