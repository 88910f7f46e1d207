"""The Dagster layer: definitions, the schedule with a fixed clock, runs on the hand-made
fixture (DuckDB and PostgreSQL) against values worked out by hand and against a full
refresh: the daily job's single dbt build and the partitions it records, backfills equal to
a full refresh, a grain's partitions recalculated alone, UTC partitions and local tenant
days, the scorecard report refreshed by the jobs.

One warehouse per engine serves the whole module (module fixture `orchestrated`): a test
that changes its data starts from `Orchestrated.base()`, which puts back the fixture's
first full refresh only when an earlier test changed the data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import fixtures_hand
import pytest
from dagster_dbt import DbtProject
from harness import ENGINES, REPO_ROOT, WITHOUT_DATA_TESTS, Warehouse, normalise, patched_env

from itsm_kpi import report as report_module
from itsm_kpi.report import MARTS_READ
from orchestration.assets import REPORT_KEY
from orchestration.definitions import build_definitions, dbt_cli_version
from orchestration.schedules import RANGE_END, RANGE_START
from orchestration.settings import Settings

# the fixture's history ends on 15 March 2024: partitions to March (a full refresh
# records each one, about 1,300 events to the present day instead of 107)
SETTINGS = Settings(partitions_start="2024-01-01", partitions_end="2024-04-01")
COMPARED = ("tenant_id", "kpi_name", "grain", "period_start", "period_end", "is_complete",
            "value", "numerator", "denominator", "target", "achievement_pct", "status", "as_of")
GRAINS = ("daily", "weekly", "monthly")
FACT_TABLES = tuple(f"fct_kpi_values_{grain}" for grain in GRAINS)
# what the daily job's window recomputes by period: the fact tables and the breakdowns
# (every grain in one table, built in the job's one dbt step)
PERIOD_TABLES = (*FACT_TABLES, "fct_kpi_breakdowns")
MART_TABLES = ("fct_kpi_values", "kpi_scorecard", "tenant_kpi_status", "kpi_scorecard_trend")
# what kpi_daily_schedule runs on the fixture's as_of day (2024-03-15): yesterday and today
SCHEDULED = ("2024-03-14", "2024-03-15")
DBT_OP = "dbt_build_window"  # the daily job's one dbt step
REPORT_OP = "render_scorecard_report"


def fact_key(grain: str) -> dg.AssetKey:
    return dg.AssetKey(["marts", f"fct_kpi_values_{grain}"])


# --- definitions and schedules (no database) ------------------------------------------

@pytest.fixture(scope="module")
def repo_defs() -> dg.Definitions:
    return build_definitions(SETTINGS)


def test_every_dbt_node_is_an_asset_with_lineage_and_groups(repo_defs: dg.Definitions) -> None:
    manifest = json.loads((REPO_ROOT / "target" / "manifest.json").read_text())
    graph = repo_defs.get_repository_def().asset_graph
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    # models and seeds are keyed schema/name, sources source/table
    # (an ephemeral model is compiled into the models that read it: no asset of its own)
    models = {f"{n['schema']}/{n['name']}" for n in manifest["nodes"].values()
              if n["resource_type"] in ("model", "seed")
              and n["config"]["materialized"] != "ephemeral"}
    sources = {f"{s['source_name']}/{s['name']}" for s in manifest["sources"].values()}
    # and the one asset outside dbt, the report rendered from the marts
    assert models | sources | {"reports/kpi_scorecard_report"} == keys
    report = graph.get(REPORT_KEY)
    assert report.group_name == "reports"
    # its parents: the marts report.py reads (test_report_reads_what_it_declares)
    assert report.parent_keys == {dg.AssetKey(["marts", name]) for name in MARTS_READ}
    assert {"marts/fct_kpi_values", "marts/kpi_scorecard", "itsm/service_requests"} <= keys
    # lineage: each grain's facts read the core's measurements (through the ephemeral
    # int_kpi__period_values), the union view reads the facts
    parents = graph.get(dg.AssetKey(["marts", "fct_kpi_values"])).parent_keys
    assert {fact_key(g) for g in GRAINS} <= parents
    for grain in GRAINS:
        assert dg.AssetKey(["intermediate", "int_kpi__measurements"]) in graph.get(
            fact_key(grain)).parent_keys
    groups = [graph.get(dg.AssetKey(k.split("/"))).group_name for k in
              ("staging/stg_itsm__sr_events", "intermediate/int_kpi__measurements",
               "marts/kpi_scorecard", "staging/tenants", "itsm/service_requests")]
    assert groups == ["staging", "intermediate", "marts", "seeds", "raw"]
    # dbt tests are asset checks, docs are descriptions
    checks = {key.name for key in graph.asset_check_keys}
    assert any("unique_combination_of_columns_fct_kpi_values_daily" in c for c in checks)
    spec = graph.get(dg.AssetKey(["marts", "fct_kpi_values"]))
    assert "BI tools read" in (spec.description or "")


def test_report_reads_what_it_declares(repo_defs: dg.Definitions) -> None:
    """The report's lineage: every `marts.X` report.py queries is in MARTS_READ, and the
    Dagster report asset's parents and the dbt exposure kpi_scorecard_report's depends_on
    are exactly those marts."""
    source = (REPO_ROOT / "itsm_kpi" / "report.py").read_text()
    queried = set(re.findall(r"\bfrom marts\.(\w+)", source))
    # read through `select * from marts.{relation}`
    assert "from marts.{relation}" in source
    queried |= set(report_module.RELATIONS)
    assert {"dora_scorecard", "fct_kpi_breakdowns", "open_request_aging"} <= queried
    assert queried == set(MARTS_READ)
    assert len(MARTS_READ) == len(set(MARTS_READ))
    graph = repo_defs.get_repository_def().asset_graph
    parents = {key.to_user_string() for key in graph.get(REPORT_KEY).parent_keys}
    assert parents == {f"marts/{name}" for name in MARTS_READ}
    manifest = json.loads((REPO_ROOT / "target" / "manifest.json").read_text())
    exposure = next(e for e in manifest["exposures"].values()
                    if e["name"] == "kpi_scorecard_report")
    depends_on = {manifest["nodes"][node]["name"] for node in exposure["depends_on"]["nodes"]}
    assert len(exposure["depends_on"]["nodes"]) == len(MARTS_READ)
    assert depends_on == set(MARTS_READ)
    # the models behind the asset keys are the same nodes (schema marts, by name)
    assert {f"{manifest['nodes'][node]['schema']}/{manifest['nodes'][node]['name']}"
            for node in exposure["depends_on"]["nodes"]} == parents


def test_every_dbt_test_is_a_described_asset_check(repo_defs: dg.Definitions) -> None:
    manifest = json.loads((REPO_ROOT / "target" / "manifest.json").read_text())
    tests = {node["name"] for node in manifest["nodes"].values()
             if node["resource_type"] == "test"}
    specs = {spec.key.name: spec for assets in repo_defs.assets
             if isinstance(assets, dg.AssetsDefinition) for spec in assets.check_specs}
    # none is left to dagster-dbt's observations: the seed tests that read two seeds are
    # checks of the seed whose rows they return (meta.dagster.ref)
    assert tests <= set(specs)
    for name in ("assert_kpi_targets_name_known_kpis", "assert_higher_better_targets_are_positive"):
        assert specs[name].asset_key == dg.AssetKey(["staging", "kpi_targets"])
    # and each says what it checks: the yml's words where it has some, else the generic
    # test's name and arguments, with the rows a windowed run tests
    assert all(specs[name].description for name in tests)
    assert specs["assert_raw_rows_reconcile"].description.startswith("Nothing is lost silently: ")
    assert {name: specs[name].description for name in (
        "unique_combination_of_columns_fct_kpi_values_daily_tenant_id__kpi_name__period_start",
        "accepted_values_fct_kpi_values_daily_status__GREEN__YELLOW__RED__NO_DATA",
        "relationships_fct_kpi_values_daily_kpi_name__kpi_name__ref_dim_kpi_",
        "not_null_int_kpi__measurements_tenant_id",
        "unique_combination_of_columns_int_tenants__periods_tenant_id__grain__period_start",
        "rejection_rate_service_requests",
    )} == {
        "unique_combination_of_columns_fct_kpi_values_daily_tenant_id__kpi_name__period_start":
            "unique_combination_of_columns: tenant_id, kpi_name, period_start of fct_kpi_values_daily"
            " (on a windowed run, the rows it replaced)",
        "accepted_values_fct_kpi_values_daily_status__GREEN__YELLOW__RED__NO_DATA":
            "accepted_values: status of fct_kpi_values_daily in GREEN, YELLOW, RED, NO_DATA"
            " (on a windowed run, the rows it replaced)",
        "relationships_fct_kpi_values_daily_kpi_name__kpi_name__ref_dim_kpi_":
            "relationships: kpi_name of fct_kpi_values_daily in dim_kpi.kpi_name"
            " (on a windowed run, the rows it replaced)",
        "not_null_int_kpi__measurements_tenant_id":
            "not_null: tenant_id of int_kpi__measurements (on a windowed run, the rows it replaced)",
        "unique_combination_of_columns_int_tenants__periods_tenant_id__grain__period_start":
            "unique_combination_of_columns: tenant_id, grain, period_start of int_tenants__periods",
        "rejection_rate_service_requests":
            "rejection_rate_within: raw_data_quality; source_table: service_requests",
    }


def test_jobs(repo_defs: dg.Definitions) -> None:
    repository = repo_defs.get_repository_def()
    jobs = {job.name: job for job in repository.get_all_jobs() if not job.name.startswith("__")}
    assert set(jobs) == {"kpi_daily_job", "kpi_full_refresh_job", "kpi_daily_facts_job",
                         "kpi_weekly_facts_job", "kpi_monthly_facts_job",
                         "kpi_source_freshness_job"}
    graph = repository.asset_graph
    # the daily job: one dbt step then the report, partitioned by UTC day
    daily = jobs["kpi_daily_job"]
    assert [node.name for node in daily.graph.nodes_in_topological_order] == [DBT_OP, REPORT_OP]
    assert daily.partitions_def == graph.get(fact_key("daily")).partitions_def
    assert jobs["kpi_full_refresh_job"].partitions_def is None
    # the facts jobs: the grain's facts, the marts and the report, no core; a range of
    # partitions in one run
    for grain in GRAINS:
        job = jobs[f"kpi_{grain}_facts_job"]
        selected = job.asset_layer.executable_asset_keys
        assert fact_key(grain) in selected and REPORT_KEY in selected
        assert dg.AssetKey(["marts", "kpi_scorecard"]) in selected
        assert not any(key.path[0] in ("intermediate", "staging") for key in selected)
        assert {fact_key(g) for g in GRAINS} & selected == {fact_key(grain)}
        assert job.partitions_def == graph.get(fact_key(grain)).partitions_def
        assert job.backfill_policy == dg.BackfillPolicy.single_run()


@pytest.mark.parametrize(
    ("tick", "timezone_name", "expected"),
    [
        # a Wednesday: yesterday (final) and today
        (datetime(2024, 3, 13, 0, 30), "UTC", ("2024-03-12", "2024-03-13")),
        # Monday: yesterday is last week's Sunday
        (datetime(2024, 3, 11, 0, 30), "UTC", ("2024-03-10", "2024-03-11")),
        # the 1st: yesterday is the end of (leap) February
        (datetime(2024, 3, 1, 0, 30), "UTC", ("2024-02-29", "2024-03-01")),
        # 00:30 in Seoul is 15:30 UTC the day before: UTC yesterday and today, which cover
        # Seoul's yesterday
        (datetime(2024, 3, 13, 0, 30), "Asia/Seoul", ("2024-03-11", "2024-03-12")),
        # the partitions' first day: no yesterday
        (datetime(2024, 1, 1, 0, 30), "UTC", ("2024-01-01", "2024-01-01")),
        # before the partitions start: no run
        (datetime(2023, 12, 31, 0, 30), "UTC", None),
    ],
)
def test_the_daily_schedule_tick(tick: datetime, timezone_name: str,
                                 expected: tuple[str, str] | None) -> None:
    from zoneinfo import ZoneInfo

    defs = build_definitions(Settings(partitions_start="2024-01-01",
                                      schedule_timezone=timezone_name))
    schedule = defs.get_schedule_def("kpi_daily_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=tick.replace(tzinfo=ZoneInfo(timezone_name)))
    result = schedule.evaluate_tick(context)
    if expected is None:
        assert result.run_requests == [] and result.skip_message
        return
    [request] = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == expected
    assert request.run_key == f"daily-{expected[0]}-{expected[1]}"


def test_schedules_cron_timezone_and_jobs(repo_defs: dg.Definitions) -> None:
    found = {
        s.name: (s.cron_schedule, s.execution_timezone, s.job_name)
        for s in repo_defs.schedules
    }
    assert found == {
        "kpi_daily_schedule": ("30 0 * * *", "UTC", "kpi_daily_job"),
        "kpi_source_freshness_schedule": ("15 * * * *", "UTC", "kpi_source_freshness_job"),
    }
    seoul = build_definitions(Settings(partitions_start="2024-01-01", schedule_timezone="Asia/Seoul"))
    assert {s.execution_timezone for s in seoul.schedules} == {"Asia/Seoul"}


def test_weekly_partitions_start_on_monday(repo_defs: dg.Definitions) -> None:
    weekly = repo_defs.get_repository_def().asset_graph.get(fact_key("weekly")).partitions_def
    keys = weekly.get_partition_keys(current_time=datetime(2024, 3, 13, tzinfo=timezone.utc))
    assert all(date.fromisoformat(k).weekday() == 0 for k in keys)
    assert keys[-1] == "2024-03-11"  # the current week is there (end_offset=1)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="KPI_SCHEDULE_TIMEZONE"):
        Settings(schedule_timezone="Mars/Olympus").validate()
    with pytest.raises(ValueError, match="KPI_PARTITIONS_START"):
        Settings(partitions_start="2024-1-1'; drop").validate()
    for end in ("2024-4-1", "2023-12-31", "2024-01-01"):  # not a date, before, not after
        with pytest.raises(ValueError, match="KPI_PARTITIONS_END"):
            Settings(partitions_start="2024-01-01", partitions_end=end).validate()


def test_partitions_can_end() -> None:
    """KPI_PARTITIONS_END: the periods that end by that day, whatever the clock says."""
    defs = build_definitions(SETTINGS)
    graph = defs.get_repository_def().asset_graph
    keys = {grain: graph.get(fact_key(grain)).partitions_def.get_partition_keys(
        current_time=datetime(2026, 12, 6, tzinfo=timezone.utc)) for grain in GRAINS}
    # January to March 2024: 31 + 29 + 31 days; the Mondays from 1 January to 25 March
    # (that week ends on 1 April); three months
    assert (len(keys["daily"]), keys["daily"][-1]) == (91, "2024-03-31")
    assert (len(keys["weekly"]), keys["weekly"][-1]) == (13, "2024-03-25")
    assert keys["monthly"] == ["2024-01-01", "2024-02-01", "2024-03-01"]


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        # psycopg2 / dbt-postgres messages when the server goes away
        ("Database Error in model x: server closed the connection unexpectedly", True),
        ("FATAL:  terminating connection due to administrator command", True),
        ('connection to server at "127.0.0.1", port 5432 failed: Connection refused', True),
        # DuckDB when another process holds the file
        ('IO Error: Could not set lock on file "kpi.duckdb": Conflicting lock is held', True),
        # data and SQL problems are not retried
        ("Database Error in model x: division by zero", False),
        ("Failure in test unique_fct_kpi_values_daily (models/marts/kpi/_kpi__models.yml)", False),
        ("Compilation Error: Invalid value for 'as_of'", False),
    ],
)
def test_transient_errors_are_told_apart(message: str, transient: bool) -> None:
    from orchestration.assets import is_transient_error

    assert is_transient_error(message) is transient


# --- runs on the hand-made fixture -----------------------------------------------------

class Orchestrated:
    """The definitions over a warehouse holding the hand-made fixture."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        fixtures_hand.install(warehouse)
        warehouse.dbt("parse")
        project = DbtProject(project_dir=warehouse.project_dir,
                             profiles_dir=warehouse.project_dir, target=warehouse.engine)
        self.defs = build_definitions(SETTINGS, project)
        self.report_dir = warehouse.project_dir.parent / "reports"
        self.env = {"KPI_DUCKDB_PATH": str(warehouse.duckdb_path),
                    "PGDATABASE": warehouse.pg_database, "KPI_AS_OF": fixtures_hand.AS_OF,
                    "DBT_TARGET": None, "KPI_REPORT_DIR": str(self.report_dir)}
        self.changed = True  # nothing built yet
        self.instance = dg.DagsterInstance.ephemeral()  # every run of the module
        self.full_refresh: dg.ExecuteInProcessResult | None = None

    def base(self) -> dg.ExecuteInProcessResult:
        """The fixture's data (seeds and raw rows) built by kpi_full_refresh_job, once:
        when changed since (`change`), the seeds are written again and the database that
        run left is copied back (Warehouse.restore_state: the same tables and rows as
        another full refresh of the same data, which test_backfills_equal_a_full_refresh
        and the late-request tests check). Returns that full refresh's run."""
        if self.changed:
            fixtures_hand.install(self.warehouse)
            if self.full_refresh is None:
                self.full_refresh = self.run_job("kpi_full_refresh_job")
                self.warehouse.save_state()
            else:
                self.warehouse.restore_state()
            self.changed = False
        assert self.full_refresh is not None
        return self.full_refresh

    def change(self) -> None:
        """Marks the data as changed: the next `base()` reloads and rebuilds them."""
        self.changed = True

    def run_job(self, job: str, first: str | None = None, last: str | None = None,
                run_config: dict[str, Any] | None = None, raise_on_error: bool = True,
                instance: dg.DagsterInstance | None = None,
                data_tests: bool = False) -> dg.ExecuteInProcessResult:
        """Runs a job in process; `first` / `last`: the partition range, as the schedule
        and backfills tag it. Its dbt build leaves the data tests out unless `data_tests`
        (harness.WITHOUT_DATA_TESTS): a test that asserts the asset checks asks for them."""
        tags = {RANGE_START: first, RANGE_END: last or first} if first else None
        with patched_env({**self.env, **({} if data_tests else WITHOUT_DATA_TESTS)}):
            result = self.defs.resolve_job_def(job).execute_in_process(
                tags=tags, run_config=run_config, raise_on_error=raise_on_error,
                instance=instance or self.instance)
        assert result.success or not raise_on_error
        return result

    def materialize(self, selection: Any, partition: str | None = None,
                    run_config: dict[str, Any] | None = None) -> dg.ExecuteInProcessResult:
        """Materializes assets as the UI's Materialize button does (without the data
        tests: run_job)."""
        with patched_env({**self.env, **WITHOUT_DATA_TESTS}):
            result = dg.materialize(
                self.defs.assets, selection=selection, run_config=run_config,
                partition_key=partition, resources=self.defs.resources,
                instance=self.instance,
            )
        assert result.success
        return result

    def materialize_facts(self, grain: str, partition: str) -> dg.ExecuteInProcessResult:
        return self.materialize([fact_key(grain)], partition)

    def facts(self) -> dict[tuple, tuple]:
        rows = self.warehouse.query(f"select {', '.join(COMPARED)} from marts.fct_kpi_values")
        return {(r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]):
                tuple(normalise(r[c]) for c in COMPARED) for r in rows}


