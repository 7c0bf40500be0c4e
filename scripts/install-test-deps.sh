#!/usr/bin/env bash
# Installs the real software the tests start on loopback (filled in by the real-component tests).
set -euo pipefail
