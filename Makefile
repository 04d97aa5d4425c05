# growthops — every target creates .venv itself (installing uv with pip if it is missing).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

# Airflow runs from the repository: its home, DAGs and plugins are here, examples off.
export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= INFO
export GROWTHOPS_DATA_DIR ?= $(CURDIR)/data
export GX_ANALYTICS_ENABLED := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export PYTHONPATH := $(CURDIR)/plugins
export PATH := $(CURDIR)/$(BIN):$(PATH)

DEMO_START ?= 2025-01-01
DEMO_END ?= 2025-06-30
DEMO_SCALE ?= 0.02
BENCH_SCALE ?= 0.1  # ~1M orders over 3 years; 1.0 = 10M

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m pip install --user --quiet uv

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra postgres --extra s3
	@touch $@

.PHONY: install
install: $(BIN)/.installed ## create .venv from uv.lock

dbt_project/target/manifest.json: $(BIN)/.installed $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' 2>/dev/null | grep -v /target/)
	cd dbt_project && $(CURDIR)/$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .

.PHONY: manifest
manifest: dbt_project/target/manifest.json ## pre-build the dbt manifest Airflow renders from

.PHONY: report
report: install ## static HTML growth report of the published marts: <data>/reports/latest/index.html
	$(BIN)/growthops report

DOCS_PORT ?= 8081
BUILD_WAREHOUSE := $(GROWTHOPS_DATA_DIR)/warehouse/growthops.duckdb

.PHONY: docs-build
docs-build: install manifest ## generate dbt docs into dbt_project/target (index.html, static_index.html; for CI)
	cd dbt_project && $(CURDIR)/$(BIN)/dbt docs generate --static --quiet --profiles-dir . --project-dir . \
		$(if $(wildcard $(BUILD_WAREHOUSE)),,--empty-catalog)
	@echo "dbt docs: dbt_project/target/static_index.html (one file, opens offline)"

.PHONY: docs
docs: docs-build ## generate and serve dbt docs on http://localhost:8081 (DOCS_PORT=... to change)
	cd dbt_project && $(CURDIR)/$(BIN)/dbt docs serve --profiles-dir . --project-dir . --port $(DOCS_PORT) --no-browser

.PHONY: airflow-init
airflow-init: $(AIRFLOW_HOME)/.initialized ## migrate the local Airflow metadata database (SQLite) and create the pool

$(AIRFLOW_HOME)/.initialized: $(BIN)/.installed
	@mkdir -p $(AIRFLOW_HOME)
	@echo "airflow db migrate (SQLite in $(AIRFLOW_HOME)) ..."
	@$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -30 $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	@$(BIN)/python -m growthops.orchestration.airflow_setup
	@touch $@

.PHONY: demo
demo: install manifest airflow-init ## generate sample exports, run the pipeline through Airflow, print the marts
	$(BIN)/python -m growthops.commands.demo --start $(DEMO_START) --end $(DEMO_END) --scale $(DEMO_SCALE)

# `make test` runs the suite on TEST_WORKERS pytest-xdist processes (tests sharing a session world
# stay on one worker: tests/distribute.py); TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2

.PHONY: test
test: install manifest ## run the whole test suite (what CI runs; end-to-end tests make their own Airflow home)
	$(BIN)/pytest -n $(TEST_WORKERS)

.PHONY: test-postgres
test-postgres: install manifest airflow-init ## PostgreSQL tests only (a throw-away server on loopback; skipped, saying why, where none can start)
	$(BIN)/pytest -m postgres

.PHONY: test-faults
test-faults: install manifest ## fault suite only: fills a small tmpfs (needs root; skipped, saying why, otherwise), SIGKILLs, truncates
	$(BIN)/pytest -m faults

.PHONY: test-slow
test-slow: install manifest ## soak and scale suites
	$(BIN)/pytest -m slow

.PHONY: bench
bench: install manifest ## benchmarks: generator, hand-written floor, backfill, one day through Airflow, their fixed cost, transform alone (writes bench-results/)
	$(BIN)/python -m growthops.commands.bench --scale $(BENCH_SCALE)

.PHONY: lint
lint: install manifest ## ruff (Airflow AIR rules, complexity) and sqlfluff (dbt templater); CI runs it before the tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@mkdir -p $(GROWTHOPS_DATA_DIR)/warehouse  # the dbt templater opens the build warehouse file
	cd dbt_project && $(CURDIR)/$(BIN)/sqlfluff lint models snapshots tests

.PHONY: format
format: install ## apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	@mkdir -p $(GROWTHOPS_DATA_DIR)/warehouse
	cd dbt_project && $(CURDIR)/$(BIN)/sqlfluff fix models snapshots tests

.PHONY: airflow
airflow: airflow-init manifest ## start Airflow locally (UI on http://localhost:8080): 4 task slots, no daily catch-up
	AIRFLOW__CORE__PARALLELISM=4 AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=4 \
	AIRFLOW__API__WORKERS=1 AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True \
	GROWTHOPS_INGEST_CATCHUP=false $(BIN)/airflow standalone

.PHONY: clean
clean: ## remove generated data, Airflow home and dbt artefacts (keeps .venv)
	rm -rf data .airflow dbt_project/target dbt_project/logs bench-results
