# The two commands a newcomer needs:
#   make run   the whole pipeline on the embedded default (DuckDB + a local lake folder)
#   make test  every test: linters, pytest (loader, end to end), dbt build with its tests
# Both create .venv and install what they need on first use, pinned by constraints/:
#   make run   the loader and dbt only (constraints/run.txt)
#   make test  adds the local Athena endpoint and the test, lint and browser tools

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check
# One stamp per layer: each `pip install` adds to the one venv what its target needs.
RUN_STAMP := $(VENV)/.installed-run
ATHENA_STAMP := $(VENV)/.installed-athena-local
DEV_STAMP := $(VENV)/.installed-dev
# cfn-lint and checkov live in a venv of their own: checkov's pins conflict with dbt's.
INFRA_VENV := .venv-infra
LAKE ?= $(or $(DAP_LAKE),lake)
SAMPLE_DIR ?= build/sample
REPORT_DIR ?= build/report
export DAP_LAKE := $(LAKE)
# Buckets the local Athena endpoint creates for run-athena and athena-local.
ATHENA_LAKE_BUCKET ?= vancouver-311-lake
ATHENA_RESULTS_BUCKET ?= vancouver-311-athena-results
ATHENA_ENV := DBT_TARGET=athena DBT_TARGET_PATH=build/athena-target \
	DAP_ATHENA_S3_STAGING_DIR=s3://$(ATHENA_RESULTS_BUCKET)/dbt/ \
	DAP_ATHENA_S3_DATA_DIR=s3://$(ATHENA_LAKE_BUCKET)/ DAP_ATHENA_POLL_INTERVAL=0.2

.PHONY: help setup setup-athena setup-dev constraints run build run-athena athena-local pipeline-local docs docs-serve report test lint lint-python \
	lint-sql lint-workflows lint-infra browser pytest test-long test-adapter test-adapter-iceberg bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(RUN_STAMP): pyproject.toml constraints/run.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required, found " + sys.version.split()[0])'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(PIP) -c constraints/run.txt -e '.[dbt]'
	@touch $@

$(ATHENA_STAMP): $(RUN_STAMP) constraints/athena-local.txt
	$(PIP) -c constraints/athena-local.txt -e '.[dbt,athena-local]'
	@touch $@

$(DEV_STAMP): $(ATHENA_STAMP) constraints/dev.txt
	$(PIP) -c constraints/dev.txt -e '.[dbt,athena-local,metrics,dev]'
	@touch $@

profiles.yml:
	cp profiles.yml.example $@

setup: $(RUN_STAMP) profiles.yml ## create .venv with the loader and dbt, and ./profiles.yml
setup-athena: $(ATHENA_STAMP) profiles.yml
setup-dev: $(DEV_STAMP) profiles.yml

