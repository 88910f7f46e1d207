"""The Dagster layer: definitions, schedules with a fixed clock, partitioned runs on the
hand-made fixture (DuckDB and PostgreSQL) against values worked out by hand and against a
full build, backfills equal to a full refresh, UTC partitions and local tenant days, the
scorecard report refreshed by the jobs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import fixtures_hand
import pytest
from dagster_dbt import DbtProject
from harness import REPO_ROOT, Warehouse, normalise, patched_env

from orchestration.assets import REPORT_KEY
from orchestration.definitions import build_definitions
from orchestration.schedules import RANGE_END, RANGE_START
from orchestration.settings import Settings

SETTINGS = Settings(partitions_start="2024-01-01")
COMPARED = ("tenant_id", "kpi_name", "grain", "period_start", "period_end", "is_complete",
            "value", "numerator", "denominator", "target", "achievement_pct", "status", "as_of")


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
    models = {f"{n['schema']}/{n['name']}" for n in manifest["nodes"].values()
              if n["resource_type"] in ("model", "seed")}
    sources = {f"{s['source_name']}/{s['name']}" for s in manifest["sources"].values()}
    # and the one asset outside dbt, the report rendered from the marts
    assert models | sources | {"reports/kpi_scorecard_report"} == keys
    report = graph.get(REPORT_KEY)
    assert report.group_name == "reports"
    assert report.parent_keys == {dg.AssetKey(["marts", name]) for name in (
        "kpi_scorecard", "tenant_kpi_status", "kpi_scorecard_trend")}
    assert {"marts/fct_kpi_values", "marts/kpi_scorecard", "itsm/service_requests"} <= keys
    # lineage: the daily facts read the period values, the union view reads the facts
    parents = graph.get(dg.AssetKey(["marts", "fct_kpi_values"])).parent_keys
    assert {fact_key(g) for g in ("daily", "weekly", "monthly")} <= parents
    assert dg.AssetKey(["intermediate", "int_kpi__period_values"]) in graph.get(
        fact_key("daily")).parent_keys
    groups = [graph.get(dg.AssetKey(k.split("/"))).group_name for k in
              ("staging/stg_itsm__sr_events", "intermediate/int_kpi__period_values",
               "marts/kpi_scorecard", "staging/tenants", "itsm/service_requests")]
    assert groups == ["staging", "intermediate", "marts", "seeds", "raw"]
    # dbt tests are asset checks, docs are descriptions
    checks = {key.name for key in graph.asset_check_keys}
    assert any("unique_combination_of_columns_fct_kpi_values_daily" in c for c in checks)
    spec = graph.get(dg.AssetKey(["marts", "fct_kpi_values"]))
    assert "BI tools read" in (spec.description or "")


@pytest.mark.parametrize(
    ("schedule", "tick", "expected"),
    [
        ("kpi_daily_schedule", datetime(2024, 3, 13, 0, 30), ("2024-03-12", "2024-03-13")),
        # Monday: finalize last week and open this one
        ("kpi_weekly_schedule", datetime(2024, 3, 11, 1, 0), ("2024-03-04", "2024-03-11")),
        ("kpi_weekly_schedule", datetime(2024, 3, 13, 1, 0), ("2024-03-11", "2024-03-11")),
        # the 1st: finalize last month (leap February) and open this one
        ("kpi_monthly_schedule", datetime(2024, 3, 1, 1, 30), ("2024-02-01", "2024-03-01")),
        ("kpi_monthly_schedule", datetime(2024, 3, 13, 1, 30), ("2024-03-01", "2024-03-01")),
    ],
)
def test_schedule_ticks(repo_defs: dg.Definitions, schedule: str, tick: datetime,
                        expected: tuple[str, str]) -> None:
    definition = repo_defs.get_schedule_def(schedule)
    context = dg.build_schedule_context(
        scheduled_execution_time=tick.replace(tzinfo=timezone.utc)
    )
    [request] = definition.evaluate_tick(context).run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == expected


def test_schedules_cron_timezone_and_jobs(repo_defs: dg.Definitions) -> None:
    found = {
        s.name: (s.cron_schedule, s.execution_timezone, s.job_name)
        for s in repo_defs.schedules
    }
    assert found == {
        "kpi_daily_schedule": ("30 0 * * *", "UTC", "kpi_daily_job"),
        "kpi_weekly_schedule": ("0 1 * * *", "UTC", "kpi_weekly_job"),
        "kpi_monthly_schedule": ("30 1 * * *", "UTC", "kpi_monthly_job"),
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


# --- runs on the hand-made fixture -----------------------------------------------------

class Orchestrated:
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

    def run_job(self, job: str, first: str | None = None,
                last: str | None = None) -> dg.ExecuteInProcessResult:
        tags = {RANGE_START: first, RANGE_END: last or first} if first else None
        with patched_env(self.env):
            result = self.defs.resolve_job_def(job).execute_in_process(
                tags=tags, instance=dg.DagsterInstance.ephemeral())
        assert result.success
        return result

    def materialize(self, grain: str, partition: str, kpis: list[str] | None = None) -> None:
        run_config = {"ops": {f"kpi_{grain}_facts": {"config": {"kpis": kpis}}}} if kpis else None
        with patched_env(self.env):
            result = dg.materialize(
                self.defs.assets, selection=[fact_key(grain)], run_config=run_config,
                partition_key=partition, resources=self.defs.resources,
            )
        assert result.success

    def facts(self) -> dict[tuple, tuple]:
        rows = self.warehouse.query(f"select {', '.join(COMPARED)} from marts.fct_kpi_values")
        return {(r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]):
                tuple(normalise(r[c]) for c in COMPARED) for r in rows}


@pytest.fixture
def orchestrated(warehouse: Warehouse) -> Iterator[Orchestrated]:
    yield Orchestrated(warehouse)


def _value(facts: dict, key: tuple) -> float | None:
    return facts[key][COMPARED.index("value")]


def add_incident_120(orchestrated: Orchestrated) -> None:
    """A new P1 incident of tenant 1 (Seoul), 01:00 -> 03:00 UTC on 12 March (12 March KST),
    resolved first time within its SLA; then the upstream models are refreshed."""
    new_rows = dict(fixtures_hand.RAW)
    new_rows["service_requests"] = [*fixtures_hand.SERVICE_REQUESTS, {
        **fixtures_hand.SERVICE_REQUESTS[0], "sr_id": 120, "created_at": datetime(2024, 3, 12, 1),
        "updated_at": datetime(2024, 3, 12, 3), "resolved_at": datetime(2024, 3, 12, 3)}]
    new_rows["sr_events"] = [*fixtures_hand.SR_EVENTS,
                             {**fixtures_hand.SR_EVENTS[0], "event_id": 9001, "sr_id": 120,
                              "event_at": datetime(2024, 3, 12, 1), "new_status": "OPEN"},
                             {**fixtures_hand.SR_EVENTS[0], "event_id": 9002, "sr_id": 120,
                              "event_at": datetime(2024, 3, 12, 3), "new_status": "DONE"}]
    orchestrated.warehouse.load_raw(new_rows)
    with patched_env(orchestrated.env):
        assert dg.materialize(orchestrated.defs.assets, selection=dg.AssetSelection.groups(
            "seeds", "staging", "intermediate"), resources=orchestrated.defs.resources).success


INCREMENTAL_CORE = ("quality.int_service_requests__validated", "quality.int_sr_events__validated",
                    "int_service_requests__status_timeline", "int_service_requests__lifecycle",
                    "int_service_requests__sla_outcomes", "int_kpi__measurements",
                    "int_kpi__daily_measures")


def _core_tables(orchestrated: Orchestrated) -> dict[str, list[tuple]]:
    tables = {}
    for name in INCREMENTAL_CORE:
        rows = orchestrated.warehouse.query(f"select * from intermediate.{name.split('.')[-1]}")
        tables[name] = sorted((tuple(sorted((k, normalise(v)) for k, v in row.items()))
                               for row in rows), key=repr)
    return tables


def test_the_daily_job_reprocesses_only_the_changed_requests(orchestrated: Orchestrated) -> None:
    orchestrated.run_job("kpi_full_refresh_job")
    new_rows = dict(fixtures_hand.RAW)
    new_rows["service_requests"] = [*fixtures_hand.SERVICE_REQUESTS, {
        **fixtures_hand.SERVICE_REQUESTS[0], "sr_id": 120, "created_at": datetime(2024, 3, 12, 1),
        "updated_at": datetime(2024, 3, 12, 3), "resolved_at": datetime(2024, 3, 12, 3)}]
    new_rows["sr_events"] = [*fixtures_hand.SR_EVENTS,
                             {**fixtures_hand.SR_EVENTS[0], "event_id": 9001, "sr_id": 120,
                              "event_at": datetime(2024, 3, 12, 1), "new_status": "OPEN"}]
    orchestrated.warehouse.load_raw(new_rows)

    # the daily job for 12 March: its core step gets the window too, 9 March (3 days of
    # lookback) to 13 March, and reprocesses the requests with raw rows from 9 March on
    orchestrated.run_job("kpi_daily_job", "2024-03-12")
    start = datetime(2024, 3, 9)
    expected = {r["sr_id"] for r in new_rows["service_requests"] if r["sr_id"] is not None and any(
        r[c] is not None and r[c] >= start for c in ("created_at", "updated_at", "resolved_at"))}
    expected |= {e["sr_id"] for e in new_rows["sr_events"]
                 if e["sr_id"] is not None and e["event_at"] is not None and e["event_at"] >= start}
    changed = orchestrated.warehouse.query("select sr_id from intermediate.int_service_requests__changed")
    assert {r["sr_id"] for r in changed} == expected
    assert 120 in expected and len(expected) < len(new_rows["service_requests"])
    lifecycle = orchestrated.warehouse.query(
        "select is_resolved, resolution_hours from intermediate.int_service_requests__lifecycle "
        "where sr_id = 120")
    assert lifecycle == [{"is_resolved": False, "resolution_hours": None}]  # OPEN only

    # what the incremental core kept and rewrote equals a full recomputation, and the
    # daily sums took every change of the measurements (the ledger is empty)
    incremental = _core_tables(orchestrated)
    assert orchestrated.warehouse.query(
        "select count(*) as n from intermediate.int_kpi__measurement_changes") == [{"n": 0}]
    orchestrated.run_job("kpi_full_refresh_job")
    assert _core_tables(orchestrated) == incremental


def _report_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [e for e in result.get_asset_materialization_events()
               if e.asset_key == REPORT_KEY]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_jobs_render_the_scorecard_report(orchestrated: Orchestrated) -> None:
    # the full refresh job's second op renders it after the dbt build
    full = _report_metadata(orchestrated.run_job("kpi_full_refresh_job"))
    for path in orchestrated.report_dir.iterdir():
        path.unlink()
    # the daily job (what kpi_daily_schedule launches) renders it after the marts
    result = orchestrated.run_job("kpi_daily_job", "2024-03-14", "2024-03-15")
    steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
    assert steps.index("reports__kpi_scorecard_report") > steps.index("kpi_marts")
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
    assert len(markdown) == 2 + 4
    assert "| Seoul (1) | 🔴 RED | 🔴 RED 50% | 🟡 YELLOW 75% | 🔴 RED 6 h |" in markdown[2]
    assert "| Tenant 9 (9) | 🟢 GREEN | ⚪ NO_DATA — |" in markdown[5]


def test_partitions_recompute_only_their_periods(orchestrated: Orchestrated) -> None:
    orchestrated.run_job("kpi_full_refresh_job")
    before = orchestrated.facts()
    add_incident_120(orchestrated)
    # one UTC daily partition: 12 March
    orchestrated.materialize("daily", "2024-03-12")
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
    orchestrated.materialize("weekly", "2024-03-11")
    after_weekly = orchestrated.facts()
    # week of 11 March KST: 102 (5 h) and 120 (2 h) -> 3.5
    assert _value(after_weekly, (1, "MTTR", "WEEKLY", date(2024, 3, 11))) == 3.5
    assert {k for k in before if after_daily[k] != after_weekly[k]} == {
        (1, kpi, "WEEKLY", date(2024, 3, 11)) for kpi in ("MTTR", "FCR", "SLA_COMPLIANCE")}
    orchestrated.materialize("monthly", "2024-03-01")
    after_monthly = orchestrated.facts()
    # March KST: 24 h over 4 incidents + 2 h -> 26 / 5 = 5.2
    assert _value(after_monthly, (1, "MTTR", "MONTHLY", date(2024, 3, 1))) == 5.2
    # and now everything equals a full build of the new data
    orchestrated.run_job("kpi_full_refresh_job")
    assert orchestrated.facts() == after_monthly


def test_backfills_equal_a_full_refresh(orchestrated: Orchestrated) -> None:
    orchestrated.run_job("kpi_full_refresh_job")
    full = orchestrated.facts()
    assert len(full) == 309  # as counted by hand in test_kpis_by_hand

    # a backfill of every partition of each grain, one run per grain (single-run policy)
    for grain in ("daily", "weekly", "monthly"):
        orchestrated.warehouse.execute(f"delete from marts.fct_kpi_values_{grain}")
    assert orchestrated.facts() == {}
    orchestrated.run_job("kpi_daily_job", "2024-02-19", "2024-03-15")
    orchestrated.run_job("kpi_weekly_job", "2024-02-19", "2024-03-11")
    orchestrated.run_job("kpi_monthly_job", "2024-02-01", "2024-03-01")
    assert orchestrated.facts() == full

    # UTC daily partitions, one run each, rebuild the local days of Seoul (UTC+9) and New
    # York (UTC-5/-4, DST on 10 March) exactly: local 9-11 March spans UTC 8-12 March
    orchestrated.warehouse.execute(
        "delete from marts.fct_kpi_values_daily "
        "where period_start between '2024-03-09' and '2024-03-11'"
    )
    missing = {k for k in full if k[2] == "DAILY" and date(2024, 3, 9) <= k[3] <= date(2024, 3, 11)}
    # tenant 9 starts on 12 March
    assert {k[0] for k in missing} == {1, 2, 3} and len(orchestrated.facts()) == 309 - len(missing)
    for day in ("2024-03-08", "2024-03-09", "2024-03-10", "2024-03-11", "2024-03-12"):
        orchestrated.materialize("daily", day)
    assert orchestrated.facts() == full


def test_manual_recalculation_of_one_kpi(orchestrated: Orchestrated) -> None:
    orchestrated.run_job("kpi_full_refresh_job")
    before = orchestrated.facts()
    add_incident_120(orchestrated)
    orchestrated.materialize("monthly", "2024-03-01", kpis=["MTTR"])
    after = orchestrated.facts()
    changed = {k for k in before if before[k] != after[k]}
    # only MTTR of March for tenant 1: (24 + 2) / 5 = 5.2; FCR (7/9 now) keeps 75.0 until
    # FCR is recomputed too
    assert changed == {(1, "MTTR", "MONTHLY", date(2024, 3, 1))}
    assert _value(after, (1, "MTTR", "MONTHLY", date(2024, 3, 1))) == 5.2
    assert _value(after, (1, "FCR", "MONTHLY", date(2024, 3, 1))) == 75.0


def test_source_freshness_is_observed(orchestrated: Orchestrated) -> None:
    # the fixture's newest rows date from March 2024: every feed is stale (dbt: error)
    with patched_env(orchestrated.env):
        result = orchestrated.defs.resolve_job_def("kpi_source_freshness_job").execute_in_process(
            instance=dg.DagsterInstance.ephemeral())
    assert result.success
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


def test_failed_test_blocks_downstream_and_alerts(orchestrated: Orchestrated) -> None:
    # a HIGHER_BETTER target of 0: the seed test fails (severity error) in kpi_core
    orchestrated.warehouse.write_file(
        "seeds/kpi_targets.csv", fixtures_hand.KPI_TARGETS_CSV + "2,FCR,0,2024-03-01,,true\n")
    instance = dg.DagsterInstance.ephemeral()
    with patched_env(orchestrated.env):
        result = orchestrated.defs.resolve_job_def("kpi_daily_job").execute_in_process(
            tags={RANGE_START: "2024-03-12", RANGE_END: "2024-03-12"}, instance=instance,
            raise_on_error=False)
    assert not result.success
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    # the models upstream of the seed test were built; the facts and marts were not
    assert "fct_kpi_values_daily" not in materialized and "kpi_scorecard" not in materialized
    assert {s.step_key for s in result.get_step_failure_events()} == {"kpi_core"}
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert started == {"kpi_core"}  # the facts and marts steps never ran
    assert not orchestrated.warehouse.query(
        "select count(*) as n from information_schema.tables where table_name = 'kpi_scorecard'"
    )[0]["n"]

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

    # no dbt target folder is left behind by the runs
    leftovers = [p.name for p in (orchestrated.warehouse.project_dir / "target").iterdir()
                 if p.is_dir() and p.name.startswith("kpi_")]
    assert leftovers == []


def exact_marts(warehouse: Warehouse) -> dict[str, list[tuple]]:
    """Every mart row as stored (no rounding), without the calculation time."""
    marts = {}
    for table in ("fct_kpi_values", "kpi_scorecard", "tenant_kpi_status", "kpi_scorecard_trend"):
        rows = warehouse.query(f"select * from marts.{table}")
        marts[table] = sorted(
            tuple((k, v) for k, v in row.items() if k != "calculated_at") for row in rows
        )
    return marts


def test_reruns_are_idempotent(orchestrated: Orchestrated) -> None:
    orchestrated.run_job("kpi_full_refresh_job")
    first = exact_marts(orchestrated.warehouse)
    assert len(first["fct_kpi_values"]) == 309
    orchestrated.run_job("kpi_full_refresh_job")
    assert exact_marts(orchestrated.warehouse) == first
    for _ in range(2):  # the same partitions twice
        orchestrated.run_job("kpi_daily_job", "2024-03-11", "2024-03-12")
        assert exact_marts(orchestrated.warehouse) == first


@pytest.mark.parametrize("engine", ["postgres"])
def test_readers_never_see_a_half_built_fact_table(orchestrated: Orchestrated) -> None:
    """While a daily partition is recomputed, a reader of fct_kpi_values on PostgreSQL
    sees the old rows or the new rows of that grain, never a mix or a gap."""
    import threading

    import psycopg2
    from harness import pg_params

    orchestrated.run_job("kpi_full_refresh_job")
    old = orchestrated.facts()
    add_incident_120(orchestrated)
    sql = ("select count(*), sum(coalesce(value, 0)) from marts.fct_kpi_values "
           "where grain = 'DAILY' and tenant_id = 1")
    seen: list[tuple] = []
    stop = threading.Event()

    def read() -> None:
        conn = psycopg2.connect(**pg_params(orchestrated.warehouse.pg_database))
        conn.autocommit = True
        while not stop.is_set():
            with conn.cursor() as cursor:
                cursor.execute(sql)
                count, total = cursor.fetchone()
                seen.append((float(count), round(float(total), 6)))
        conn.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(3):
            orchestrated.materialize("daily", "2024-03-12")
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
