#!/usr/bin/env bash
# Regenerate imports/ offline from the local copies of the upstream CRDs.
#
# All CRDs go through ONE `cdk8s import` of ONE concatenated file: imported one at
# a time, two CRDs of the same API group (ServiceMonitor and PrometheusRule, or
# ScaledObject and TriggerAuthentication) overwrite each other's module.
# The concatenated file lives in a temp dir and is never committed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
crds=${1:-"$here/../shared/crds"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$crds"/*.yaml; do
  cat "$f"
  printf '\n---\n'
done > "$tmp/all-crds.yaml"
rm -rf "$here/imports.new"
(cd "$tmp" && cdk8s import "$tmp/all-crds.yaml" --no-check-upgrade --language python --output "$here/imports.new")
rm -rf "$here/imports"
mv "$here/imports.new" "$here/imports"
echo "imports/ regenerated from $(ls "$crds"/*.yaml | wc -l) CRD files"