run: setup ## sample workbooks -> lake -> dbt build (what changed) -> yearly table -> report
	$(BIN)/dap sample --out $(SAMPLE_DIR)
	$(BIN)/dap load $(SAMPLE_DIR)/*.xls $(SAMPLE_DIR)/*.xlsx --lake $(LAKE)
	@$(MAKE) --no-print-directory build
	$(BIN)/dap summary --lake $(LAKE)
	$(BIN)/dap report --lake $(LAKE) --out $(REPORT_DIR)
	@echo "report: open $(REPORT_DIR)/index.html (chart: $(REPORT_DIR)/calls-handled.png)"

# dbt build of what changed since this lake's last successful build (`dap build --help`):
# with nothing landed, retracted or restored and no dbt file changed, no dbt process starts
# ("nothing new: ..."). Otherwise models whose code or configuration changed
# (state:modified+) and everything downstream of a source with newer data
# (source_status:fresher+, from `dbt source freshness`); the first build of a lake, or one
# whose warehouse is gone, builds everything. DAP_DBT: the venv's dbt unless set.
build: setup ## dbt build of what changed since the lake's last build (all, the first time)
	@DAP_DBT="$${DAP_DBT:-$(CURDIR)/$(BIN)/dbt}" $(BIN)/dap build --lake $(LAKE)

report: setup ## render the public report from the local warehouse into build/report/
	$(BIN)/dap report --lake $(LAKE) --out build/report

docs: setup ## generate the dbt docs site (target/index.html) and check documentation coverage
	$(BIN)/dbt docs generate
	$(BIN)/dap docs-coverage

DOCS_PORT ?= 8080
docs-serve: docs ## serve the dbt docs site on http://127.0.0.1:$(DOCS_PORT)
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

run-athena: setup-athena ## the same pipeline on Athena, offline: s3:// lake, Glue, dbt-athena, local endpoint
	$(BIN)/dap sample --out $(SAMPLE_DIR)
	$(BIN)/dap athena-local --port 0 --bucket $(ATHENA_LAKE_BUCKET) --bucket $(ATHENA_RESULTS_BUCKET) \
		-- env $(ATHENA_ENV) bash -c '$(BIN)/dap load --lake s3://$(ATHENA_LAKE_BUCKET) \
		$(SAMPLE_DIR)/*.xls $(SAMPLE_DIR)/*.xlsx && $(BIN)/dbt build \
		&& $(BIN)/dbt show --select fct_calls_handled_yearly --limit 20'

athena-local: setup-athena ## serve the local Athena endpoint on 127.0.0.1:4566 until Ctrl-C
	$(BIN)/dap athena-local --bucket $(ATHENA_LAKE_BUCKET) --bucket $(ATHENA_RESULTS_BUCKET)

# The nightly `dap pipeline`, offline: a stand-in portal on 127.0.0.1 (tools/portal.py)
# serves the synthetic sample as the City's CSV export; the lake and dbt are on the local
# Athena endpoint; the page goes to build/site/. The endpoint keeps nothing between runs,
# so each run builds: `dap pipeline` itself builds only when something is new.
SITE_DIR ?= build/site
pipeline-local: setup-athena ## dap pipeline offline: stand-in portal, local Athena endpoint -> build/site
	$(BIN)/dap athena-local --port 0 --bucket $(ATHENA_LAKE_BUCKET) --bucket $(ATHENA_RESULTS_BUCKET) \
		-- $(BIN)/python tools/portal.py --sample build/portal/3-1-1-contact-centre-metrics.csv \
		-- env $(ATHENA_ENV) $(BIN)/dap pipeline --lake s3://$(ATHENA_LAKE_BUCKET) --publish $(SITE_DIR)
	@echo "page: open $(SITE_DIR)/index.html"

test: setup-dev lint browser pytest ## every test: linters, then pytest (dbt end to end, Athena, browsers)

lint: lint-python lint-sql lint-workflows lint-infra ## ruff, mypy, sqlfluff, yamllint, workflows, cfn-lint, checkov, parliament, cloudsplaining

lint-python: setup-dev
	$(BIN)/ruff check scripts tests/python bench tools
	$(BIN)/ruff format --check scripts tests/python bench tools
	$(BIN)/mypy

# sqlfluff's dbt templater compiles the project; give it a throwaway lake. The second pass
# renders the Athena side of every dispatch macro (dbt-athena asks STS who it is when it
# compiles, so that pass runs against the local endpoint).
lint-sql: setup-dev
	@mkdir -p build/lint-lake
	DAP_LAKE=build/lint-lake $(BIN)/sqlfluff lint models macros tests analyses
	@printf '[sqlfluff:templater:dbt]\ntarget = athena\n' > build/sqlfluff-athena.cfg
	$(BIN)/dap athena-local --port 0 -- env DAP_LAKE=build/lint-lake $(ATHENA_ENV) \
		$(BIN)/sqlfluff lint models macros tests analyses --config build/sqlfluff-athena.cfg

# YAML style everywhere; GitHub workflows schema-valid, with no zizmor finding of medium
# severity or higher.
lint-workflows: setup-dev
	$(BIN)/yamllint --strict .github models macros infra dbt_project.yml profiles.yml.example \
		.pre-commit-config.yaml .yamllint.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --min-severity medium .github/workflows

$(INFRA_VENV)/.installed: infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	@touch $@

# The CloudFormation template: cfn-lint clean, and no failed checkov check (a skip is
# written in the template, with its reason). checkov runs offline: no platform download
# (--skip-download, BC_SKIP_MAPPING), no PyPI version check; a template it cannot parse
# fails the target instead of passing unchecked. Then parliament and cloudsplaining on every
# policy of the template: each finding accepted, with its reason, in
# infra/scanner-exceptions.yaml, or the target fails (infra/scan_policies.py).
lint-infra: $(INFRA_VENV)/.installed ## cfn-lint, checkov, parliament, cloudsplaining on infra/
	$(INFRA_VENV)/bin/cfn-lint infra/platform.yaml
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE CKV_PARSE_ERROR_FAIL=TRUE \
		$(INFRA_VENV)/bin/checkov --directory infra --framework cloudformation --skip-download \
		--quiet --compact
	$(INFRA_VENV)/bin/python infra/scan_policies.py

# The browser tests drive Debian's Chromium. Install it where we can (root with apt, as on
# CI); elsewhere the browser tests skip and say how to run them.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		(apt-get install -y -q chromium >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) || \
		echo "could not install chromium: the browser tests will skip"; \
	else echo "chromium not installed and not root: the browser tests will skip"; fi

# Two workers (the machine's two cores), each taking whole modules so that a module's
# fixtures (a dbt build, the local Athena endpoint) are made once.
pytest: setup-dev
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not long" --durations=15

# The long suites (marker `long`), kept out of `make test` so that it stays under 15
# minutes on 2 cores: a full build of the real data through the local Athena endpoint
# and its scan budget (about 2 minutes), and a second full build on Athena against the
# same state (about 2 minutes).
test-long: setup-dev ## the long suites: the real data's scan budget, a rebuild on the local endpoint
	$(BIN)/pytest -n 2 --dist loadfile -m long

# dbt-athena 1.11.1's own functional tests (Hive/Parquet features and the Athena SQL surface)
# against the local endpoint: tools/adapter_suite.py downloads dbt-athena's source
# distribution from PyPI into build/adapter-suite/ (once; nothing of it is kept in the
# repository), installs the pinned dbt-tests-adapter there, runs pytest under
# `dap athena-local` and prints the pass counts per group (Hive/Parquet, SQL surface,
# Iceberg) and the tests that cannot pass on dbt-core 1.11. Fails under 95 % passed. About
# 10 minutes; `make test` runs a handful of them
# (tests/python/integration/athena/test_adapter_suite.py).
test-adapter: setup-dev ## dbt-athena's own functional tests against the local endpoint (~10 min)
	$(BIN)/python tools/adapter_suite.py

test-adapter-iceberg: setup-dev ## dbt-athena's Iceberg tests only, through the local endpoint (~6 min)
	$(BIN)/python tools/adapter_suite.py --group iceberg --min-pass-rate 0.9

# Not part of `make test` (about 4 minutes on 2 cores). Writes the tables into BENCHMARKS.md;
# BENCH_ARGS passes options (python -m bench --help), e.g. BENCH_ARGS=--check.
bench: setup-dev ## benchmarks: loader vs pandas and bare parsing, pipeline, scale -> BENCHMARKS.md
	$(BIN)/python -m bench $(BENCH_ARGS)

# Re-pin constraints/ after a change to pyproject.toml's dependencies (UPGRADE=1: newest
# versions that fit, instead of keeping today's pins).
constraints: setup ## re-pin constraints/*.txt from pyproject.toml (UPGRADE=1 for newest)
	$(BIN)/python tools/pin.py $(if $(UPGRADE),--upgrade)

clean: ## remove the local lake, generated workbooks and dbt artifacts (keeps .venv)
	rm -rf lake build target logs
