#!/usr/bin/env bash
# Installs the real software the tests start on loopback (tests/real/, docs/testing.md):
# Debian's redis, postgresql, pgbouncer, promtool and exporters, nss_wrapper (a passwd
# entry for the pods' uids), graphviz's `dot`, and
# the PgBouncer exporter from PyPI into .tools/pgbouncer-exporter (pinned with hashes).
# Idempotent and quick when everything is there; prints one line. It never fails the
# build: what is still missing makes the real tests skip (or fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."

# command (or path glob) -> Debian package
declare -A NEEDS=(
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [pgbouncer]=pgbouncer
  [promtool]=prometheus
  [prometheus-redis-exporter]=prometheus-redis-exporter
  [prometheus-postgres-exporter]=prometheus-postgres-exporter
  [pg_isready]=postgresql-client
  [psql]=postgresql-client
  [dot]=graphviz
  [/usr/lib/postgresql/*/bin/initdb]=postgresql
  [/usr/lib/*/libnss_wrapper.so]=libnss-wrapper
)

missing=()
for need in "${!NEEDS[@]}"; do
  if [[ $need == /* ]]; then
    compgen -G "$need" >/dev/null && continue
  else
    command -v "$need" >/dev/null && continue
  fi
  pkg=${NEEDS[$need]}
  [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
done

said=()
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    said+=("missing ${missing[*]}: run as root: apt-get install --no-install-recommends ${missing[*]}")
  else
    # Package scripts must not start system daemons (ports 6379, 5432, 9090...) here.
    guard=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      guard=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod +x "$guard"
      trap 'rm -f "$guard"' EXIT
    fi
    log=$(mktemp)
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
      said+=("apt installed ${missing[*]}")
    else
      said+=("apt-get install ${missing[*]} failed (see $log)")
    fi
    [[ -n $guard ]] && rm -f "$guard"
  fi
fi

# The PgBouncer exporter: a small venv of its own, rebuilt only when its pins change.
reqs=tests/real/pgbouncer-exporter.txt
venv=.tools/pgbouncer-exporter
stamp="$venv/.pins-$(sha256sum "$reqs" | cut -c1-16)"
if [[ ! -e $stamp ]]; then
  python=$(command -v python3.11 || command -v python3)
  log=$(mktemp)
  if rm -rf "$venv" && "$python" -m venv "$venv" >"$log" 2>&1 &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$reqs" >>"$log" 2>&1; then
    touch "$stamp"
    said+=("pgbouncer-exporter venv built")
  else
    said+=("pgbouncer-exporter venv failed (see $log)")
  fi
fi

if ((${#said[@]})); then
  printf -v line '%s; ' "${said[@]}"
  echo "test-deps: ${line%; }"
else
  echo "test-deps: all present"
fi
