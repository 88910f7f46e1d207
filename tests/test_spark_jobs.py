"""Dagster's jobs on Spark: kpi_full_refresh_job, then one daily partition of
kpi_daily_job as the schedule runs it, in process, with the `spark` target.

dagster-dbt runs dbt in a subprocess, whose JVM holds the Spark folder's embedded
metastore (one process at a time): so this module does not use the harness's session.
The demo data's raw tables are declared by `kpi generate --target spark` (a subprocess
too), the marts read from their Parquet files (warehouse.connect), and the facts compared
with the plain-Python reference computed from the same generated rows."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import fixtures_calendars
import pytest
from dagster_dbt import DbtProject
from dbt.cli.main import dbtRunner
from harness import SPARK_TEST_ENV, WITHOUT_DATA_TESTS, normalise, patched_env, require_spark
from reference.kpi_reference import compute, load_seeds

from itsm_kpi import demo_data, warehouse
from itsm_kpi.paths import copy_project
from orchestration.definitions import build_definitions
from orchestration.schedules import RANGE_END, RANGE_START
from orchestration.settings import Settings

CONFIG = demo_data.DemoConfig(requests=400, tenants=3, days=40, seed=11,
                              end=datetime(2026, 6, 1))
AS_OF = datetime(2026, 5, 31, 12, 0)
SETTINGS = Settings(partitions_start="2026-04-01")
# the schedule's run on the as_of day: yesterday and today (a Saturday and a Sunday)
DAILY = ("2026-05-30", "2026-05-31")
GRAINS = ("daily", "weekly", "monthly")
FACT_COLUMNS = ("period_end", "is_complete", "value", "numerator", "denominator", "target",
                "direction", "achievement_pct", "status")
MARTS = ("fct_kpi_values_daily", "fct_kpi_values_weekly", "fct_kpi_values_monthly",
         "kpi_scorecard", "tenant_kpi_status", "fct_kpi_breakdowns", "dora_scorecard")


def fact_key(grain: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", f"fct_kpi_values_{grain}"])


class SparkJobs:
    """The definitions of a project copy on a Spark folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.project_dir = copy_project(folder / "project")
        # some policies on business calendars: the jobs' builds and windowed run on Spark
        # go through the business-hours clocks, the reference checks them
        fixtures_calendars.install(self.project_dir)
        self.spark_dir = folder / "spark"
        self.env = {"DBT_TARGET": None, "KPI_SPARK_DIR": str(self.spark_dir), **SPARK_TEST_ENV,
                    "KPI_AS_OF": AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "KPI_REPORT_DIR": str(folder / "reports")}
        self.instance = dg.DagsterInstance.ephemeral()
        kpi = Path(sys.executable).with_name("kpi")
        with patched_env(self.env):
            subprocess.run(
                [str(kpi), "generate", "--target", "spark", "--requests", str(CONFIG.requests),
                 "--tenants", str(CONFIG.tenants), "--days", str(CONFIG.days),
                 "--seed", str(CONFIG.seed), "--end", CONFIG.end.isoformat() + "Z"],
                check=True, capture_output=True, text=True, cwd=self.project_dir)
            parsed = dbtRunner().invoke(["parse", "--quiet", "--target", "spark",
                                         "--project-dir", str(self.project_dir),
                                         "--profiles-dir", str(self.project_dir)])
        assert parsed.success, parsed.exception
        project = DbtProject(project_dir=self.project_dir, profiles_dir=self.project_dir,
                             target="spark")
        self.defs = build_definitions(SETTINGS, project)

    def run_job(self, job: str, first: str | None = None, last: str | None = None,
                data_tests: bool = True) -> dg.ExecuteInProcessResult:
        """Runs a job in process; without `data_tests`, its dbt build leaves them out
        (harness.WITHOUT_DATA_TESTS)."""
        tags = {RANGE_START: first, RANGE_END: last or first} if first else None
        with patched_env({**self.env, **({} if data_tests else WITHOUT_DATA_TESTS)}):
            return self.defs.resolve_job_def(job).execute_in_process(
                tags=tags, instance=self.instance, raise_on_error=False)

    def marts(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of MARTS from the Spark tables' Parquet files, without the build's
        clock."""
        with warehouse.connect("spark", path=self.spark_dir, read_only=True) as conn:
            return {table: sorted(({k: normalise(v) for k, v in row.items()
                                    if k != "calculated_at"}
                                   for row in warehouse.query(conn, f"select * from marts.{table}")),
                                  key=repr)
                    for table in MARTS}


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_spark()
    spark = SparkJobs(tmp_path_factory.mktemp("spark_jobs"))
    # the full refresh without the data tests (each costs Spark a job); the daily run,
    # after it and a window, runs every one of them as its asset checks: the only run of
    # the suite that runs the data tests on Spark
    full = spark.run_job("kpi_full_refresh_job", data_tests=False)
    after_full = spark.marts() if full.success else {}
    daily = spark.run_job("kpi_daily_job", *DAILY) if full.success else None
    yield {"spark": spark, "full": full, "daily": daily, "after_full": after_full,
           "after_daily": spark.marts() if daily is not None and daily.success else {}}


def materialized(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, set[str | None]]:
    found: dict[dg.AssetKey, set[str | None]] = {}
    for event in result.get_asset_materialization_events():
        found.setdefault(event.asset_key, set()).add(event.partition)
    return found


def assert_checks_pass(result: dg.ExecuteInProcessResult) -> None:
    """dbt's tests came through as asset checks, and none failed (warnings allowed)."""
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    failed = [(c.asset_key.to_user_string(), c.check_name) for c in checks
              if not c.passed and c.severity != dg.AssetCheckSeverity.WARN]
    assert failed == []


def test_the_full_refresh_runs_on_spark(jobs: dict[str, Any]) -> None:
    full = jobs["full"]
    assert full.success, [e.message for e in full.all_events if e.is_failure]
    recorded = materialized(full)
    graph = jobs["spark"].defs.get_repository_def().asset_graph
    for grain in GRAINS:
        keys = graph.get(fact_key(grain)).partitions_def.get_partition_keys()
        assert recorded[fact_key(grain)] == set(keys)


def test_the_full_refresh_matches_the_reference(jobs: dict[str, Any],
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    """The facts the job wrote on Spark are the reference's for the same generated rows
    (generated again here into DuckDB: the generator is deterministic)."""
    path = tmp_path_factory.mktemp("spark_jobs_raw") / "generated.duckdb"
    demo_data.generate_duckdb(path, CONFIG)
    with warehouse.connect("duckdb", path=path, read_only=True) as conn:
        raw = {table: warehouse.query(conn, f"select * from raw.{table}")
               for table in ("service_requests", "sr_events", "deployments")}
    seeds = load_seeds(jobs["spark"].project_dir / "seeds")
    expected = compute(raw["service_requests"], raw["sr_events"], raw["deployments"],
                       seeds["tenants"], seeds["kpi_definitions"], seeds["kpi_targets"],
                       seeds["sla_policies"], AS_OF,
                       business_calendars=seeds["business_calendars"],
                       holidays=seeds["holidays"]).kpi_values
    actual = {(r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]): r
              for grain in GRAINS for r in jobs["after_full"][f"fct_kpi_values_{grain}"]}
    assert len(expected) > 500
    assert set(actual) == set(expected)
    mismatches = [(key, column, actual[key][column], want[column])
                  for key, want in expected.items() for column in FACT_COLUMNS
                  if not (actual[key][column] == normalise(want[column])
                          or (isinstance(actual[key][column], float)
                              and math.isclose(actual[key][column], normalise(want[column]),
                                               rel_tol=1e-9)))]
    assert mismatches == []


def test_one_daily_partition_runs_on_spark(jobs: dict[str, Any]) -> None:
    """The schedule's run (yesterday and today) records its periods of every grain, and
    on unchanged raw data leaves every mart as the full refresh wrote it."""
    daily = jobs["daily"]
    assert daily is not None and daily.success, \
        daily and [e.message for e in daily.all_events if e.is_failure]
    assert_checks_pass(daily)
    recorded = materialized(daily)
    assert {grain: recorded[fact_key(grain)] for grain in GRAINS} == {
        "daily": set(DAILY), "weekly": {"2026-05-25"}, "monthly": {"2026-05-01"}}
    for table in MARTS:
        assert jobs["after_daily"][table] == jobs["after_full"][table], table
    assert len(jobs["after_full"]["kpi_scorecard"]) > 0
