#!/usr/bin/env bash
# Regenerate imports/ offline: `make imports [CRDS=<folder>]`.
#
# cdk8s.yaml lists the canonical CRD URLs as NAME:=URL. This runs the cdk8s CLI's
# own `cdk8s import` over the same list, with each URL replaced by its local copy
# in the CRD folder (default crds/; SOURCES.md there maps URLs to files),
# so the result is exactly what `cdk8s import` makes online: one module per entry,
# imports/<NAME>/<reversed API group>/. The new tree is built beside imports/ and
# only replaces it when every import succeeded.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
crds=${1:-"$here/crds"}

die() {
  echo "import-crds: $*" >&2
  exit 2
}

[ -d "$crds" ] || die "no CRD folder at $crds; run: make imports CRDS=<folder with the CRD files>"
command -v cdk8s > /dev/null || die "the cdk8s CLI is not on PATH; run: make imports (it installs it)"
crds=$(cd "$crds" && pwd)

# The local copy of one URL: the file SOURCES.md lists for it, else the URL's file name.
local_copy() {
  local url=$1 file=""
  if [ -f "$crds/SOURCES.md" ]; then
    file=$(awk -F'|' -v url="$url" 'index($0, url) { gsub(/ /, "", $2); print $2; exit }' "$crds/SOURCES.md")
  fi
  echo "$crds/${file:-${url##*/}}"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$here/imports.new"' EXIT
{
  echo "language: python"
  echo "imports:"
  count=0
  while read -r entry; do
    name=${entry%%:=*}
    url=${entry#*:=}
    file=$(local_copy "$url")
    [ -f "$file" ] || die "$file: no local copy of $name ($url)"
    echo "  - $name:=$file"
    count=$((count + 1))
  done < <(sed -n 's/^[[:space:]]*-[[:space:]]*\([a-z0-9_-]*:=.*\)$/\1/p' "$here/cdk8s.yaml")
  [ "$count" -gt 0 ] || die "cdk8s.yaml lists no NAME:=URL imports"
} > "$tmp/cdk8s.yaml"

rm -rf "$here/imports.new"
(cd "$tmp" && cdk8s import --no-check-upgrade --output "$here/imports.new" > "$tmp/import.log" 2>&1) ||
  { cat "$tmp/import.log" >&2; die "cdk8s import failed (log above); imports/ unchanged"; }
rm -rf "$here/imports.old"
if [ -d "$here/imports" ]; then mv "$here/imports" "$here/imports.old"; fi
mv "$here/imports.new" "$here/imports"
rm -rf "$here/imports.old"
echo "imports/ regenerated from $(grep -c ':=' "$tmp/cdk8s.yaml") CRD files in $crds"
