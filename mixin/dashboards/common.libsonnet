// Variables and selectors both dashboards share.
local g = import '../lib/grafana.libsonnet';
local promql = import '../lib/promql.libsonnet';

{
  // The cluster matcher only when showMultiCluster: in a single-cluster
  // Prometheus the label does not exist and an empty $cluster would match
  // nothing useful.
  clusterMatcher(c):: if c.showMultiCluster then '%s="$cluster"' % c.clusterLabel else '',

  // Labels that name one canary in legends and tables.
  canaryLabels(c):: (if c.showMultiCluster then [c.clusterLabel] else []) + ['namespace', 'canary'],
  canaryBy(c, extra=[]):: 'by (%s)' % std.join(', ', self.canaryLabels(c) + extra),
  canaryLegend(c)::
    (if c.showMultiCluster then '{{%s}}/' % c.clusterLabel else '') + '{{namespace}}/{{canary}}',

  infoSelector(c, extra=[]):: promql.canary(c, 'flagger_canary_info', [self.clusterMatcher(c)] + extra),

  // Visible only with showMultiCluster; always present so links and
  // includeVars behave the same either way. It lists every cluster: a
  // selector on $cluster of its own would find none while it is empty.
  clusterVariable(c)::
    g.queryVariable('cluster', 'Cluster', promql.canary(c, 'flagger_canary_info'), c.clusterLabel, hide=if c.showMultiCluster then 0 else 2),

  namespaceVariable(c, multi)::
    g.queryVariable('namespace', 'Namespace', self.infoSelector(c), 'namespace', multi=multi),

  canaryVariable(c, multi)::
    g.queryVariable(
      'canary',
      'Canary',
      self.infoSelector(c, ['namespace%s"$namespace"' % (if multi then '=~' else '=')]),
      'canary',
      multi=multi,
    ),

  // The exporter's own series (no canary labels).
  exporterSelector(c):: promql.selector([c.exporterSelector, self.clusterMatcher(c)]),
}
