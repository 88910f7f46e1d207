# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= 100k
ENGINES ?= duckdb,postgres

.PHONY: install manifest demo demo-spark test ui docs lint clean chaos bench

# Notes Python tools print on every run that ask nothing of the user, silenced by their
# exact text (nothing else is filtered; a PYTHONWARNINGS of your own replaces this one):
# - setuptools' "Editable installation." on each `pip install -e` (a reminder that folders
#   named like a package shadow it, printed whatever the project);
# - Dagster's SupersessionWarning on `dagster dev` and `dagster job execute` (`make demo`),
#   which point to `dg dev` and `dg launch`: those need the dagster-dg-cli package and a dg
#   project layout, and both commands stay supported throughout Dagster 1.x.
PYTHONWARNINGS ?= ignore:Editable installation,ignore:Function `dev_command` is superseded,ignore:Function `job_execute_command` is superseded
export PYTHONWARNINGS

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The demo, through the product's own Dagster job: demo data ending now in data/kpi.duckdb,
## kpi_full_refresh_job on the Dagster instance `make ui` shows (DAGSTER_HOME=.dagster: its
## run, materializations, partitions and checks are there), the HTML report in reports/,
## then every tenant's scorecard. Run it again any time: it starts over from new data.
DAGSTER_HOME_DIR := $(CURDIR)/.dagster
demo: manifest $(DAGSTER_HOME_DIR)/dagster.yaml
	$(BIN)/kpi generate
	DAGSTER_HOME="$(DAGSTER_HOME_DIR)" $(BIN)/dagster job execute -m orchestration.definitions \
		-j kpi_full_refresh_job -c orchestration/run_config/quiet.yaml
	$(BIN)/kpi scorecard
	@echo "Report: $(CURDIR)/reports/scorecard.en.html (and .ko.html). Dagster UI: make ui"

## The demo on Spark (README "Spark and larger deployments"): demo data ending now as
## Spark tables of the local session (KPI_SPARK_DIR, default data/spark), then
## kpi_full_refresh_job with DBT_TARGET=spark on the Dagster instance of `make demo`, then
## every tenant's scorecard (read from the tables' Parquet files). Needs Java 17; installs
## the `spark` extra (pyspark 3.5) once.
SPARK_STAMP := $(VENV)/.spark-installed
demo-spark: manifest $(SPARK_STAMP) $(DAGSTER_HOME_DIR)/dagster.yaml
	$(BIN)/kpi generate --target spark
	DBT_TARGET=spark DAGSTER_HOME="$(DAGSTER_HOME_DIR)" $(BIN)/dagster job execute \
		-m orchestration.definitions -j kpi_full_refresh_job -c orchestration/run_config/quiet.yaml
	$(BIN)/kpi scorecard --target spark

$(SPARK_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(SPARK_STAMP)

$(DAGSTER_HOME_DIR)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME_DIR)
	cp orchestration/dagster.yaml $@

## Parse the dbt project once into target/manifest.json (what Dagster loads).
manifest: install
	$(BIN)/dbt parse --quiet

## Run the whole test suite (dbt builds on DuckDB, PostgreSQL and Spark, dbt tests, pytest),
## the test modules spread over TEST_WORKERS processes (default 3; 0 runs them in this one:
## on 2 cores the suite is CPU-bound, a third worker took it from 49 to 46 min).
## Installs the `spark` extra; the Spark tests skip without Java 17 (not in CI).
TEST_WORKERS ?= 3
test: manifest $(SPARK_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=25

## Dagster UI and daemon on the DuckDB default (DAGSTER_HOME=.dagster, kept between runs),
## on http://127.0.0.1:3000 (DAGSTER_HOST, DAGSTER_PORT); Ctrl-C stops both. Runs `make demo`
## first if data/kpi.duckdb does not exist yet.
ui: manifest $(DAGSTER_HOME_DIR)/dagster.yaml
	test -f "$${KPI_DUCKDB_PATH:-data/kpi.duckdb}" || $(MAKE) demo
	PATH="$(CURDIR)/$(BIN):$$PATH" DAGSTER_HOME="$(DAGSTER_HOME_DIR)" $(BIN)/dagster dev \
		-m orchestration.definitions --host $${DAGSTER_HOST:-127.0.0.1} --port $${DAGSTER_PORT:-3000}

## dbt docs site, offline, on the DuckDB demo database (`make demo` first if it does not exist):
## target/index.html (+ manifest.json, catalog.json) and the same site as one self-contained
## file, target/static_index.html, served on http://127.0.0.1:8080 (DOCS_HOST, DOCS_PORT).
docs: install
	test -f "$${KPI_DUCKDB_PATH:-data/kpi.duckdb}" || $(MAKE) demo
	$(BIN)/dbt docs generate --target duckdb --static
	$(BIN)/dbt docs serve --target duckdb --no-browser \
		--host $${DOCS_HOST:-127.0.0.1} --port $${DOCS_PORT:-8080}

## Fault drill on PostgreSQL (PG* variables): demo data with bad rows, the daily runs with
## connections killed and retried, marts compared with a clean build. CHAOS_ARGS: options.
chaos: manifest
	$(BIN)/python -m tools.fault_drill $(CHAOS_ARGS)

## Benchmark: demo data at SCALE (smoke, 100k, 1M, 10M), then on ENGINES the full build, the
## daily incremental run, the BI read, the floor query and the original module's queries
## (ENGINES: duckdb, postgres, spark; on spark the two builds only, with the `spark` extra);
## JSON in docs/benchmarks/, report in docs/benchmarks.md. BENCH_ARGS: more options.
bench: manifest
	$(BIN)/python -m tools.benchmark --scale $(SCALE) --engines $(ENGINES) $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check orchestration itsm_kpi tools tests

clean:
	rm -rf target logs data/*.duckdb data/spark test-artifacts .dagster build reports
