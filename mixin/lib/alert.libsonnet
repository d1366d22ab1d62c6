// Alerting rules are plain object literals ({ alert, expr, for, labels,
// annotations }), as in kubernetes-mixin. What every conventional alert
// shares is added here, once, when alerts.libsonnet composes the groups.
{
  // Adds the runbook link, whose anchor is the lower-cased alert name
  // (GitHub's heading anchor in docs/runbooks.md).
  withRunbook(config, rule):: rule {
    annotations+: { runbook_url: config.runbookURLPattern % std.asciiLower(rule.alert) },
  },

  // "namespace/canary" (and the cluster when showMultiCluster) for descriptions.
  canaryRef(config):: '{{ $labels.namespace }}/{{ $labels.canary }}' + config.clusterDescription,
}
