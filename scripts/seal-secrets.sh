#!/usr/bin/env bash
# Seal an environment's secret values into secrets/<env>.sealed.yaml with kubeseal.
#
#   kubeseal --fetch-cert --controller-namespace kube-system > pub-cert.pem   # once per cluster
#   scripts/seal-secrets.sh prod pub-cert.pem            # prompts for each value (not echoed)
#
# Each value is sealed with `kubeseal --raw --scope strict` for exactly this
# namespace and Secret name, so a file can never be replayed into another
# environment. Plaintext only passes through stdin and never touches the disk.
set -euo pipefail
env=${1:?usage: seal-secrets.sh ENV CERT.pem}
cert=${2:?usage: seal-secrets.sh ENV CERT.pem}
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-"$here/.venv/bin/python"}
mapfile -t lines < <("$python" "$here/scripts/secret-keys.py" "$env")
read -r namespace name <<<"${lines[0]}"
out="$here/secrets/$env.sealed.yaml"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  echo "# kubeseal --raw --scope strict output for $namespace/$name; regenerate with scripts/seal-secrets.sh"
  echo "encryptedData:"
} >"$tmp"
for key in "${lines[@]:1}"; do
  read -r -s -p "$key: " value </dev/tty
  echo >&2
  sealed=$(printf '%s' "$value" | kubeseal --raw --cert "$cert" --scope strict \
    --namespace "$namespace" --name "$name")
  echo "  $key: $sealed" >>"$tmp"
done
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
