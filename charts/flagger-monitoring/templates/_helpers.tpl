{{/* Names, labels and images shared by every template. */}}

{{- define "flagger-monitoring.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flagger-monitoring.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Object name of a component: <fullname>-<component>, 63 characters at most. */}}
{{- define "flagger-monitoring.componentName" -}}
{{- printf "%s-%s" (include "flagger-monitoring.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels of every object. app.kubernetes.io/name is the component's binary
name (flagger-exporter, flagger-event-adapter) whatever the release is
called: the ServiceMonitor's jobLabel makes it the job label, which the
mixin's exporterSelector matches (job="flagger-exporter").
*/}}
{{- define "flagger-monitoring.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: flagger-monitoring
{{ include "flagger-monitoring.selectorLabels" . }}
{{- if .root.Chart.AppVersion }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "flagger-monitoring.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The label kube-prometheus-stack's Prometheus and Alertmanager select by, plus extra labels. */}}
{{- define "flagger-monitoring.selectedLabels" -}}
{{- $labels := deepCopy (default (dict) .extra) -}}
{{- with .root.Values.kubePrometheusStackRelease }}{{ $_ := set $labels "release" . }}{{ end -}}
{{- with $labels }}{{ toYaml . }}{{ end -}}
{{- end -}}

{{/*
The liveness and readiness probes of a flagger-monitoring binary (both
serve /-/healthy and /-/ready). With a web config its TLS client auth and
basic auth cover every path, probes included: the kubelet checks the port
only.
*/}}
{{- define "flagger-monitoring.probes" -}}
{{- range $probe, $path := dict "livenessProbe" "/-/healthy" "readinessProbe" "/-/ready" }}
{{ $probe }}:
  {{- if $.webConfig }}
  tcpSocket:
    port: {{ $.port }}
  {{- else }}
  httpGet:
    path: {{ $path }}
    port: {{ $.port }}
  {{- end }}
  periodSeconds: {{ index $.periods $probe }}
{{- end }}
{{- end -}}

{{/* repository:tag or repository@digest; the tag defaults to appVersion. */}}
{{- define "flagger-monitoring.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
A file of the mixin's render (files/mixin/, written by make generate) with
each @@knob@@ placeholder replaced by the value of mixin.<knob> (or of the
extra dict). Every placeholder sits inside a JSON string, so the value is
inserted JSON-escaped: toJson, without the quotes around it.
*/}}
{{- define "flagger-monitoring.mixinFile" -}}
{{- $text := .root.Files.Get (printf "files/mixin/%s" .file) -}}
{{- if not $text -}}
{{- fail (printf "files/mixin/%s is missing from the chart: run make generate" .file) -}}
{{- end -}}
{{- $knobs := merge (dict) (default (dict) .extra) .root.Values.mixin -}}
{{- range $k, $v := $knobs -}}
{{- $text = replace (printf "@@%s@@" $k) (toJson (toString $v) | trimPrefix "\"" | trimSuffix "\"") $text -}}
{{- end -}}
{{- $text -}}
{{- end -}}

{{/*
The adapter's StatefulSet name: at most 52 characters, so that its pods'
names and controller-revision-hash labels stay within Kubernetes' 63.
*/}}
{{- define "flagger-monitoring.adapterStatefulSet" -}}
{{- include "flagger-monitoring.componentName" (dict "root" . "component" "event-adapter") | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{/* The headless Service naming each adapter pod: at most 63 characters. */}}
{{- define "flagger-monitoring.adapterPeersService" -}}
{{- printf "%s-peers" (include "flagger-monitoring.componentName" (dict "root" . "component" "event-adapter") | trunc 57 | trimSuffix "-") -}}
{{- end -}}

{{/*
The adapter replicas' --cluster.peer URLs as a JSON list: each StatefulSet
pod by its name under the headless Service, on the container port (a
headless Service's names resolve to the pods, so its port is not applied);
empty for one replica. adapter.peerScheme is https when the adapter's web
config turns TLS on, which then also needs cluster.http_config (its CA,
basic auth) in adapter.config.
*/}}
{{- define "flagger-monitoring.adapterPeers" -}}
{{- $a := .Values.adapter -}}
{{- $sts := include "flagger-monitoring.adapterStatefulSet" . -}}
{{- $svc := include "flagger-monitoring.adapterPeersService" . -}}
{{- $peers := list -}}
{{- if gt (int $a.replicas) 1 -}}
{{- range $i := until (int $a.replicas) -}}
{{- $peers = append $peers (printf "%s://%s-%d.%s.%s.svc:9099" $a.peerScheme $sts $i $svc $.Release.Namespace) -}}
{{- end -}}
{{- end -}}
{{- toJson $peers -}}
{{- end -}}
