// Kubernetes objects for `kubectl apply -k`: one PrometheusRule holding every
// rule group and one ConfigMap per dashboard for the Grafana sidecar.
{
  // Pretty JSON. manifestJsonEx prints an empty array
  // or object over three lines; fold those into [] and {} (JSON strings
  // cannot hold a raw newline, so the replacement cannot touch a value).
  json(o)::
    std.foldl(
      function(s, depth)
        local pad = std.repeat('  ', depth);
        std.strReplace(std.strReplace(s, '[\n\n' + pad + ']', '[]'), '{\n\n' + pad + '}', '{}'),
      std.range(0, 30),
      std.manifestJsonEx(o, '  '),
    ),

  local meta(config, name, labels, annotations={}) = {
    name: name,
    namespace: config.manifests.namespace,
    labels: config.manifests.labels + labels,
    [if annotations != {} then 'annotations']: annotations,
  },

  prometheusRule(config, groups):: {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: meta(config, config.manifests.name, config.manifests.prometheusRuleLabels),
    spec: { groups: groups },
  },

  dashboardConfigMap(config, file, dashboard):: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(
      config,
      '%s-dashboard-%s' % [config.manifests.name, std.strReplace(file, '.json', '')],
      config.manifests.dashboardLabels,
      if config.manifests.dashboardFolder == null then {} else { grafana_folder: config.manifests.dashboardFolder },
    ),
    // The final newline makes YAML print the JSON as a literal block.
    data: { [file]: $.json(dashboard) + '\n' },
  },

  kustomization(resources):: {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: resources,
  },
}
