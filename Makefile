# Two commands on a fresh clone: `make synth` and `make test`. Both install what
# they need first, once: the stamps below are only rebuilt when a lock file changes.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3.11
PIPENV_VERSION := 2026.10.3
ENV ?=
# Where `make imports` finds the local copies of the CRDs that cdk8s.yaml lists.
CRDS ?= crds
BENCH_ARGS ?=

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_VERBOSITY := -1
export CDK8S_CHECK_UPGRADE := false
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE,
# common in CI images; an empty value turns it off): every synth and every test
# subprocess would otherwise recompile imports/ (5.6 MB of generated Python) and, under
# -O, cdk8s-plus-28's bindings. It only writes the git-ignored __pycache__/ folders.
export PYTHONDONTWRITEBYTECODE :=
# The pinned Node 22 LTS (npm's `node` package) and pipenv come first on PATH.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.tools/bin:$(PATH)

.PHONY: install test-deps synth check-ready diff test lint typecheck pytest bench imports import-crd update new-env clean

.tools/bin/pipenv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)

.venv/.synced: Pipfile.lock | .tools/bin/pipenv
	pipenv sync --dev
	touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# `npx cdk8s ...` from a plain shell must not check npm for a newer CLI: the check
# needs the network, prints a stack trace when the registry lookup fails, and no
# cdk8s.yaml key turns it off; only CDK8S_CHECK_UPGRADE=false or a flag does. So
# node_modules/.bin/cdk8s (npm's link to the CLI) is replaced by scripts/cdk8s-shim.js,
# which sets that default and loads the same CLI.
node_modules/.cdk8s-shim: node_modules/.synced scripts/cdk8s-shim.js
	install -m 755 scripts/cdk8s-shim.js node_modules/.bin/.cdk8s-shim.new
	mv -f node_modules/.bin/.cdk8s-shim.new node_modules/.bin/cdk8s
	touch $@

# pip compiles bytecode for plain `python` only. The synth runs `python -O` (see synth),
# whose bytecode is compiled here once, by importing what it imports (that starts jsii,
# so after Node is installed): a shell with PYTHONDONTWRITEBYTECODE set would otherwise
# compile cdk8s-plus-28's 4 MB of bindings again on every `npx cdk8s synth`.
.venv/.optimized: .venv/.synced node_modules/.synced
	.venv/bin/python -O -c 'import cdk8s, cdk8s_plus_28, yaml'
	touch $@

install: .venv/.synced node_modules/.synced node_modules/.cdk8s-shim .venv/.optimized

## synth: write dist/<env>/ for every environment, or only ENV=<name> (comma-separated for more).
# main.py itself, directly: it validates everything before jsii starts and prints
# any mistake as one line. `cdk8s synth` runs the same command (cdk8s.yaml).
# -O drops the jsii bindings' run-time type checks (typeguard, under `if __debug__:` in
# every generated method): 0.5 s of a 3.9 s one-process synth. The output is the same bytes
# (tests/test_cli.py compares both with the test session's render, made with the checks on).
synth: export VIBEYARD_ENV := $(ENV)
synth: install
	@.venv/bin/python -O main.py

## check-ready: list every template value left in what ENV=<env> deploys (dist/<env>/ and its Argo CD
## Applications), one line each, with the field to set or the file to reseal; fails while any is left.
check-ready: install
	@.venv/bin/python scripts/check-ready.py $(ENV)

## diff: what the working tree changes in dist/ since BASE=<git ref> (default: merge base with main), risks first.
# BASE's committed dist/ is exact (CI keeps it equal to a fresh synth), so nothing is rendered.
# FORMAT=markdown writes the report for a CI job summary. A blocking change without a new
# upgrade note exits 3, which make shows as "Error 3" (make itself then exits 2, as for any
# failed recipe). docs/review.md.
diff: export REVIEW_BASE := $(BASE)
diff: export REVIEW_FORMAT := $(FORMAT)
diff: install
	@.venv/bin/python scripts/review-diff.py

## update: regenerate everything derived: dist/ (its release records stay), the variants' snapshots,
## the connectivity lists and pictures (docs/network/), the generated docs and .github/CODEOWNERS.
update: install test-deps
	@.venv/bin/python -O main.py
	@# The variants must build first: syrupy deletes the snapshots of tests that error.
	.venv/bin/pytest -q -p no:cacheprovider tests/test_variants.py -k "not snapshot"
	.venv/bin/pytest -q -p no:cacheprovider tests/test_variants.py --snapshot-update
	.venv/bin/python scripts/update-network-maps.py
	.venv/bin/python scripts/update-docs.py

## new-env: add an environment: make new-env NAME=<name> FROM=<existing> [BRANCH=<branch>] (docs/configuration.md).
new-env: install
	.venv/bin/python scripts/new-env.py "$(NAME)" "$(FROM)" $(if $(BRANCH),"$(BRANCH)")
	$(MAKE) --no-print-directory update

## test-deps: the real servers the tests start (redis, postgres, pgbouncer, promtool, exporters).
test-deps:
	scripts/install-test-deps.sh

## test: lint, type-check and the whole pytest suite (snapshots, semantics, validators, real servers).
# The three run side by side (mypy would leave a core idle on its own); --output-sync
# prints each one's output whole, once it is done.
test: install test-deps
	$(MAKE) --no-print-directory -j3 --output-sync=target lint typecheck pytest

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy

# One pytest-xdist worker per core, each taking whole files in the order tests/conftest.py
# gives (slowest first): a file's module-scoped fixtures (checkov's scan, nca's maps) then run
# once. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= auto
pytest: install
	.venv/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

## bench: time the synth against its targets (see docs/synth.md "Speed"); BENCH_ARGS=--help for options.
bench: install
	.venv/bin/python scripts/bench.py $(BENCH_ARGS)

## imports: regenerate imports/ from the local copies of the CRDs in cdk8s.yaml (CRDS=<folder>).
# A missing folder is one line from make itself, before any install.
ifneq ($(filter imports,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(CRDS)/.),)
$(error no CRD folder at $(CRDS): run make imports CRDS=<folder with the CRD files cdk8s.yaml lists>)
endif
endif
imports: node_modules/.synced node_modules/.cdk8s-shim
	scripts/import-crds.sh "$(CRDS)"

## import-crd: vendor a CRD and import it: make import-crd NAME=<name> FILE=<path or URL> (docs/synth.md).
import-crd: node_modules/.synced node_modules/.cdk8s-shim
	scripts/import-crd.sh "$(NAME)" "$(FILE)"

clean:
	rm -rf .venv .tools node_modules .cdk8s.out .mypy_cache .ruff_cache .pytest_cache
