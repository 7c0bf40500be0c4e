#!/usr/bin/env bash
# Vendor one more CRD and import it: `make import-crd NAME=<name> FILE=<path or URL>`.
#
# `npx cdk8s import NAME:=FILE` would rewrite cdk8s.yaml (dropping its comments and
# recording an absolute path, which breaks `make imports` on any other machine). This
# instead copies the file into crds/ (downloading a URL), records where it came from in
# crds/SOURCES.md, adds `NAME:=<URL, or crds/<file>>` to cdk8s.yaml's imports as text
# (comments kept), and runs `make imports` (scripts/import-crds.sh). Any failure restores
# cdk8s.yaml and SOURCES.md and removes the copy; every mistake is one line, exit 2.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
name=${1:-} src=${2:-}

die() {
  echo "import-crd: $*" >&2
  exit 2
}

[ -n "$name" ] && [ -n "$src" ] || die "usage: make import-crd NAME=<name> FILE=<path or URL>"
[[ $name =~ ^[a-z][a-z0-9]*$ ]] || die "NAME=$name: lowercase letters and digits, like 'gateways' (it names imports/<NAME>/)"
grep -qE "^[[:space:]]*-[[:space:]]*$name:=" "$here/cdk8s.yaml" && die "cdk8s.yaml already imports '$name'"

file="${src##*/}"
dest="$here/crds/$file"
[ -e "$dest" ] && die "crds/$file exists already; remove it or give the file another name"
case "$src" in
  http://* | https://*) entry=$src ;;
  *) [ -f "$src" ] || die "FILE=$src: no such file"; entry="crds/$file" ;;
esac

backup=$(mktemp -d)
cp "$here/cdk8s.yaml" "$here/crds/SOURCES.md" "$backup/"
restore() {
  cp "$backup/cdk8s.yaml" "$here/cdk8s.yaml"
  cp "$backup/SOURCES.md" "$here/crds/SOURCES.md"
  rm -f "$dest"
  rm -rf "$backup"
}
trap 'restore; die "failed; cdk8s.yaml, crds/ and imports/ are unchanged"' ERR

case "$src" in
  http://* | https://*) curl -fsSL --max-time 60 -o "$dest" "$src" ;;
  *) cp "$src" "$dest" ;;
esac
grep -q "kind: CustomResourceDefinition" "$dest" || { restore; die "$src holds no CustomResourceDefinition"; }
kinds=$(awk '/^  names:/ { n = 1 } n && /^    kind:/ { print $2; n = 0 }' "$dest" | sort -u | paste -sd, -)
printf '| %s | %s | added with make import-crd | %s | | | %s |\n' "$file" "${kinds:-?}" "$src" "$entry" >>"$here/crds/SOURCES.md"
# The new entry goes right after the last NAME:= line of the imports list.
awk -v line="  - $name:=$entry" '
  { lines[NR] = $0 } /^[[:space:]]*-[[:space:]]*[a-z0-9_-]+:=/ { last = NR }
  END { for (i = 1; i <= NR; i++) { print lines[i]; if (i == last) print line } if (!last) exit 1 }
' "$backup/cdk8s.yaml" >"$here/cdk8s.yaml"
"$here/scripts/import-crds.sh" "$here/crds"
trap - ERR
rm -rf "$backup"
echo "import-crd: $name from $src (crds/$file; cdk8s.yaml imports it as $entry)"
