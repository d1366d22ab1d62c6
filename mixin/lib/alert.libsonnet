// Alerting rules are plain object literals ({ alert, expr, for, labels,
// annotations }), as in kubernetes-mixin. What every conventional alert
// shares is added here, once, when alerts.libsonnet composes the groups.
{
  // Adds the runbook link, whose anchor is the lower-cased alert name
  // (GitHub's heading anchor in docs/runbooks.md).
  withRunbook(config, rule):: rule {
    annotations+: { runbook_url: config.runbookURLPattern % std.asciiLower(rule.alert) },
  },

  // An annotation template's query for one exporter series beside the ones
  // the alert came from (same job, instance, namespace, canary and, with
  // showMultiCluster, cluster): `printf ... | query`, for `with`. wrap puts
  // the selector into a PromQL function, e.g. 'max_over_time(%s[10m])'.
  seriesOf(config, metric, wrap='%s')::
    local matchers = ['job="%s"', 'instance="%s"', 'namespace="%s"', 'canary="%s"']
                     + (if config.showMultiCluster then ['%s="%%s"' % config.clusterLabel] else []);
    local args = ['$labels.job', '$labels.instance', '$labels.namespace', '$labels.canary']
                 + (if config.showMultiCluster then ['$labels.%s' % config.clusterLabel] else []);
    'printf `%s` %s | query' % [wrap % ('%s{%s}' % [metric, std.join(',', matchers)]), std.join(' ', args)],

  // '{{ with <series> }}{{ . | first | <get> }}{{ end }}': one label or the
  // value of that series, empty when the exporter has none.
  fromSeries(config, metric, get, wrap='%s')::
    '{{ with %s }}{{ . | first | %s }}{{ end }}' % [self.seriesOf(config, metric, wrap), get],

  // Adds Flagger's checksum of the canary's revision: the event adapter
  // sends it as the event's checksum, the value Flagger's own event webhook
  // would send. Empty, and so absent, when the exporter has no such series.
  withChecksum(config, rule):: rule {
    annotations+: { checksum: $.fromSeries(config, 'flagger_canary_revision_info', 'label "checksum"') },
  },

  // Adds Flagger's latest word on the canary, its latest Kubernetes Event
  // (the exporter's Events watch): the chat templates quote it under a
  // problem ("Latest step: Halt … success rate 82.00% < 99%"). Empty, and
  // so absent, with --no-events.watch.
  withLastStep(config, rule):: rule {
    annotations+: { last_step: $.fromSeries(config, 'flagger_canary_last_step_timestamp_seconds', 'label "message"') },
  },

  // "namespace/canary" (and the cluster when showMultiCluster) for descriptions.
  canaryRef(config):: '{{ $labels.namespace }}/{{ $labels.canary }}' + config.clusterDescription,
}
