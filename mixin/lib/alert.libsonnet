// Alerting rules are plain object literals ({ alert, expr, for, labels,
// annotations }), as in kubernetes-mixin. What every conventional alert
// shares is added here, once, when alerts.libsonnet composes the groups.
{
  // Adds the runbook link, whose anchor is the lower-cased alert name
  // (GitHub's heading anchor in docs/runbooks.md).
  withRunbook(config, rule):: rule {
    annotations+: { runbook_url: config.runbookURLPattern % std.asciiLower(rule.alert) },
  },

  // Adds Flagger's checksum of the canary's revision, read from the
  // exporter series beside the ones the alert came from (same job, instance,
  // namespace, canary and cluster): the event adapter sends it as the
  // event's checksum, the value Flagger's own event webhook would send.
  // Empty, and so absent, when the exporter has no such series.
  withChecksum(config, rule)::
    local matchers = ['job="%s"', 'instance="%s"', 'namespace="%s"', 'canary="%s"']
                     + (if config.showMultiCluster then ['%s="%%s"' % config.clusterLabel] else []);
    local args = ['$labels.job', '$labels.instance', '$labels.namespace', '$labels.canary']
                 + (if config.showMultiCluster then ['$labels.%s' % config.clusterLabel] else []);
    rule {
      annotations+: {
        checksum: '{{ with printf `flagger_canary_revision_info{%s}` %s | query }}{{ . | first | label "checksum" }}{{ end }}'
                  % [std.join(',', matchers), std.join(' ', args)],
      },
    },

  // "namespace/canary" (and the cluster when showMultiCluster) for descriptions.
  canaryRef(config):: '{{ $labels.namespace }}/{{ $labels.canary }}' + config.clusterDescription,
}
