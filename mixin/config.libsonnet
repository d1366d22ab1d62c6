// Every selector, label, threshold and duration the mixin uses. Override any of
// them with `(import 'mixin.libsonnet') + { _config+:: { ... } }`; the derived
// fields at the bottom follow because they read `self`.
{
  _config+:: {
    // ---- where the series come from ----------------------------------------
    // PromQL matchers (no braces). The exporter job scrapes flagger-exporter;
    // the conventional alerts, rules and dashboards read only that job so that
    // a Prometheus that also scrapes Flagger does not see every canary twice.
    exporterSelector: 'job="flagger-exporter"',
    // Flagger's own /metrics: used by the per-canary dashboard's analysis row.
    flaggerSelector: 'job="flagger"',
    // Extra matcher on canary series, e.g. 'namespace=~"team-a-.*"'.
    namespaceSelector: '',

    // canary_rollback is Flagger's documented rule, kept literal so existing
    // routes keep matching. Both Flagger and the exporter export
    // flagger_canary_status; when both are scraped set this to one job (for
    // example 'job="flagger"') or inhibit canary_rollback in Alertmanager.
    canaryRollbackSelector: '',

    // ---- multi-cluster -------------------------------------------------------
    // The label that tells clusters apart in a global view (Thanos, Mimir).
    // It is always part of aggregations and joins (harmless when absent);
    // showMultiCluster adds it to dashboards and alert descriptions.
    clusterLabel: 'cluster',
    showMultiCluster: false,

    // ---- alert groups and thresholds ------------------------------------------
    canaryRollbackAlertEnabled: true,
    lifecycleAlertsEnabled: true,
    // The severity label of the lifecycle notices (Flagger's rollout steps,
    // sent to chat on their own). Not `info`: kube-prometheus-stack (and the
    // kubernetes-mixin convention it follows) treats info alerts as context
    // and mutes every one of them in a namespace where no warning or critical
    // alert fires (its InfoInhibitor), which would silence every notice.
    // `notice` is syslog's "normal but significant condition". flagger-exporter's
    // FlaggerCanaryStep alerts use the same value (--events.alert-severity).
    noticeSeverity: 'notice',

    runbookURLPattern: 'https://github.com/flagger-monitoring/flagger-monitoring/blob/main/docs/runbooks.md#%s',

    // Phases in which Flagger writes the canary's status (and so stamps
    // lastTransitionTime) on every analysis interval: a weight step, an
    // iteration, a failed check or the next phase. ProgressDeadlineExceeded
    // watches them. Progressing does not count for a canary with a
    // confirm-traffic-increase webhook: while that gate is closed Flagger
    // waits in Progressing without writing the status.
    rolloutPhases: ['Progressing', 'Promoting', 'Finalising'],
    // Phases in which Flagger runs metric checks and rolls back at threshold.
    analysisPhases: ['Progressing', 'WaitingPromotion'],
    // Phases during which a new revision is being rolled out (NewRevision).
    revisionPhases: ['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'],

    rolledBackFor: '1m',
    promotionFailedFor: '1m',
    progressDeadlineExceededFor: '5m',
    // ProgressDeadlineExceeded fires when the status has not been written
    // for longer than analysis interval + max(progressDeadlineSeconds,
    // analysis interval) + this many seconds: Flagger waits up to the
    // deadline for a workload to become ready before it rolls back, and a
    // run that overruns its interval skips the next tick.
    progressDeadlineSlackSeconds: 60,
    failedChecksFraction: 0.5,
    failedChecksRisingFor: '1m',
    waitingPromotionTooLongFor: '1h',
    rolledBackBelowThresholdFor: '1m',
    // How long after a rollback RolledBackBelowThreshold looks (and stays
    // firing), and how far back it looks for failed checks that reached the
    // threshold (Flagger resets failedChecks to 0 when it marks the canary
    // Failed).
    rolledBackBelowThresholdWindow: '15m',
    rolledBackBelowThresholdLookback: '30m',
    exporterDownFor: '5m',
    exporterNotSyncedFor: '5m',

    // Lifecycle alerts fire when a canary entered a phase within this window
    // and resolve when it leaves the phase or the window passes.
    lifecycleWindow: '10m',
    // Alerts on long-lived phases (RolledBack, PromotionFailed,
    // WaitingPromotionTooLong, RolledBackBelowThreshold, the lifecycle
    // notices) read the phase, canary weight and info series
    // through last_over_time(...[this]), so that an exporter restart (a
    // scrape gap with staleness markers) neither resolves and re-fires them
    // nor restarts their `for`. A deleted canary's alert lingers this long.
    exporterGapTolerance: '5m',

    // Recording rules: the window of the transitions rate.
    transitionsRateWindow: '5m',

    // ---- Grafana ---------------------------------------------------------------
    grafana: {
      refresh: '30s',
      timezone: 'utc',
      timeFrom: 'now-6h',
      tags: ['flagger', 'flagger-monitoring'],
    },
    dashboardUIDs: {
      'flagger-canaries.json': 'flagger-canaries',
      'flagger-canary.json': 'flagger-canary',
    },

    // ---- kubectl manifests -----------------------------------------------------
    manifests: {
      namespace: 'monitoring',
      name: 'flagger-monitoring',
      labels: {
        'app.kubernetes.io/name': 'flagger-monitoring',
        'app.kubernetes.io/component': 'mixin',
        'app.kubernetes.io/part-of': 'flagger-monitoring',
      },
      // Extra labels a Prometheus Operator ruleSelector may want.
      prometheusRuleLabels: {},
      // The Grafana sidecar picks up ConfigMaps carrying this label.
      dashboardLabels: { grafana_dashboard: '1' },
      // Folder annotation honoured by the Grafana sidecar (null: none).
      dashboardFolder: 'Flagger',
    },
    // Render alertmanagerConfig (mixin/alertmanager/) into the manifests
    // (mixin/manifests/alertmanagerconfig.yaml and the kustomization). The
    // mixin's alertmanagerConfig field is there either way.
    alertmanagerConfigEnabled: true,
    // Settings of the AlertmanagerConfig (name, namespace, labels, secretName,
    // secretKeys, receivers, slackChannel): see
    // mixin/alertmanager/alertmanager-config.libsonnet for the defaults.
    // Override with `alertmanagerConfig+: { receivers+: { pager: false } }`.
    alertmanagerConfig: {},

    // ---- derived (do not override) ----------------------------------------------
    // Matchers shared by every canary series of the exporter.
    canarySelectors:: [self.exporterSelector, self.namespaceSelector],
    // Series of one canary from one exporter target share these labels; joins
    // between exporter metrics match on them.
    canaryJoinLabels:: [self.clusterLabel, 'namespace', 'canary', 'job', 'instance'],
    clusterDescription:: if self.showMultiCluster then ' in cluster {{ $labels.%s }}' % self.clusterLabel else '',
  },
}
