// Alerts on the exporter itself: without it every canary alert is blind.
local promql = import '../lib/promql.libsonnet';

{
  exporterAlerts(c):: [
    // absent() covers a job that is not scraped at all (no target
    // discovered); up == 0 covers a target that fails its scrapes.
    {
      alert: 'FlaggerExporterDown',
      expr: |||
        absent(up%(sel)s)
        or
        up%(sel)s == 0
      ||| % { sel: promql.selector([c.exporterSelector]) },
      'for': c.exporterDownFor,
      labels: { severity: 'critical' },
      annotations: {
        summary: 'The Flagger exporter is down or not scraped.',
        description: '{{ if $labels.instance }}Exporter target {{ $labels.instance }} is down{{ else }}Prometheus scrapes no target matching {%s}{{ end }}%s: canary metrics and every canary alert are missing.' % [c.exporterSelector, c.clusterDescription],
      },
    },

    {
      alert: 'FlaggerExporterNotSynced',
      expr: 'flagger_exporter_cache_synced%s == 0' % promql.selector([c.exporterSelector]),
      'for': c.exporterNotSyncedFor,
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The Flagger exporter has not synced its Canary cache.',
        description: 'Exporter {{ $labels.instance }}%s has not completed the initial list of Canary objects: it exports no or partial canary metrics. Check its watch errors and RBAC.' % c.clusterDescription,
      },
    },
  ],
}
