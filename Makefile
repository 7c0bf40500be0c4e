# Two commands on a fresh clone: `make synth` and `make test`. Both install what
# they need first, once: the stamps below are only rebuilt when a lock file changes.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := synth

PYTHON ?= python3.11
PIPENV_VERSION := 2026.10.3
ENV ?=

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_NOSPIN := 1
export PIPENV_YES := 1
export PIPENV_VERBOSITY := -1
export CDK8S_CHECK_UPGRADE := false
# The pinned Node 22 LTS (npm's `node` package) and pipenv come first on PATH.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/.tools/bin:$(PATH)

.PHONY: install test-deps synth test lint typecheck pytest bench imports clean

.tools/bin/pipenv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check pipenv==$(PIPENV_VERSION)

.venv/.synced: Pipfile.lock | .tools/bin/pipenv
	pipenv sync --dev
	touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: .venv/.synced node_modules/.synced

## synth: write dist/<env>/ for every environment, or only ENV=<name>.
# The --check pass validates config and sealed files in plain Python first, so a
# mistake prints its one line and stops here instead of inside the cdk8s CLI.
synth: install
	.venv/bin/python main.py --check $(ENV)
	VIBEYARD_ENV="$(ENV)" cdk8s synth

## test-deps: the real servers the tests start (redis, postgres, pgbouncer, promtool, exporters).
test-deps:
	scripts/install-test-deps.sh

## test: lint, type-check, then the whole pytest suite (snapshots, semantics, validators, real servers).
test: install test-deps lint typecheck pytest

lint: install
	pipenv run ruff check .
	pipenv run ruff format --check .

typecheck: install
	pipenv run mypy

pytest: install
	pipenv run pytest

## bench: measure synth and test time (see README "Speed").
bench: install
	pipenv run python scripts/bench.py

## imports: regenerate imports/ offline from ../shared/crds in one cdk8s import run.
imports: node_modules/.synced
	scripts/import-crds.sh

clean:
	rm -rf .venv .tools node_modules .cdk8s.out .mypy_cache .ruff_cache .pytest_cache
