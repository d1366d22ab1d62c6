// Builders for alerting rules so every conventional alert has the same shape:
// severity label, static summary, templated description and a runbook link
// whose anchor is the lower-cased alert name (GitHub's heading anchor).
{
  alert(config, name, severity, expr, forDuration, summary, description, labels={}, annotations={}):: {
    alert: name,
    expr: expr,
    'for': forDuration,
    labels: { severity: severity } + labels,
    annotations: {
      summary: summary,
      description: description,
      runbook_url: config.runbookURLPattern % std.asciiLower(name),
    } + annotations,
  },

  // "namespace/canary" (and the cluster when showMultiCluster) for descriptions.
  canaryRef(config):: '{{ $labels.namespace }}/{{ $labels.canary }}' + config.clusterDescription,
}