@pytest.fixture(scope="module", params=ENGINES)
def orchestrated(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orchestrated]:
    """One warehouse per engine for the module."""
    warehouse = Warehouse(request.param, tmp_path_factory.mktemp(f"orchestration_{request.param}"))
    try:
        yield Orchestrated(warehouse)
    finally:
        warehouse.drop()


def _value(facts: dict, key: tuple) -> float | None:
    return facts[key][COMPARED.index("value")]


def stored_rows(warehouse: Warehouse, tables: tuple[str, ...],
                keep_calculated_at: bool = False) -> dict[str, list[tuple]]:
    """Every row of the marts `tables` as stored (no rounding), without the calculation
    time unless asked."""
    stored = {}
    for table in tables:
        rows = warehouse.query(f"select * from marts.{table}")
        stored[table] = sorted(
            (tuple((k, v) for k, v in row.items()
                   if keep_calculated_at or k != "calculated_at") for row in rows),
            key=repr)
    return stored


def exact_marts(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every mart row as stored (no rounding), without the calculation time (the fault
    drill's tests compare with it)."""
    return stored_rows(warehouse, MART_TABLES)


def breakdown_values(warehouse: Warehouse) -> list[tuple]:
    """fct_kpi_breakdowns' keys and values (not as_of nor calculated_at), sorted."""
    rows = warehouse.query(
        "select tenant_id, kpi_name, grain, period_start, breakdown, breakdown_value, "
        "numerator, denominator, value, target, achievement_pct, status "
        "from marts.fct_kpi_breakdowns")
    return sorted((tuple(normalise(value) for value in row.values()) for row in rows),
                  key=repr)


def materialized(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, set[str | None]]:
    """The partitions each asset was recorded as materialized for (None: not partitioned)."""
    found: dict[dg.AssetKey, set[str | None]] = {}
    for event in result.get_asset_materialization_events():
        found.setdefault(event.asset_key, set()).add(event.partition)
    return found


def dbt_invocations(orchestrated: Orchestrated, result: dg.ExecuteInProcessResult) -> int:
    """dbt commands a run started: dagster-dbt logs one line per command it runs."""
    return sum(1 for entry in orchestrated.instance.all_logs(result.run_id)
               if entry.user_message.startswith("Running dbt command:"))


def incident_120_rows(resolved: bool) -> dict[str, list[dict[str, Any]]]:
    """The fixture plus a P1 incident of tenant 1 (Seoul) opened at 01:00 UTC on 12 March
    (12 March KST), resolved first time within its SLA at 03:00 when `resolved`, else still
    open."""
    rows = dict(fixtures_hand.RAW)
    rows["service_requests"] = [*fixtures_hand.SERVICE_REQUESTS, {
        **fixtures_hand.SERVICE_REQUESTS[0], "sr_id": 120, "created_at": datetime(2024, 3, 12, 1),
        "updated_at": datetime(2024, 3, 12, 3),
        "resolved_at": datetime(2024, 3, 12, 3) if resolved else None,
        "status": "DONE" if resolved else "OPEN"}]
    rows["sr_events"] = [*fixtures_hand.SR_EVENTS,
                         {**fixtures_hand.SR_EVENTS[0], "event_id": 9001, "sr_id": 120,
                          "event_at": datetime(2024, 3, 12, 1), "new_status": "OPEN"}]
    if resolved:
        rows["sr_events"].append({**fixtures_hand.SR_EVENTS[0], "event_id": 9002, "sr_id": 120,
                                  "event_at": datetime(2024, 3, 12, 3), "new_status": "DONE"})
    return rows


# --- the daily job on the fixture as it is ---------------------------------------------

@pytest.fixture(scope="module")
def daily_runs(orchestrated: Orchestrated) -> dict[str, Any]:
    """Daily job runs on the unchanged fixture: the scheduled one of the as_of day (with
    the data tests: its checks are asserted), a Monday's (twice) and a 1st's, with the
    marts as stored after each."""
    orchestrated.base()
    runs: dict[str, Any] = {"full": stored_rows(orchestrated.warehouse, MART_TABLES)}
    for name, (first, last) in {"scheduled": SCHEDULED, "monday": ("2024-03-10", "2024-03-11"),
                                "monday again": ("2024-03-10", "2024-03-11"),
                                "first": ("2024-02-29", "2024-03-01")}.items():
        runs[name] = orchestrated.run_job("kpi_daily_job", first, last,
                                          data_tests=name == "scheduled")
        runs[f"{name} marts"] = stored_rows(orchestrated.warehouse, MART_TABLES)
    return runs


def test_the_daily_job_makes_one_dbt_invocation(orchestrated: Orchestrated,
                                                daily_runs: dict[str, Any]) -> None:
    result = daily_runs["scheduled"]
    assert dbt_invocations(orchestrated, result) == 1
    # and every dbt event of the run came from that invocation
    invocations = {event.materialization.metadata["invocation_id"].value
                   for event in result.get_asset_materialization_events()
                   if "invocation_id" in event.materialization.metadata}
    assert len(invocations) == 1
    # the core, the three grains' facts and the marts were all built by it
    keys = {key.to_user_string() for key in materialized(result)}
    assert {"intermediate/int_kpi__measurements", "marts/fct_kpi_values_daily",
            "marts/fct_kpi_values_weekly", "marts/fct_kpi_values_monthly",
            "marts/kpi_scorecard", "marts/raw_data_quality"} <= keys
    # the full refresh is the same single invocation, without a window
    assert dbt_invocations(orchestrated, orchestrated.base()) == 1
    # nor did a run start `dbt --version` first: asked once in this process, for all runs
    version = dbt_cli_version.cache_info()
    assert version.misses == 1 and version.hits >= len(daily_runs) // 2
    # dbt's tests come through as asset checks: on the fixture, none fails but warnings
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    assert {check.severity for check in checks if not check.passed} <= {dg.AssetCheckSeverity.WARN}


@pytest.mark.parametrize(("run", "expected"), [
    # Monday 11 March: yesterday closes last week
    ("monday", {"daily": {"2024-03-10", "2024-03-11"}, "weekly": {"2024-03-04", "2024-03-11"},
                "monthly": {"2024-03-01"}}),
    # 1 March: yesterday closes (leap) February
    ("first", {"daily": {"2024-02-29", "2024-03-01"}, "weekly": {"2024-02-26"},
               "monthly": {"2024-02-01", "2024-03-01"}}),
])
def test_the_daily_run_records_the_periods_of_every_grain_it_covers(
        daily_runs: dict[str, Any], run: str, expected: dict[str, set[str]]) -> None:
    recorded = materialized(daily_runs[run])
    assert {grain: recorded[fact_key(grain)] for grain in GRAINS} == expected
    # the rest is not partitioned: plain materializations, once each
    assert recorded[dg.AssetKey(["marts", "kpi_scorecard"])] == {None}
    assert recorded[dg.AssetKey(["intermediate", "int_kpi__measurements"])] == {None}
    assert recorded[REPORT_KEY] == {None}


def test_the_full_refresh_records_every_partition(orchestrated: Orchestrated) -> None:
    recorded = materialized(orchestrated.base())
    graph = orchestrated.defs.get_repository_def().asset_graph
    for grain in GRAINS:
        keys = graph.get(fact_key(grain)).partitions_def.get_partition_keys()
        assert recorded[fact_key(grain)] == set(keys)


def test_reruns_are_idempotent(daily_runs: dict[str, Any]) -> None:
    full = daily_runs["full"]
    assert len(full["fct_kpi_values"]) == 309  # as counted by hand in test_kpis_by_hand
    for run in ("scheduled", "monday", "monday again", "first"):
        assert daily_runs[f"{run} marts"] == full, run


def _report_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [e for e in result.get_asset_materialization_events()
               if e.asset_key == REPORT_KEY]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_jobs_render_the_scorecard_report(orchestrated: Orchestrated,
                                              daily_runs: dict[str, Any]) -> None:
    # the full refresh job's second op renders it after the dbt build
    full = _report_metadata(orchestrated.base())
    # the daily job (what kpi_daily_schedule launches) renders it after its build
    result = daily_runs["scheduled"]
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
    assert steps == [DBT_OP, REPORT_OP]
    metadata = _report_metadata(result)
    assert metadata == full
    # tenant_kpi_status by hand (test_kpis_by_hand): Seoul, New York, Utc Shop RED; 9 GREEN
    assert metadata["tenant_count"] == 4
    assert {k: v for k, v in metadata.items() if k.startswith("tenants_")} == {
        "tenants_red": 3, "tenants_yellow": 0, "tenants_green": 1, "tenants_no_data": 0}
    paths = {metadata["path_en"], metadata["path_ko"]}
    assert paths == {str(orchestrated.report_dir / f"scorecard.{lang}.html") for lang in ("en", "ko")}
    assert all(Path(path).stat().st_size > 0 for path in paths)
    markdown = metadata["summary"].splitlines()
    assert markdown[0].startswith("| Tenant | Overall | DEPLOY_SUCCESS_RATE | FCR | MTTR |")
    # the table (header, rule, 4 tenants), then a DORA line per tenant: the hand fixture's
    # targets enable no DORA KPI, so every tenant has no row in dora_scorecard
    assert len(markdown) == 2 + 4 + 3 + 4
    assert "| Seoul (1) | 🔴 RED | 🔴 RED 50% | 🟡 YELLOW 75% | 🔴 RED 6 h |" in markdown[2]
    assert "| Tenant 9 (9) | 🟢 GREEN | ⚪ NO_DATA — |" in markdown[5]
    assert markdown[6:9] == ["", "DORA (monthly, current period):", ""]
    assert all(line.endswith("DORA KPIs not enabled (no row in dora_scorecard)")
               for line in markdown[9:])


def test_source_freshness_is_observed(orchestrated: Orchestrated) -> None:
    # the fixture's newest rows date from March 2024: every feed is stale (dbt: error)
    result = orchestrated.run_job("kpi_source_freshness_job")
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"service_requests", "sr_events", "deployments"}
    assert all(not e.passed and e.severity == dg.AssetCheckSeverity.ERROR for e in checks.values())
    observed = {e.asset_key.path[-1]: e.event_specific_data.asset_observation.metadata
                for e in result.get_asset_observation_events()}
    # newest loaded_at: requests' updated_at 2024-03-16 01:00 (sr 109), events 2024-03-16
    # 01:00, deployments' started_at 2024-03-15 11:50
    assert observed["deployments"]["dagster/last_updated_timestamp"].value == datetime(
        2024, 3, 15, 11, 50, tzinfo=timezone.utc).timestamp()
    assert observed["service_requests"]["dagster/last_updated_timestamp"].value == datetime(
        2024, 3, 16, 1, 0, tzinfo=timezone.utc).timestamp()


# --- backfills and recalculations ------------------------------------------------------

def test_backfills_equal_a_full_refresh(orchestrated: Orchestrated) -> None:
    orchestrated.base()
    full = orchestrated.facts()
    assert len(full) == 309  # as counted by hand in test_kpis_by_hand
    orchestrated.change()

    # the daily job over the whole range, in one run: one window for the core and the
    # three grains (the weeks and months the days fall in)
    for table in FACT_TABLES:
        orchestrated.warehouse.execute(f"delete from marts.{table}")
    assert orchestrated.facts() == {}
    orchestrated.run_job("kpi_daily_job", "2024-02-19", "2024-03-15")
    assert orchestrated.facts() == full

    # a grain's facts alone, from the core as it stands: kpi_weekly_facts_job over a range,
    # one run (single-run backfill policy); the core is not run; the breakdowns, with the
    # marts, are rebuilt too
    full_breakdowns = breakdown_values(orchestrated.warehouse)
    assert {row[2] for row in full_breakdowns} == {"DAILY", "WEEKLY", "MONTHLY"}
    orchestrated.warehouse.execute("delete from marts.fct_kpi_values_weekly")
    orchestrated.warehouse.execute("delete from marts.fct_kpi_breakdowns where grain = 'WEEKLY'")
    result = orchestrated.run_job("kpi_weekly_facts_job", "2024-02-19", "2024-03-11")
    recorded = materialized(result)
    assert recorded[fact_key("weekly")] == {"2024-02-19", "2024-02-26", "2024-03-04",
                                            "2024-03-11"}
    assert {key.path[0] for key in recorded} == {"marts", "reports"}
    assert dg.AssetKey(["marts", "fct_kpi_breakdowns"]) in recorded
    assert orchestrated.facts() == full
    assert breakdown_values(orchestrated.warehouse) == full_breakdowns

    # a UTC daily partition recomputes the local days of every tenant that overlap it
    # (and those of the lookback's 3 days before it): local 10 March is UTC 9 Mar 15:00 -
    # 10 Mar 15:00 in Seoul (UTC+9), 10 Mar 05:00 - 11 Mar 04:00 in New York (23 h: DST
    # starts that day) and 10 March in UTC, so partition 9 March brings Seoul's back only
    orchestrated.warehouse.execute(
        "delete from marts.fct_kpi_values_daily where period_start = '2024-03-10'"
    )
    missing = {k for k in full if k[2] == "DAILY" and k[3] == date(2024, 3, 10)}
    # tenant 9 starts on 12 March
    assert {k[0] for k in missing} == {1, 2, 3} and len(orchestrated.facts()) == 309 - len(missing)
    for day, still_missing in (("2024-03-09", {2, 3}), ("2024-03-10", set())):
        orchestrated.materialize_facts("daily", day)
        assert {k[0] for k in missing - set(orchestrated.facts())} == still_missing, day
    assert orchestrated.facts() == full
    orchestrated.changed = False  # back to the fixture's marts


@pytest.fixture(scope="module")
def late_request(orchestrated: Orchestrated) -> dict[str, Any]:
    """The fixture built, then a new request arrives (open, 12 March) and the scheduled
    daily run of the as_of day processes it; then a full refresh of the same data. What
    each left in the core and the fact tables."""
    orchestrated.base()
    base_facts = stored_rows(orchestrated.warehouse, PERIOD_TABLES)
    orchestrated.change()
    rows = incident_120_rows(resolved=False)
    orchestrated.warehouse.load_raw(rows)
    daily = orchestrated.run_job("kpi_daily_job", *SCHEDULED)
    query = orchestrated.warehouse.query
    after_daily = {
        "run": daily,
        "changed": {r["sr_id"] for r in query(
            "select sr_id from intermediate.int_service_requests__changed")},
        "lifecycle": query("select is_resolved, resolution_hours "
                           "from intermediate.int_service_requests__lifecycle where sr_id = 120"),
        "core": _core_tables(orchestrated),
        "facts": stored_rows(orchestrated.warehouse, PERIOD_TABLES),
    }
    orchestrated.run_job("kpi_full_refresh_job")
    return {"rows": rows, "base facts": base_facts, "daily": after_daily,
            "full": {"core": _core_tables(orchestrated),
                     "facts": stored_rows(orchestrated.warehouse, PERIOD_TABLES)}}


INCREMENTAL_CORE = ("quality.int_service_requests__validated", "quality.int_sr_events__validated",
                    "int_service_requests__status_timeline", "int_service_requests__lifecycle",
                    "int_service_requests__sla_outcomes", "int_kpi__measurements",
                    # the drill-down mart, incremental by request like the core, in its step
                    "marts.fct_kpi_contributions")


def _core_tables(orchestrated: Orchestrated) -> dict[str, list[tuple]]:
    tables = {}
    for name in INCREMENTAL_CORE:
        schema = "marts" if name.startswith("marts.") else "intermediate"
        rows = orchestrated.warehouse.query(f"select * from {schema}.{name.split('.')[-1]}")
        tables[name] = sorted((tuple(sorted((k, normalise(v)) for k, v in row.items()))
                               for row in rows), key=repr)
    return tables


def test_the_daily_job_reprocesses_only_the_changed_requests(late_request: dict[str, Any]) -> None:
    # the window of 14-15 March starts on 11 March (3 days of lookback): the core
    # reprocesses the requests with raw rows from 11 March on
    rows, daily = late_request["rows"], late_request["daily"]
    start = datetime(2024, 3, 11)
    expected = {r["sr_id"] for r in rows["service_requests"] if r["sr_id"] is not None and any(
        r[c] is not None and r[c] >= start for c in ("created_at", "updated_at", "resolved_at"))}
    expected |= {e["sr_id"] for e in rows["sr_events"]
                 if e["sr_id"] is not None and e["event_at"] is not None and e["event_at"] >= start}
    assert daily["changed"] == expected
    assert 120 in expected and len(expected) < len(rows["service_requests"])
    assert daily["lifecycle"] == [{"is_resolved": False, "resolution_hours": None}]  # OPEN
    # what the incremental core kept and rewrote equals a full recomputation
    assert daily["core"] == late_request["full"]["core"]


def test_one_daily_run_equals_a_full_refresh(late_request: dict[str, Any]) -> None:
    daily, full = late_request["daily"]["facts"], late_request["full"]["facts"]
    # the new request changed the facts (Seoul's backlog, from 12 March on) ...
    assert daily != late_request["base facts"]
    assert daily["fct_kpi_breakdowns"] != late_request["base facts"]["fct_kpi_breakdowns"]
    # ... and the one daily run left every fact table and the breakdowns as a full
    # refresh does, row for row
    for table in PERIOD_TABLES:
        assert daily[table] == full[table], table


def test_partitions_recompute_only_their_periods(orchestrated: Orchestrated) -> None:
    orchestrated.base()
    before = orchestrated.facts()
    orchestrated.change()
    orchestrated.warehouse.load_raw(incident_120_rows(resolved=True))
    # the core materialized alone: a full rebuild of it, no fact table
    core = next(a for a in orchestrated.defs.assets if a.node_def.name == "kpi_core")
    result = orchestrated.materialize([core])
    assert not {fact_key(g) for g in GRAINS} & set(materialized(result))
    assert orchestrated.facts() == before

    # one UTC daily partition: 12 March
    orchestrated.materialize_facts("daily", "2024-03-12")
    after_daily = orchestrated.facts()
    changed = {k for k in before if before[k] != after_daily[k]}
    # MTTR of 12 March KST: 2 h (was no data); FCR 1/1; SLA (P1, 4 h) 1/1
    d12 = (1, "MTTR", "DAILY", date(2024, 3, 12))
    assert _value(after_daily, d12) == 2.0
    assert _value(after_daily, (1, "FCR", "DAILY", date(2024, 3, 12))) == 100.0
    assert changed == {d12, (1, "FCR", "DAILY", date(2024, 3, 12)),
                       (1, "SLA_COMPLIANCE", "DAILY", date(2024, 3, 12))}
    # weeks and months are not touched by a daily partition
    assert _value(after_daily, (1, "MTTR", "WEEKLY", date(2024, 3, 11))) == 5.0
    orchestrated.materialize_facts("weekly", "2024-03-11")
    after_weekly = orchestrated.facts()
    # week of 11 March KST: 102 (5 h) and 120 (2 h) -> 3.5
    assert _value(after_weekly, (1, "MTTR", "WEEKLY", date(2024, 3, 11))) == 3.5
    assert {k for k in before if after_daily[k] != after_weekly[k]} == {
        (1, kpi, "WEEKLY", date(2024, 3, 11)) for kpi in ("MTTR", "FCR", "SLA_COMPLIANCE")}

    # manual recalculation of one KPI of one month: kpi_monthly_facts_job with `kpis`; the
    # scorecard and the report follow
    result = orchestrated.run_job(
        "kpi_monthly_facts_job", "2024-03-01",
        run_config={"ops": {"kpi_monthly_facts": {"config": {"kpis": ["MTTR"]}}}})
    assert materialized(result)[fact_key("monthly")] == {"2024-03-01"}
    assert REPORT_KEY in materialized(result)
    after_mttr = orchestrated.facts()
    # only MTTR of March for tenant 1: (24 + 2) / 5 = 5.2; FCR (7/9 now) keeps 75.0 until
    # FCR is recomputed too
    assert {k for k in before if after_weekly[k] != after_mttr[k]} == {
        (1, "MTTR", "MONTHLY", date(2024, 3, 1))}
    assert _value(after_mttr, (1, "MTTR", "MONTHLY", date(2024, 3, 1))) == 5.2
    assert _value(after_mttr, (1, "FCR", "MONTHLY", date(2024, 3, 1))) == 75.0
    scorecard = orchestrated.warehouse.query(
        "select value from marts.kpi_scorecard where tenant_id = 1 and kpi_name = 'MTTR' "
        "and grain = 'MONTHLY'")
    assert [normalise(r["value"]) for r in scorecard] == [5.2]

    orchestrated.materialize_facts("monthly", "2024-03-01")
    after_monthly = orchestrated.facts()
    assert _value(after_monthly, (1, "FCR", "MONTHLY", date(2024, 3, 1))) != 75.0
    # and now everything equals a full build of the new data
    orchestrated.run_job("kpi_full_refresh_job")
    assert orchestrated.facts() == after_monthly


def test_readers_never_see_a_half_built_fact_table(orchestrated: Orchestrated) -> None:
    """While the daily job rewrites the fact tables, a reader of fct_kpi_values on
    PostgreSQL sees the old rows or the new rows of a grain, never a mix or a gap."""
    if orchestrated.warehouse.engine != "postgres":
        pytest.skip("readers beside a writer: PostgreSQL (DuckDB allows one process)")
    import threading

    import psycopg2
    from harness import pg_params

    orchestrated.base()
    old = orchestrated.facts()
    orchestrated.change()
    orchestrated.warehouse.load_raw(incident_120_rows(resolved=True))
    sql = ("select count(*), sum(coalesce(value, 0)) from marts.fct_kpi_values "
           "where grain = 'DAILY' and tenant_id = 1")
    seen: list[tuple] = []
    stop = threading.Event()

    # connected before the job starts: a libpq connect in a thread while the job's first
    # steps ran crashed a CI worker once (a segmentation fault inside psycopg2.connect)
    conn = psycopg2.connect(**pg_params(orchestrated.warehouse.pg_database))
    conn.autocommit = True

    def read() -> None:
        while not stop.is_set():
            with conn.cursor() as cursor:
                cursor.execute(sql)
                count, total = cursor.fetchone()
                seen.append((float(count), round(float(total), 6)))
        conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(2):  # the new rows, then a rerun
            orchestrated.run_job("kpi_daily_job", *SCHEDULED)
    finally:
        stop.set()
        reader.join()
    new = orchestrated.facts()
    versions = {
        (float(sum(1 for k in facts if k[2] == "DAILY" and k[0] == 1)),
         round(sum(_value(facts, k) or 0 for k in facts if k[2] == "DAILY" and k[0] == 1), 6))
        for facts in (old, new)
    }
    assert len(versions) == 2  # the new incident changed tenant 1's daily values
    assert len(seen) > 10
    assert set(seen) <= versions


def test_failed_test_blocks_downstream_and_alerts(orchestrated: Orchestrated) -> None:
    """Runs on whatever the earlier tests built (the marts only need to exist). DuckDB
    only: dbt skips what depends on a failed test and Dagster fails the step before the
    report whatever the engine (the seed test's SQL runs in every build of both)."""
    if orchestrated.warehouse.engine != "duckdb":
        pytest.skip("a failed test's consequences are dbt's and Dagster's, not the engine's")
    if orchestrated.full_refresh is None:  # run alone: build the fixture first
        orchestrated.base()
    orchestrated.change()
    kept = stored_rows(orchestrated.warehouse, FACT_TABLES + MART_TABLES,
                       keep_calculated_at=True)
    # a HIGHER_BETTER target of 0: the seed test fails (severity error) in the dbt build
    orchestrated.warehouse.write_file(
        "seeds/kpi_targets.csv", fixtures_hand.KPI_TARGETS_CSV + "2,FCR,0,2024-03-01,,true\n")
    instance = dg.DagsterInstance.ephemeral()
    result = orchestrated.run_job("kpi_daily_job", "2024-03-12", raise_on_error=False,
                                  instance=instance, data_tests=True)
    assert not result.success
    recorded = {key.path[-1] for key in materialized(result)}
    # the models upstream of the seed test were built; the facts and marts were not
    assert "stg_itsm__service_requests" in recorded
    assert not recorded & {*FACT_TABLES, *MART_TABLES}
    assert {s.step_key for s in result.get_step_failure_events()} == {DBT_OP}
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert started == {DBT_OP}  # the report never ran
    # the fact tables and marts keep their rows, down to their calculation time
    assert stored_rows(orchestrated.warehouse, FACT_TABLES + MART_TABLES,
                       keep_calculated_at=True) == kept

    from orchestration import sensors

    alerts: list[str] = []
    sensors.ALERT_HANDLERS.append(alerts.append)
    try:
        context = dg.build_run_status_sensor_context(
            sensor_name="kpi_run_failure_sensor", dagster_instance=instance,
            dagster_run=result.dagster_run, dagster_event=result.get_run_failure_event(),
        ).for_run_failure()
        sensors.kpi_run_failure_sensor(context)
    finally:
        sensors.ALERT_HANDLERS.remove(alerts.append)
    assert len(alerts) == 1 and "KPI run failed: job kpi_daily_job" in alerts[0]

    # no dbt target folder is left behind by any run of the module
    # (dagster-dbt names them <op>-<run id>-<random>)
    leftovers = [p.name for p in (orchestrated.warehouse.project_dir / "target").iterdir()
                 if p.is_dir() and re.fullmatch(r"\w+-[0-9a-f]{7}-[0-9a-f-]{7}", p.name)]
    assert leftovers == []
