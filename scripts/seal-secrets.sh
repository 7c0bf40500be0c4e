#!/usr/bin/env bash
# Seal Secret values into secrets/<env>.sealed.yaml, a full SealedSecret manifest.
#
#   kubeseal --fetch-cert > pub-cert.pem                        # once per cluster (kube-system/sealed-secrets-controller)
#   scripts/seal-secrets.sh prod pub-cert.pem                   # every key prod needs (first sealing)
#   scripts/seal-secrets.sh prod pub-cert.pem redis-password    # rotate one key; the others stay as they are
#   scripts/seal-secrets.sh --dry-run prod pub-cert.pem redis-password   # print the commands only
#
# Each key is sealed on its own with `kubeseal --merge-into` and strict scope (this namespace
# and Secret name only, so a value can never be replayed into another environment): rotating
# one key never means re-entering the others. Values are read without echo from the terminal,
# or one per line from stdin when stdin is not a terminal (e.g. piped from a password manager).
# They only pass through pipes and shell builtins, never argv or the disk. The file is replaced once every key
# is sealed, so a failure halfway leaves it as it was.
set -euo pipefail

usage="usage: seal-secrets.sh [--dry-run] ENV CERT.pem [KEY ...]"
fail() { echo "seal-secrets.sh: $*" >&2; exit 2; }

dry_run=false
if [ "${1:-}" = --dry-run ]; then dry_run=true; shift; fi
[ $# -ge 2 ] || fail "$usage"
env=$1 cert=$2
shift 2
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-"$here/.venv/bin/python"}
keys_py="$here/scripts/secret-keys.py"

# Namespace, Secret name and the required keys, from the typed config (fails on a bad ENV).
listing=$("$python" "$keys_py" "$env") || exit 2
mapfile -t lines <<<"$listing"
read -r namespace name <<<"${lines[0]}"
known=("${lines[@]:1}")
if [ $# -eq 0 ]; then
  keys=("${known[@]}")
else
  keys=("$@")
  for key in "${keys[@]}"; do
    [[ " ${known[*]} " == *" $key "* ]] || fail "$env needs no key '$key': its keys are ${known[*]}"
  done
fi
# A one-key Secret for kubeseal. printf is a shell builtin and base64 reads stdin, so the
# value never appears in any process's argv. Names and keys are DNS labels: no escaping.
secret_json() {
  local b64
  b64=$(printf '%s' "$2" | base64 | tr -d '\n')
  printf '{"apiVersion":"v1","kind":"Secret","type":"Opaque","metadata":{"name":"%s","namespace":"%s"},"data":{"%s":"%s"}}\n' \
    "$name" "$namespace" "$1" "$b64"
}
rel="secrets/$env.sealed.yaml"
out="$here/$rel"
seal=(kubeseal --cert "$cert" --scope strict --format yaml)

if [ "$dry_run" = true ]; then
  echo "# dry run: seal ${#keys[@]} key(s) of $namespace/$name into $rel"
  echo "scripts/secret-keys.py $env --manifest $rel > $rel.new"
  for key in "${keys[@]}"; do
    echo "<Secret $namespace/$name with $key> | ${seal[*]} --merge-into $rel.new"
  done
  echo "mv $rel.new $rel"
  exit 0
fi

command -v kubeseal >/dev/null || fail "kubeseal is not on PATH (kubeseal v0.36.6, docs/operations.md)"
[ -r "$cert" ] || fail "cannot read the sealing certificate '$cert' (kubeseal --fetch-cert > $cert)"

work=$(mktemp "$out.XXXXXX")
trap 'rm -f "$work" "$work.header"' EXIT
"$python" "$keys_py" "$env" --manifest "$out" >"$work"
for key in "${keys[@]}"; do
  if [ -t 0 ]; then
    read -r -s -p "$key: " value
    echo >&2
  else
    IFS= read -r value || fail "stdin ended before a value for '$key'"
  fi
  [ -n "$value" ] || fail "empty value for '$key': nothing to seal"
  secret_json "$key" "$value" | "${seal[@]}" --merge-into "$work"
  value=
  echo "sealed $key" >&2
done
{
  echo "# SealedSecret for $namespace/$name (strict scope), written by kubeseal --merge-into."
  echo "# Rotate one key: scripts/seal-secrets.sh $env CERT.pem KEY (docs/release.md)."
  cat "$work"
} >"$work.header"
chmod 644 "$work.header"
mv "$work.header" "$out"
echo "wrote $rel; next: make synth ENV=$env, then commit $rel and dist/$env/" >&2
