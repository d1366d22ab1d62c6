// Flagger's documented alert, verbatim, so Alertmanager routes written for
// Flagger keep matching. It reads flagger_canary_status from whichever job
// exports it: Flagger ({name, namespace}) and the exporter ({name, namespace,
// canary}). See canaryRollbackSelector in config.libsonnet.
local promql = import '../lib/promql.libsonnet';

{
  canaryRollbackAlerts(c):: [
    {
      alert: 'canary_rollback',
      expr: 'flagger_canary_status%s > 1' % (
        if c.canaryRollbackSelector == '' then '' else promql.selector([c.canaryRollbackSelector])
      ),
      'for': '1m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Canary failed',
        description: 'Workload {{ $labels.name }} namespace {{ $labels.namespace }}',
      },
    },
  ],
}
