// "Flagger / Canaries": the fleet. Fleet-wide panels read the recording
// rules (a few series per namespace); per-canary panels filter by the
// namespace and canary variables and show only canaries that are doing
// something, so the dashboard stays usable at 10k canaries.
local g = import '../lib/grafana.libsonnet';
local promql = import '../lib/promql.libsonnet';
local common = import 'common.libsonnet';

{
  dashboard(c)::
    local cl = common.clusterMatcher(c);
    local nsSel = 'namespace=~"$namespace"';
    local canarySel = 'canary=~"$canary"';
    // Exporter series of the selected canaries.
    local s(metric, extra=[]) = promql.canary(c, metric, [cl, nsSel, canarySel] + extra);
    // Namespace-level recording rules.
    local ns(record, extra=[]) = record + promql.selector([cl, nsSel] + extra);
    local code = 'namespace_canary:flagger_canary_status_phase:code' + promql.selector([cl, nsSel, canarySel]);
    local rate = 'namespace_phase:flagger_canary_transitions:rate%s' % c.transitionsRateWindow;
    local phases = 'namespace_phase:flagger_canary_status_phase:sum';
    local by = common.canaryBy(c);
    local legend = common.canaryLegend(c);
    local perCanaryLink = {
      title: 'Canary details',
      url: '/d/%s?${datasource:queryparam}&var-cluster=${cluster}&var-namespace=${__data.fields.namespace}&var-canary=${__data.fields.canary}&${__url_time_range}' % c.dashboardUIDs['flagger-canary.json'],
    };
    local countStat(title, description, phase, colors) =
      g.stat(title, description, 'none', [g.target('sum(%s)' % ns(phases, if phase == null then [] else [promql.phaseMatcher(phase)]))]) {
        fieldConfig+: { defaults+: { color: { mode: 'thresholds' }, thresholds: g.thresholds(colors) } },
      };
    local rangeStat(title, description, phase, color) =
      g.stat(title, description, 'none', [g.target('round(sum(avg_over_time(%s[$__range])) * $__range_s)' % ns(rate, ['phase="%s"' % phase]))]) {
        fieldConfig+: { defaults+: { color: { mode: 'fixed', fixedColor: color } } },
      };

    g.dashboard(
      c,
      'flagger-canaries.json',
      'Flagger / Canaries',
      'All Flagger canaries: phases, rollouts in flight, failed checks, promotions and rollbacks, and the health of the exporter.',
      [
        g.datasourceVariable(),
        common.clusterVariable(c),
        common.namespaceVariable(c, true),
        common.canaryVariable(c, true),
      ],
      [
        g.row('Overview'),
        countStat('Canaries', 'Canary objects in the selected namespaces.', null, [['blue', null]]),
        countStat('Rolling out', 'Canaries in a rollout phase (%s).' % std.join(', ', c.revisionPhases), c.revisionPhases, [['green', null], ['blue', 1]]),
        countStat('Waiting for promotion', 'Canaries whose analysis passed and whose confirm-promotion webhook has not approved yet.', 'WaitingPromotion', [['green', null], ['purple', 1]]),
        countStat('Failed', 'Canaries in phase Failed until their next revision: rolled back to the primary or, with canary weight 100, a failed promotion that routes all traffic to the canary.', 'Failed', [['green', null], ['red', 1]]),
        rangeStat('Promotions', 'Canaries that entered Succeeded during the dashboard time range (from the exporter transitions counter, via a recording rule).', 'Succeeded', 'green'),
        rangeStat('Rollbacks', 'Canaries that entered Failed (rollbacks, and failed promotions) during the dashboard time range (from the exporter transitions counter, via a recording rule).', 'Failed', 'red'),

        g.timeseries(
          'Canaries by phase',
          'Number of canaries in each phase over time (namespace_phase:flagger_canary_status_phase:sum).',
          'none',
          [g.target('sum by (phase) (%s > 0)' % ns(phases), '{{phase}}')],
          w=8,
          stack=true,
        ),
        g.timeseries(
          'Promotions and rollbacks per hour',
          'Phase changes into Succeeded (promotions) and Failed (rollbacks and failed promotions), as an hourly rate over %s, from the exporter transitions counter.' % c.transitionsRateWindow,
          'short',
          [g.target('sum by (phase) (%s) * 3600' % ns(rate, ['phase=~"Succeeded|Failed"']), '{{phase}}')],
          w=8,
          bars=true,
        ) {
          fieldConfig+: { overrides: [
            { matcher: { id: 'byName', options: 'Failed' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }] },
            { matcher: { id: 'byName', options: 'Succeeded' }, properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }] },
          ] },
        },

        g.barGauge(
          'Canaries by strategy and provider',
          'Canaries per deployment strategy (canary, blue-green, ab-testing, as Flagger decides it) and mesh or ingress provider.',
          'none',
          [g.target(
            'sum by (strategy, provider) (%s)' % ns('namespace_strategy_provider:flagger_canary_info:count'),
            '{{strategy}} / {{provider}}',
            instant=true,
          )],
          w=8,
        ),

        g.row('Canaries'),
        g.table(
          'Canary status',
          'Current phase, traffic weight and failed checks of every selected canary. Click a canary for its own dashboard.',
          'none',
          [
            g.target('max %s (%s)' % [by, code]),
            g.target('max %s (%s)' % [by, s('flagger_canary_status_canary_weight')]),
            g.target('max %s (%s)' % [by, s('flagger_canary_status_failed_checks')]),
            g.target('max %s (%s)' % [by, s('flagger_canary_analysis_threshold')]),
            g.target('max %s (time() - %s)' % [by, s('flagger_canary_status_last_transition_timestamp_seconds')]),
            g.target('max %s (%s)' % [common.canaryBy(c, ['target_name', 'strategy', 'provider']), s('flagger_canary_info')]),
          ],
          [{ field: l, title: l } for l in common.canaryLabels(c)] + [
            { field: 'target_name', title: 'Target' },
            { field: 'strategy', title: 'Strategy' },
            { field: 'provider', title: 'Provider' },
            { field: 'Value #A', title: 'Phase' },
            { field: 'Value #B', title: 'Canary weight' },
            { field: 'Value #C', title: 'Failed checks' },
            { field: 'Value #D', title: 'Threshold' },
            { field: 'Value #E', title: 'Since last change' },
          ],
        ) {
          fieldConfig+: { overrides: [
            { matcher: { id: 'byName', options: 'canary' }, properties: [{ id: 'links', value: [perCanaryLink] }] },
            { matcher: { id: 'byName', options: 'Phase' }, properties: [
              { id: 'mappings', value: g.phaseMappings },
              { id: 'custom.cellOptions', value: { type: 'color-text' } },
            ] },
            { matcher: { id: 'byName', options: 'Canary weight' }, properties: [{ id: 'unit', value: 'percent' }] },
            { matcher: { id: 'byName', options: 'Since last change' }, properties: [{ id: 'unit', value: 's' }] },
          ] },
        },
        g.stateTimeline(
          'Phase over time',
          'Phase of each selected canary over time (namespace_canary:flagger_canary_status_phase:code). Narrow the namespace or canary selection for large fleets.',
          [g.target(code, legend)],
          g.phaseMappings,
        ),
        g.timeseries(
          'Canary traffic weight',
          'status.canaryWeight of canaries with a weight above 0: the step Flagger reached. Flagger resets it to 0 in WaitingPromotion while its routes stay at the last step; flagger_canary_weight is the routed share.',
          'percent',
          [g.target('max %s (%s) > 0' % [by, s('flagger_canary_status_canary_weight')], legend)],
        ) { fieldConfig+: { defaults+: { min: 0, max: 100 } } },
        g.barGauge(
          'Failed checks against threshold',
          'Failed metric checks as a fraction of the analysis threshold, for canaries with at least one failed check; Flagger rolls back at 100%.',
          'percentunit',
          [g.target(
            'max %s (%s / (%s > 0)) > 0' % [by, s('flagger_canary_status_failed_checks'), s('flagger_canary_analysis_threshold')],
            legend,
            instant=true,
          )],
        ) {
          fieldConfig+: { defaults+: {
            min: 0,
            max: 1,
            color: { mode: 'thresholds' },
            thresholds: g.thresholds([['green', null], ['orange', c.failedChecksFraction], ['red', 1]]),
          } },
        },
        g.timeseries(
          'Failed checks',
          'Failed metric checks of canaries that have any (status.failedChecks).',
          'none',
          [g.target('max %s (%s) > 0' % [by, s('flagger_canary_status_failed_checks')], legend)],
        ),
        g.barGauge(
          'Time in phase (in flight)',
          'Time since the last status change of the 20 canaries that have been longest in a phase other than Initialized, Succeeded or Failed. Flagger updates the status on every step of a rollout.',
          's',
          [g.target(
            |||
              topk(20,
                max %(by)s (
                  (time() - %(ltt)s)
                  * %(on)s group_left (phase)
                    (%(phase)s == 1)
                )
              )
            ||| % {
              by: common.canaryBy(c, ['phase']),
              ltt: s('flagger_canary_status_last_transition_timestamp_seconds'),
              on: promql.on(c),
              phase: s('flagger_canary_status_phase', ['phase!~"Initialized|Succeeded|Failed"']),
            },
            legend + ' {{phase}}',
            instant=true,
          )],
        ) { fieldConfig+: { defaults+: { color: { mode: 'continuous-GrYlRd' } } } },

        g.row('Exporter'),
        g.stat('Exporter targets up', 'Exporter targets Prometheus scrapes successfully.', 'none', [g.target('sum(up%s)' % common.exporterSelector(c))], w=6) {
          fieldConfig+: { defaults+: { color: { mode: 'thresholds' }, thresholds: g.thresholds([['red', null], ['green', 1]]) } },
        },
        g.stat('Cache synced', 'Whether every exporter has listed all Canary objects (flagger_exporter_cache_synced).', 'none', [g.target('min(flagger_exporter_cache_synced%s)' % common.exporterSelector(c))], w=6) {
          fieldConfig+: { defaults+: { mappings: [{ type: 'value', options: {
            '0': { text: 'No', color: 'red', index: 0 },
            '1': { text: 'Yes', color: 'green', index: 1 },
          } }] } },
        },
        g.stat('Canaries watched', "Canary objects in the exporters' caches (flagger_exporter_canaries).", 'none', [g.target('sum(flagger_exporter_canaries%s)' % common.exporterSelector(c))], w=6),
        g.stat('Exporter version', 'Versions of the running exporters (flagger_exporter_build_info).', 'none', [g.target('count by (version) (flagger_exporter_build_info%s)' % common.exporterSelector(c), '{{version}}')], w=6) {
          options+: { textMode: 'name', colorMode: 'none' },
        },
        g.timeseries(
          'Exporter scrape duration',
          'Time the exporter takes to render /metrics, 50th and 99th percentile.',
          's',
          [
            g.target('histogram_quantile(%s, sum by (le) (rate(flagger_exporter_scrape_duration_seconds_bucket%s[$__rate_interval])))' % [q, common.exporterSelector(c)], 'p%d' % std.round(std.parseJson(q) * 100))
            for q in ['0.5', '0.99']
          ],
          w=12,
        ),
        g.timeseries(
          'Exporter errors',
          "Errors of the exporter's Canary watch (by reason) and Canary objects it could not decode, per second.",
          'cps',
          [
            g.target('sum by (reason) (rate(flagger_exporter_watch_errors_total%s[$__rate_interval]))' % common.exporterSelector(c), 'watch {{reason}}'),
            g.target('sum(rate(flagger_exporter_decode_errors_total%s[$__rate_interval]))' % common.exporterSelector(c), 'decode'),
          ],
          w=12,
        ),
      ],
    ),
}
