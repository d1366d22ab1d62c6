#!/usr/bin/env bash
# Renders the monitoring mixin (mixin/) into the committed files:
#   rules/*.yaml            Prometheus rule files
#   dashboards/*.json       Grafana dashboards
#   mixin/manifests/*.yaml  PrometheusRule, AlertmanagerConfig, dashboard ConfigMaps,
#                           kustomization
#
# usage: hack/generate-mixin.sh [OUT_DIR]
#
# Without OUT_DIR (what `make generate` runs) it first formats the jsonnet
# sources with jsonnetfmt and then renders into the repository. With OUT_DIR
# it only renders, into OUT_DIR; the mixin's Go test uses that to check that
# the committed files are in sync. The output directories are emptied first
# so that a renamed or removed output does not linger.
#
# JSONNET and JSONNETFMT override the pinned tools in bin/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jsonnet=${JSONNET:-$root/bin/jsonnet}
jsonnetfmt=${JSONNETFMT:-$root/bin/jsonnetfmt}

for tool in "$jsonnet" "$jsonnetfmt"; do
	if [[ ! -x $tool ]]; then
		echo "generate-mixin: $tool not found: run \`make tools\` first" >&2
		exit 1
	fi
done

if [[ $# -gt 1 ]]; then
	echo "usage: $0 [OUT_DIR]" >&2
	exit 2
fi

if [[ $# -eq 0 ]]; then
	out=$root
	# Sorted, so that the run is the same on every machine.
	find "$root/mixin" -type f \( -name '*.jsonnet' -o -name '*.libsonnet' \) -print0 |
		LC_ALL=C sort -z | xargs -0 "$jsonnetfmt" -i
else
	mkdir -p "$1"
	out=$(cd "$1" && pwd)
fi

rm -rf "$out/rules" "$out/dashboards" "$out/mixin/manifests" "$out/charts/flagger-monitoring/files/mixin"
"$jsonnet" -S -c -m "$out" "$root/mixin/render.jsonnet" >/dev/null

# The Helm chart's values table, from its values.yaml (only in the
# repository: the sync test compares the README on its own).
if [[ $# -eq 0 ]]; then
	(cd "$root" && go run ./hack/chartvalues charts/flagger-monitoring)
fi
