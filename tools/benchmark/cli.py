"""`make bench`: how fast the KPI engine is, on DuckDB and PostgreSQL (issue 5).

For a scale (``smoke``: 2,000 requests, 20 tenants, 60 days; ``100k``, ``1M``, ``10M``:
that many requests, 200 tenants, 730 days; about 5 events per request, a deployment per
ten requests; tenants spread over eight timezones, with DST zones and a half-hour offset),
it generates demo data with ``itsm_kpi.demo_data`` ending one day after a midnight E,
splits it into the source system as of E and the next day's delta (new and changed rows,
plus about 2 % of the events of the two days before E held back: late events), loads the
state at E into a fresh database and measures, per engine, in a throw-away copy of the
dbt project (``--work-dir``, default ``bench-work/``):

1. the full build: ``dbt build``, as_of = E, wall time, peak memory of the dbt process
   (on DuckDB the engine runs inside it; on PostgreSQL the server is not included), the
   slowest nodes from ``run_results.json``; also ``dbt parse`` and dbt's fixed start-up
   (an invocation that selects nothing);
2. the daily incremental run after the delta is applied: the dbt invocations of the
   Dagster daily job launched by ``kpi_daily_schedule`` at E + 1 day 00:30 (the core,
   ``fct_kpi_values_daily`` over the tick's window, the marts);
3. the BI read: one tenant's ``kpi_scorecard`` and ``tenant_kpi_status`` over one open
   connection, median and p95 of ``--repeat`` reads cycling over the tenants; on
   PostgreSQL also as tenant 1's own login, where row-level security applies;
4. the physical floor: one hand-written query scanning the raw tables once that computes
   the monthly numerators and denominators of MTTR, FCR and SLA_COMPLIANCE (checked equal
   to ``fct_kpi_values``), median of 3;
5. the original module's way: the 7 queries its ``_calculate_kpi_value`` ran for the five
   KPIs (``/work/shared/reference/original_kpi_api.txt``), for one tenant's current month
   (with a tenant filter the original forgot), median of ``--repeat``.

Checks (a failure exits 1): initial load + delta = the generated tables; floor = engine;
with ``--verify``, after the day's weekly and monthly facts are refreshed too, the
recomputed ``fct_kpi_values`` periods, ``kpi_scorecard`` and ``tenant_kpi_status`` equal a
from-scratch build of the final data in a second database.

Writes ``OUT/<scale>-<engine>.json`` (default ``docs/benchmarks/``) and regenerates the
Markdown report (``docs/benchmarks.md`` beside the folder) from every JSON in ``OUT``.

    .venv/bin/python -m tools.benchmark --scale 100k --engines duckdb,postgres
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import psycopg2.errors

with warnings.catch_warnings():  # dagster's beta / preview warnings on import
    warnings.simplefilter("ignore")
    from itsm_kpi.demo_data import DEFAULT_END, DemoConfig, build_tables
    from itsm_kpi.paths import PROJECT_DIR
    from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_TABLES
    from itsm_kpi.warehouse import postgres_params as postgres_params_from_env
    from orchestration import assets as dagster_assets
    from orchestration.assets import CORE_EXCLUDE, FACT_MODELS, MART_MODELS
    from orchestration.schedules import CRONS, partition_range

REPO_ROOT = PROJECT_DIR

# the dbt command every Dagster step runs (["build", ...]; older versions: plain build)
BUILD: list[str] = list(getattr(dagster_assets, "BUILD", ["build"]))
# the core step of a grain job gets the run's partition window too when the Dagster layer
# passes it (orchestration.assets.run_window: the incremental core); before, it did not
CORE_WINDOWED = hasattr(dagster_assets, "run_window")
PROJECT_ITEMS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests")
ENGINES = ("duckdb", "postgres")
TIMEZONES = (
    "Asia/Seoul",
    "America/New_York",
    "Europe/London",
    "UTC",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Europe/Berlin",
)
# E: the initial load is the source system as of E, the delta the day after it
CUTOFF = DEFAULT_END - timedelta(days=1)
LATE_EVENT_DAYS = 2  # late events: held back from the last days before E
LATE_EVENT_MODULO = 50  # one event in 50 of those days (2 %) arrives late
TOP_NODES = 15
FLOOR_RUNS = 3
FLOAT_TOLERANCE = 1e-9  # relative, floor vs. engine
ORIGINAL_QUERY_NAMES = (
    "MTTR avg hours",
    "FCR total",
    "SLA total",
    "SLA on time (4 h)",
    "SR_BACKLOG count",
    "DEPLOY total",
    "DEPLOY success",
)
KPI_ENV = ("KPI_AS_OF", "KPI_MIN_DATE", "KPI_MAX_DATE", "KPI_ONLY", "KPI_LOOKBACK_DAYS",
           "KPI_FUTURE_TOLERANCE_HOURS", "KPI_REJECTION_RATE_WARN_PCT", "KPI_DUCKDB_PATH",
           "DBT_TARGET", "PGDATABASE")

Progress = Callable[[str], None]
Row = dict[str, Any]


class BenchmarkError(RuntimeError):
    """A failed dbt command or correctness check: the run stops, exit code 1."""

    def __init__(self, message: str, nodes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.nodes = nodes or []  # a failed dbt command: the nodes that finished, slowest first


@dataclass(frozen=True)
class Scale:
    name: str
    requests: int
    tenants: int
    days: int

    @property
    def slug(self) -> str:
        return self.name.lower()


SCALES = {
    scale.name: scale
    for scale in (
        Scale("smoke", 2_000, 20, 60),
        Scale("100k", 100_000, 200, 730),
        Scale("1M", 1_000_000, 200, 730),
        Scale("10M", 10_000_000, 200, 730),
    )
}
SMALL_SCALES = ("smoke", "100k")  # the floor gets a warm-up run only here


@dataclass(frozen=True)
class Options:
    scale: Scale
    engines: tuple[str, ...]
    out: Path
    markdown: Path
    work_dir: Path
    repeat: int = 50
    keep: bool = False
    verify: bool = False
    pg_database: str = ""
    dbt_timeout: float | None = None  # seconds per dbt command
    variant: str = ""  # a label for a run under other settings (file name and column)

    @property
    def database(self) -> str:
        return self.pg_database or f"bench_{self.scale.slug}"


# --- time helpers ----------------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sql_ts(moment: datetime) -> str:
    return f"cast('{moment:%Y-%m-%d %H:%M:%S}' as timestamp)"


def schedule_window(grain: str, tick_day: date) -> tuple[date, date]:
    """The UTC recompute window [start, end) the schedule of `grain` passes to dbt at its
    tick on `tick_day` (its partition range: first partition start, last partition end)."""
    first, last = partition_range(grain, tick_day)
    if grain == "daily":
        end = last + timedelta(days=1)
    elif grain == "weekly":
        end = last + timedelta(days=7)
    else:
        end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, end


def tick_time(grain: str, day: date) -> datetime:
    minute, hour = (int(part) for part in CRONS[grain].split()[:2])
    return datetime(day.year, day.month, day.day, hour, minute)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)])


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


# --- data: generation and the split at E ------------------------------------------------


def generate(scale: Scale, path: Path, say: Progress) -> dict[str, Any]:
    """Demo data ending at E + 1 day in schema `gen` of a DuckDB file, split into `init`
    (the source system as of E) and `delta` (the day's new and changed rows, and the late
    events); checks that init + delta = gen."""
    if path.exists():
        path.unlink()
    config = DemoConfig(requests=scale.requests, tenants=scale.tenants, days=scale.days,
                        end=CUTOFF + timedelta(days=1))
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con:
        counts = build_tables(con, config, "gen", lambda message: say(f"  generator: {message}"))
        generated = time.perf_counter() - started
        con.execute("create schema init")
        con.execute("create schema delta")
        for statement in split_sql(CUTOFF):
            con.execute(statement)
        check = split_check(con)
        sizes = {
            schema: {table: con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
                     for table in RAW_TABLES}
            for schema in ("gen", "init", "delta")
        }
        late = con.execute(
            f"select count(*) from delta.sr_events where event_at < {sql_ts(CUTOFF)}"
        ).fetchone()[0]
    say(f"generated and split in {time.perf_counter() - started:.1f} s: "
        f"{counts['service_requests']:,} requests, {counts['sr_events']:,} events, "
        f"{counts['deployments']:,} deployments; delta {sizes['delta']}; late events {late:,}")
    return {
        "config": {"requests": config.requests, "tenants": config.tenants, "days": config.days,
                   "start": iso(config.start), "end": iso(config.end), "seed": config.seed,
                   "events_per_request": config.events_per_request,
                   "deployments_ratio": config.deployments_ratio},
        "rows": sizes,
        "late_events": late,
        "generate_seconds": round(generated, 3),
        "split_seconds": round(time.perf_counter() - started - generated, 3),
        "split_check": check,
    }


def split_sql(cutoff: datetime) -> list[str]:
    """DuckDB statements: init.* (state as of E) and delta.* (to upsert) from gen.*."""
    e = sql_ts(cutoff)
    late_from = sql_ts(cutoff - timedelta(days=LATE_EVENT_DAYS))
    is_late = (f"(event_at >= {late_from} and event_at < {e} "
               f"and hash(event_id, 7919) % {LATE_EVENT_MODULO} = 0)")
    request_columns = ", ".join(name for name, _ in RAW_TABLES["service_requests"])
    deployment_columns = ", ".join(name for name, _ in RAW_TABLES["deployments"])
    event_columns = ", ".join(name for name, _ in RAW_TABLES["sr_events"])
    return [
        f"""create table init.sr_events as
        select {event_columns} from gen.sr_events
        where event_at < {e} and not {is_late}
        order by event_id""",
        f"""create table delta.sr_events as
        select {event_columns} from gen.sr_events
        where event_at >= {e} or {is_late}
        order by event_id""",
        # the request rows as at E: rebuilt from every event before E (the application
        # updated the row; only the event feed is late), like the generator does
        f"""create table init.service_requests as
        with
        before_cutoff as (
            select * from gen.sr_events where event_at < {e}
        ),
        history as (
            select
                sr_id,
                arg_max(new_status, event_id) filter (where event_type = 'STATUS')
                    as last_status,
                max(event_at) as last_event_at,
                max(event_at) filter (where new_status = 'DONE') as last_done_at,
                arg_max(new_assignee_id, event_id) filter (where event_type = 'ASSIGNMENT')
                    as last_assignee_id
            from before_cutoff
            group by sr_id
        ),
        with_events as (
            select distinct sr_id from gen.sr_events
        ),
        as_at_cutoff as (
            select
                requests.sr_id,
                requests.tenant_id,
                requests.request_type,
                requests.priority,
                case
                    when with_events.sr_id is not null
                        then coalesce(history.last_status, 'OPEN')
                    when requests.updated_at >= {e} then 'OPEN'
                    else requests.status
                end as status,
                requests.service,
                requests.team,
                case
                    when with_events.sr_id is not null then history.last_assignee_id
                    else requests.assignee_id
                end as assignee_id,
                requests.created_at,
                case
                    when with_events.sr_id is not null
                        then coalesce(history.last_event_at, requests.created_at)
                    when requests.updated_at >= {e} then requests.created_at
                    else requests.updated_at
                end as updated_at,
                case
                    when with_events.sr_id is not null then
                        case when history.last_status = 'DONE' then history.last_done_at end
                    when requests.updated_at >= {e} then null
                    else requests.resolved_at
                end as resolved_at,
                requests.caused_by_deployment_id
            from gen.service_requests as requests
            left join with_events
                on requests.sr_id = with_events.sr_id
            left join history
                on requests.sr_id = history.sr_id
            where requests.created_at < {e}
        )
        select {request_columns} from as_at_cutoff order by sr_id""",
        f"""create table delta.service_requests as
        select {request_columns} from gen.service_requests
        where created_at >= {e} or updated_at >= {e}
        order by sr_id""",
        # a deployment finishing after E was running at E
        f"""create table init.deployments as
        select
            deployment_id, tenant_id, service, environment,
            case when finished_at >= {e} then 'IN_PROGRESS' else status end as status,
            started_at,
            case when finished_at >= {e} then null else finished_at end as finished_at,
            commit_at
        from gen.deployments
        where started_at < {e}
        order by deployment_id""",
        f"""create table delta.deployments as
        select {deployment_columns} from gen.deployments
        where started_at >= {e} or finished_at >= {e}
        order by deployment_id""",
    ]


def split_check(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """init with the delta upserted must be gen exactly (multisets), per table."""
    found: dict[str, Any] = {}
    for table, key in PRIMARY_KEYS.items():
        applied = (f"select * from init.{table} where {key} not in "
                   f"(select {key} from delta.{table}) union all select * from delta.{table}")
        missing = con.execute(
            f"select count(*) from (select * from gen.{table} except all ({applied}))"
        ).fetchone()[0]
        extra = con.execute(
            f"select count(*) from (({applied}) except all select * from gen.{table})"
        ).fetchone()[0]
        found[table] = {"missing": missing, "extra": extra}
    overlap = con.execute(
        "select count(*) from init.sr_events inner join delta.sr_events using (event_id)"
    ).fetchone()[0]
    found["sr_events"]["in_both"] = overlap
    bad = {table: value for table, value in found.items() if any(value.values())}
    if bad:
        raise BenchmarkError(f"split check failed: initial load + delta != generated: {bad}")
    return {"ok": True, "tables": found}


def write_tenants_seed(path: Path, tenants: int) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["tenant_id", "tenant_name", "timezone"])
        for tenant_id in range(1, tenants + 1):
            zone = TIMEZONES[(tenant_id - 1) % len(TIMEZONES)]
            writer.writerow([tenant_id, f"Bench tenant {tenant_id}", zone])


# --- SQL of the read measurements ------------------------------------------------------


BI_QUERIES = (
    "select * from marts.kpi_scorecard where tenant_id = %s",
    "select * from marts.tenant_kpi_status where tenant_id = %s",
)


def original_queries() -> list[str]:
    """The 7 queries of the original `_calculate_kpi_value` for the five built-in KPIs, on
    the raw contract (VibeSession is a deployment, its created_at the start), with the
    tenant filter the original lacked. Parameters: tenant_id, month_start (UTC)."""
    done_this_month = "tenant_id = %s and status = 'DONE' and updated_at >= %s"
    return [
        # MTTR: average hours from creation to last update of DONE requests
        "select avg(extract(epoch from (updated_at - created_at)) / 3600) "
        f"from raw.service_requests where {done_this_month}",
        # FCR: the count only (the original then returned min(85, total * 0.85))
        f"select count(sr_id) from raw.service_requests where {done_this_month}",
        # SLA_COMPLIANCE: total, then on time (a flat 4 hours)
        f"select count(sr_id) from raw.service_requests where {done_this_month}",
        f"select count(sr_id) from raw.service_requests where {done_this_month} "
        "and extract(epoch from (updated_at - created_at)) <= 14400",
        # SR_BACKLOG: open requests now, every month
        "select count(sr_id) from raw.service_requests "
        "where tenant_id = %s and status in ('OPEN', 'IN_PROGRESS')",
        # DEPLOY_SUCCESS_RATE: started this month, and of those DEPLOYED
        "select count(deployment_id) from raw.deployments "
        "where tenant_id = %s and started_at >= %s",
        "select count(deployment_id) from raw.deployments "
        "where tenant_id = %s and started_at >= %s and status = 'DEPLOYED'",
    ]


ORIGINAL_PARAMS = (2, 2, 2, 2, 1, 2, 2)  # parameters of each query: tenant[, month_start]


def run_original_request(cursor: Any, engine: str, tenant_id: int,
                         month_start: datetime) -> list[Any]:
    """One dashboard request of the original module: its 7 queries in sequence."""
    results = []
    for sql, count in zip(original_queries(), ORIGINAL_PARAMS, strict=True):
        params = (tenant_id, month_start)[:count]
        cursor.execute(placeholders(sql, engine), params)
        value = cursor.fetchall()[0][0]
        results.append(float(value) if isinstance(value, Decimal) else value)
    return results


def original_values(results: Sequence[Any]) -> dict[str, float | None]:
    """The five KPI values the original computed from its query results."""
    mttr, fcr_total, sla_total, sla_on_time, backlog, deploy_total, deploy_success = results
    return {
        "MTTR": round(float(mttr), 2) if mttr else None,
        "FCR": round(min(85.0, fcr_total * 0.85), 1) if fcr_total else None,
        "SLA_COMPLIANCE": round(sla_on_time / sla_total * 100, 1) if sla_total else None,
        "SR_BACKLOG": float(backlog or 0),
        "DEPLOY_SUCCESS_RATE": (round(deploy_success / deploy_total * 100, 1)
                                if deploy_total else None),
    }


def placeholders(sql: str, engine: str) -> str:
    return sql.replace("%s", "?") if engine == "duckdb" else sql


def floor_sql(as_of: datetime) -> str:
    """The physical floor: per tenant and local month, the numerators and denominators of
    MTTR, FCR and SLA_COMPLIANCE from one scan of service_requests and one of sr_events
    (materialised once, read twice), with the engine's semantics on clean raw data (no
    validation: the demo data has no bad rows). Same SQL on both engines."""
    at = sql_ts(as_of)
    return f"""
with

events as materialized (
    select sr_id, event_id, event_at, event_type, new_status, new_assignee_id
    from raw.sr_events
    where event_at <= {at}
),

status_steps as (
    select
        sr_id,
        event_at,
        new_status,
        lag(new_status) over by_time as previous_status,
        lead(event_at) over by_time as next_at
    from events
    where event_type = 'STATUS' and new_status is not null
    window by_time as (partition by sr_id order by event_at, event_id)
),

histories as (
    select
        sr_id,
        max(case when next_at is null then new_status end) as last_status,
        max(case when next_at is null then event_at end) as last_status_at,
        sum(case when previous_status = 'DONE' and new_status not in ('DONE', 'CANCELLED')
            then 1 else 0 end) as reopen_count,
        sum(case when new_status = 'ON_HOLD'
            then extract(epoch from (coalesce(next_at, {at}) - event_at)) else 0 end)
            as hold_seconds
    from status_steps
    group by sr_id
),

assignees as (
    select sr_id, count(distinct new_assignee_id) as assignee_count
    from events
    where event_type = 'ASSIGNMENT'
    group by sr_id
),

resolved as (
    select
        requests.tenant_id,
        requests.request_type,
        requests.priority,
        requests.created_at,
        case when histories.sr_id is null then requests.resolved_at
            else histories.last_status_at end as resolved_at,
        coalesce(histories.reopen_count, 0) = 0
            and case
                when assignees.assignee_count > 0 then assignees.assignee_count
                when requests.assignee_id is not null then 1
                else 0
            end <= 1 as is_first_contact,
        coalesce(histories.hold_seconds, 0) as hold_seconds
    from raw.service_requests as requests
    left join histories
        on requests.sr_id = histories.sr_id
    left join assignees
        on requests.sr_id = assignees.sr_id
    where requests.created_at <= {at}
        and case
            when histories.sr_id is null then requests.status = 'DONE'
                and requests.resolved_at is not null and requests.resolved_at <= {at}
            else histories.last_status = 'DONE'
        end
),

measured as (
    select
        resolved.tenant_id,
        cast(date_trunc('month', cast((resolved.resolved_at at time zone 'UTC')
            at time zone coalesce(tenants.timezone, 'UTC') as timestamp)) as date)
            as month_start,
        resolved.request_type,
        extract(epoch from (resolved.resolved_at - resolved.created_at)) as resolution_seconds,
        resolved.is_first_contact,
        resolved.hold_seconds,
        case when own_policy.request_type is not null then own_policy.resolution_hours
            else default_policy.resolution_hours end as policy_hours,
        case when own_policy.request_type is not null then own_policy.pause_on_hold
            else default_policy.pause_on_hold end as pause_on_hold
    from resolved
    left join staging.tenants as tenants
        on resolved.tenant_id = tenants.tenant_id
    left join staging.sla_policies as own_policy
        on resolved.tenant_id = own_policy.tenant_id
        and resolved.request_type = own_policy.request_type
        and resolved.priority = own_policy.priority
    left join staging.sla_policies as default_policy
        on default_policy.tenant_id is null
        and resolved.request_type = default_policy.request_type
        and resolved.priority = default_policy.priority
)

select
    tenant_id,
    month_start,
    sum(case when request_type = 'INCIDENT' then resolution_seconds / 3600.0 end)
        as mttr_numerator,
    count(case when request_type = 'INCIDENT' then 1 end) as mttr_denominator,
    count(case when is_first_contact then 1 end) as fcr_numerator,
    count(*) as fcr_denominator,
    count(case when resolution_seconds
        - case when pause_on_hold then hold_seconds else 0 end <= policy_hours * 3600
        then 1 end) as sla_numerator,
    count(policy_hours) as sla_denominator
from measured
group by tenant_id, month_start
"""


FLOOR_KPIS = ("MTTR", "FCR", "SLA_COMPLIANCE")

ENGINE_MONTHLY_SQL = """
select tenant_id, period_start, kpi_name, numerator, denominator
from marts.fct_kpi_values
where grain = 'MONTHLY' and kpi_name in ('MTTR', 'FCR', 'SLA_COMPLIANCE')
"""


def compare_floor(floor_rows: list[tuple], engine_rows: list[tuple]) -> dict[str, Any]:
    """Floor numerators/denominators vs. fct_kpi_values MONTHLY (relative 1e-9)."""
    floor: dict[tuple, tuple[float, float]] = {}
    for tenant_id, month, *values in floor_rows:
        for index, kpi in enumerate(FLOOR_KPIS):
            numerator, denominator = values[2 * index], values[2 * index + 1]
            floor[(int(tenant_id), to_date(month), kpi)] = (
                float(numerator or 0), float(denominator or 0))
    engine = {(int(t), to_date(m), k): (float(n or 0), float(d or 0))
              for t, m, k, n, d in engine_rows}
    differences = []
    for key in sorted(set(floor) | set(engine)):
        mine = floor.get(key, (0.0, 0.0))
        theirs = engine.get(key)
        if theirs is None:
            if mine != (0.0, 0.0):
                differences.append({"key": str(key), "floor": mine, "engine": None})
            continue
        if not all(math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12)
                   for a, b in zip(mine, theirs, strict=True)):
            differences.append({"key": str(key), "floor": mine, "engine": theirs})
    return {"compared": len(engine), "floor_rows": len(floor_rows),
            "differences": len(differences), "examples": differences[:5]}


def to_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- dbt invocations -------------------------------------------------------------------


def dbt_executable() -> str:
    for folder in (Path(sys.prefix) / "bin", Path(sys.executable).parent):
        if (folder / "dbt").exists():
            return str(folder / "dbt")
    return shutil.which("dbt") or "dbt"


PARTIAL = re.compile(r"Partial parsing enabled: (\d+) files deleted, (\d+) files added, "
                     r"(\d+) files changed")
FULL_PARSE = re.compile(r"Unable to do partial parsing because ([^\n]*)")


class Dbt:
    """dbt as a subprocess in the benchmark's project copy, one engine and database."""

    def __init__(self, project_dir: Path, warehouse: Warehouse, log_dir: Path,
                 target_path: str = "target", timeout: float | None = None) -> None:
        self.project_dir = project_dir
        self.warehouse = warehouse
        self.env = warehouse.dbt_env()
        self.log_dir = log_dir
        self.target_dir = project_dir / target_path
        self.timeout = timeout
        self.count = 0

    def run(self, label: str, *args: str, as_of: datetime,
            window: tuple[date, date] | None = None) -> dict[str, Any]:
        """Runs one dbt command; wall time, peak RSS of the dbt process (os.wait4), the
        nodes' times from run_results.json. Raises BenchmarkError when dbt fails."""
        self.count += 1
        log_path = self.log_dir / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', label)}"
        command = [dbt_executable(), *args, "--project-dir", str(self.project_dir),
                   "--profiles-dir", str(self.project_dir), "--target-path",
                   str(self.target_dir), "--log-path", str(log_path)]
        env = {key: value for key, value in os.environ.items() if key not in KPI_ENV}
        env.update(self.env)
        env["KPI_AS_OF"] = iso(as_of)
        if window:
            env["KPI_MIN_DATE"], env["KPI_MAX_DATE"] = (day.isoformat() for day in window)
        results_file = self.target_dir / "run_results.json"
        results_file.unlink(missing_ok=True)
        log_path.mkdir(parents=True, exist_ok=True)
        load = load_average()
        with (log_path / "stdout.log").open("w") as output:
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=self.project_dir, env=env, stdout=output,
                                       stderr=subprocess.STDOUT)
            waited = wait_with_peak(process.pid, self.timeout)
            if waited is None:
                running = self.warehouse.running() or running_nodes(log_path / "stdout.log")
                process.kill()
                process.wait()
                self.warehouse.cancel()
                raise BenchmarkError(f"dbt {' '.join(args)} ({label}) did not finish within "
                                     f"{self.timeout:,.0f} s (--dbt-timeout); still running: "
                                     f"{running}; log {log_path}",
                                     finished_nodes(log_path / "stdout.log"))
            status, peak_kb, usage = waited
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = (log_path / "stdout.log").read_text()[-3000:]
            raise BenchmarkError(f"dbt {' '.join(args)} ({label}) failed with exit code "
                                 f"{process.returncode}; log {log_path}:\n{tail}",
                                 finished_nodes(log_path / "stdout.log"))
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        nodes = [
            {"node": result["unique_id"], "seconds": round(result["execution_time"], 3),
             "status": result["status"]}
            for result in results.get("results", [])
        ]
        nodes.sort(key=lambda node: -node["seconds"])
        return {
            "label": label,
            "command": "dbt " + " ".join(args),
            "as_of": iso(as_of),
            "window": [day.isoformat() for day in window] if window else None,
            "seconds": round(seconds, 3),
            "execution_seconds": round(float(results.get("elapsed_time") or 0.0), 3),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "node_count": len(nodes),
            "node_seconds_sum": round(sum(node["seconds"] for node in nodes), 3),
            "parse": parse_note(log_path / "dbt.log"),
            "load_average_before": load,
            "top_nodes": nodes[:TOP_NODES],
        }


def wait_with_peak(pid: int, timeout: float | None = None,
                   interval: float = 0.02) -> tuple[int, int, Any] | None:
    """Waits for a child; returns its wait status, peak resident set (kB) and rusage, or
    None when it is still running after `timeout` seconds.

    The peak is the child's VmHWM (/proc/<pid>/status), sampled until it exits: it is
    monotonic, so the last sample is the peak but for the last `interval`. Not the
    rusage of wait4: Linux carries the forking parent's own peak (this process, with
    Dagster and DuckDB loaded) over the exec into the child's ru_maxrss.
    """
    status_file = Path(f"/proc/{pid}/status")
    peak_kb = 0
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, peak_kb, usage
        if deadline is not None and time.monotonic() > deadline:
            return None
        with contextlib.suppress(OSError, ValueError):
            for line in status_file.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
                    break
        time.sleep(interval)


FINISHED = re.compile(r"\d+ of \d+ (?:OK created [\w ]+? model|OK loaded seed file|PASS|WARN"
                      r"|FAIL \d+|ERROR creating [\w ]+? model) ([\w.:]+) .*? in ([\d.]+)s\]")


def finished_nodes(stdout_log: Path) -> list[dict[str, Any]]:
    """The nodes a dbt command finished, slowest first, from its console log (for a
    command that failed or was stopped: it wrote no run_results.json)."""
    text = stdout_log.read_text() if stdout_log.exists() else ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    nodes = [{"node": name, "seconds": float(seconds)}
             for name, seconds in FINISHED.findall(text)]
    return sorted(nodes, key=lambda node: -node["seconds"])[:TOP_NODES]


def running_nodes(stdout_log: Path) -> str:
    """Nodes dbt started but did not finish, from its console log."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", stdout_log.read_text() if stdout_log.exists() else "")
    started = re.findall(r"(\d+) of \d+ START (?:sql \w+ model |test |seed file )?([\w.]+)",
                         text)
    finished = set(re.findall(r"(\d+) of \d+ (?:OK|PASS|WARN|ERROR|FAIL|SKIP)", text))
    return ", ".join(name for number, name in started if number not in finished) or "unknown"


def parse_note(dbt_log: Path) -> str:
    """How dbt parsed the project in one invocation (from its debug log)."""
    text = dbt_log.read_text() if dbt_log.exists() else ""
    full = FULL_PARSE.search(text)
    if full:
        return f"full parse ({full.group(1).strip().rstrip('.')})"
    partial = PARTIAL.search(text)
    if partial:
        deleted, added, changed = (int(group) for group in partial.groups())
        if deleted + added + changed == 0:
            return "partial parse, no changes"
        return f"partial parse: {changed} files changed, {added} added, {deleted} deleted"
    return "unknown"


def prepare_project(project_dir: Path, tenants: int) -> None:
    """A copy of the dbt project (own target and logs), the scale's tenants in the seed."""
    if project_dir.exists():
        shutil.rmtree(project_dir)
    project_dir.mkdir(parents=True)
    for item in PROJECT_ITEMS:
        source = REPO_ROOT / item
        if source.is_dir():
            shutil.copytree(source, project_dir / item,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project_dir / item)
    write_tenants_seed(project_dir / "seeds" / "tenants.csv", tenants)


def project_source() -> dict[str, Any]:
    """Which code was measured: the commit, and the working tree's changes to it."""

    def git(*args: str) -> str:
        found = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True,
                               text=True, check=False)
        return found.stdout.rstrip("\n") if found.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", *PROJECT_ITEMS, "orchestration").splitlines()
    return {"commit": git("rev-parse", "HEAD").strip(),
            "uncommitted_changes": [line[3:] for line in changed]}


# --- engines ---------------------------------------------------------------------------


def raw_ddl(table: str) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in RAW_TABLES[table])


class Warehouse:
    """One benchmark database (a DuckDB file or a PostgreSQL database)."""

    engine = ""

    def dbt_env(self) -> dict[str, str]:
        raise NotImplementedError

    def load(self, generated: Path, schema: str) -> None:
        """Creates raw.* with the rows of `schema` (init or gen) of the generated file."""
        raise NotImplementedError

    def apply_delta(self, generated: Path) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def reader(self) -> Iterator[Any]:
        """A cursor on one open connection, for reads after dbt finished."""
        raise NotImplementedError
        yield

    def drop(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def running(self) -> str:
        """What the database is busy with (for a dbt command that timed out)."""
        return ""

    def cancel(self) -> None:
        """Cancels the queries of a dbt command that was killed."""


class DuckDBWarehouse(Warehouse):
    engine = "duckdb"

    def __init__(self, path: Path) -> None:
        self.path = path
        for leftover in (path, path.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)

    def dbt_env(self) -> dict[str, str]:
        return {"DBT_TARGET": "duckdb", "KPI_DUCKDB_PATH": str(self.path)}

    def load(self, generated: Path, schema: str) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(f"attach '{generated}' as generated (read_only)")
            con.execute("create schema if not exists raw")
            for table, key in PRIMARY_KEYS.items():
                names = ", ".join(name for name, _ in RAW_TABLES[table])
                con.execute(f"create or replace table raw.{table} ({raw_ddl(table)})")
                con.execute(f"insert into raw.{table} select {names} "
                            f"from generated.{schema}.{table} order by {key}")
            con.execute("checkpoint")

    def apply_delta(self, generated: Path) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(f"attach '{generated}' as generated (read_only)")
            con.begin()
            for table, key in PRIMARY_KEYS.items():
                names = ", ".join(name for name, _ in RAW_TABLES[table])
                con.execute(f"delete from raw.{table} where {key} in "
                            f"(select {key} from generated.delta.{table})")
                con.execute(f"insert into raw.{table} select {names} "
                            f"from generated.delta.{table} order by {key}")
            con.commit()
            con.execute("checkpoint")

    @contextlib.contextmanager
    def reader(self) -> Iterator[Any]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            yield con.cursor()
        finally:
            con.close()

    def drop(self) -> None:
        for leftover in (self.path, self.path.with_suffix(".duckdb.wal")):
            leftover.unlink(missing_ok=True)

    def describe(self) -> str:
        return str(self.path)


class PostgresWarehouse(Warehouse):
    engine = "postgres"

    def __init__(self, database: str, scratch: Path) -> None:
        if not re.fullmatch(r"bench_[a-z0-9_]+", database):
            raise BenchmarkError(f"PostgreSQL database names must match bench_[a-z0-9_]+, "
                                 f"got {database!r}")
        self.database = database
        self.scratch = scratch
        with self.admin() as cursor:
            cursor.execute(f'drop database if exists "{database}" with (force)')
            cursor.execute(f'create database "{database}"')

    @staticmethod
    def params(database: str) -> dict[str, Any]:
        params = postgres_params_from_env()
        params["dbname"] = database
        return params

    @contextlib.contextmanager
    def admin(self) -> Iterator[Any]:
        with contextlib.closing(psycopg2.connect(**self.params("postgres"))) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                yield cursor

    def dbt_env(self) -> dict[str, str]:
        return {"DBT_TARGET": "postgres", "PGDATABASE": self.database}

    def copy_in(self, cursor: Any, generated: Path, source: str, target: str,
                table: str) -> None:
        """COPY the rows of the generated file's `source` table into `target` via CSV."""
        names = ", ".join(name for name, _ in RAW_TABLES[table])
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as folder:
            csv_path = Path(folder) / f"{table}.csv"
            with duckdb.connect(str(generated), read_only=True) as con:
                con.execute(f"copy (select {names} from {source} order by "
                            f"{PRIMARY_KEYS[table]}) to '{csv_path}' (format csv, header true)")
            with csv_path.open(encoding="utf-8") as handle:
                cursor.copy_expert(f"copy {target} ({names}) from stdin with "
                                   "(format csv, header true)", handle)

    def load(self, generated: Path, schema: str) -> None:
        with contextlib.closing(psycopg2.connect(**self.params(self.database))) as conn:
            with conn, conn.cursor() as cursor:
                cursor.execute("create schema if not exists raw")
                for table in RAW_TABLES:
                    cursor.execute(f"drop table if exists raw.{table} cascade")
                    cursor.execute(f"create table raw.{table} ({raw_ddl(table)})")
                    self.copy_in(cursor, generated, f"{schema}.{table}", f"raw.{table}", table)
            conn.autocommit = True
            with conn.cursor() as cursor:
                for table in RAW_TABLES:
                    cursor.execute(f"vacuum analyze raw.{table}")

    def apply_delta(self, generated: Path) -> None:
        with contextlib.closing(psycopg2.connect(**self.params(self.database))) as conn:
            with conn, conn.cursor() as cursor:
                for table, key in PRIMARY_KEYS.items():
                    cursor.execute(f"create temp table delta_{table} ({raw_ddl(table)}) "
                                   "on commit drop")
                    self.copy_in(cursor, generated, f"delta.{table}", f"delta_{table}", table)
                    cursor.execute(f"delete from raw.{table} where {key} in "
                                   f"(select {key} from delta_{table})")
                    cursor.execute(f"insert into raw.{table} select * from delta_{table}")

    @contextlib.contextmanager
    def reader(self) -> Iterator[Any]:
        conn = psycopg2.connect(**self.params(self.database))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            conn.close()

    def drop(self) -> None:
        with self.admin() as cursor:
            cursor.execute(f'drop database if exists "{self.database}" with (force)')

    def describe(self) -> str:
        return f"postgresql database {self.database}"

    def running(self) -> str:
        with self.admin() as cursor:
            cursor.execute(
                "select distinct substring(query from '\"node_id\": \"([^\"]+)\"'), "
                "max(now() - query_start) from pg_stat_activity where datname = %s "
                "and state = 'active' and pid <> pg_backend_pid() group by 1",
                (self.database,))
            return ", ".join(f"{node} (active for {age})" for node, age in cursor.fetchall())

    def cancel(self) -> None:
        with self.admin() as cursor:
            cursor.execute("select pg_cancel_backend(pid) from pg_stat_activity "
                           "where datname = %s and pid <> pg_backend_pid()", (self.database,))

    def server(self) -> dict[str, Any]:
        with self.reader() as cursor:
            found: dict[str, Any] = {}
            for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
                         "max_parallel_workers_per_gather", "jit"):
                cursor.execute(f"show {name}")
                found[name] = cursor.fetchone()[0]
            return found


def make_warehouse(engine: str, options: Options, folder: Path, suffix: str = "") -> Warehouse:
    if engine == "duckdb":
        return DuckDBWarehouse(folder / f"kpi{suffix}.duckdb")
    return PostgresWarehouse(f"{options.database}{suffix}", folder / "csv")


# --- measurements ----------------------------------------------------------------------


def timed_reads(cursor: Any, engine: str, queries: Sequence[str], params_of: Callable[[int],
                Sequence[tuple]], runs: int, tenants: int) -> tuple[list[float], list[Any]]:
    """Runs the queries in sequence `runs` times (after two warm-up runs), cycling over the
    tenants; returns each run's milliseconds and the first run's results."""
    sqls = [placeholders(sql, engine) for sql in queries]
    timings: list[float] = []
    first: list[Any] = []
    for number in range(runs + 2):
        tenant_id = 1 + number % tenants
        started = time.perf_counter()
        results = []
        for sql, params in zip(sqls, params_of(tenant_id), strict=True):
            cursor.execute(sql, params)
            results.append(cursor.fetchall())
        elapsed = (time.perf_counter() - started) * 1000
        if number >= 2:
            timings.append(elapsed)
        if number == 0:
            first = results
    return timings, first


def measure_bi_read(warehouse: Warehouse, options: Options) -> dict[str, Any]:
    with warehouse.reader() as cursor:
        timings, first = timed_reads(cursor, warehouse.engine, BI_QUERIES,
                                     lambda tenant: [(tenant,), (tenant,)], options.repeat,
                                     options.scale.tenants)
    if not first[0] or not first[1]:
        raise BenchmarkError("the BI read found no scorecard or status row for tenant 1")
    return {"queries": list(BI_QUERIES), "runs": len(timings),
            "median_ms": round(median(timings), 3), "p95_ms": round(p95(timings), 3),
            "rows_tenant_1": [len(first[0]), len(first[1])]}


def measure_tenant_read(warehouse: PostgresWarehouse, options: Options,
                        owner_read: dict[str, Any]) -> dict[str, Any]:
    """The BI read as tenant 1's own login (PostgreSQL): row-level security applies, as
    for a BI tool in production (README, Security). The owner's read bypasses it."""
    login = f"bench_login_{os.getpid()}"
    tenant_role = "kpi_tenant_1"
    with warehouse.admin() as cursor:
        cursor.execute(f"drop role if exists {login}")
        # the tenant role stays, like kpi_reader and kpi_tenant_all: concurrent benchmarks
        # (or a test) may be using it
        cursor.execute("select count(*) from pg_roles where rolname = %s", (tenant_role,))
        if cursor.fetchone()[0] == 0:
            with contextlib.suppress(psycopg2.errors.DuplicateObject):
                cursor.execute(f"create role {tenant_role} nologin in role kpi_reader")
        cursor.execute(f"create role {login} login in role {tenant_role}")
    try:
        params = {**warehouse.params(warehouse.database), "user": login, "password": ""}
        with contextlib.closing(psycopg2.connect(**params)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                timings, first = timed_reads(cursor, "postgres", BI_QUERIES,
                                             lambda tenant: [(1,), (1,)], options.repeat, 1)
                cursor.execute("select count(distinct tenant_id) from marts.fct_kpi_values")
                tenants_seen = cursor.fetchone()[0]
    finally:
        with warehouse.admin() as cursor:
            cursor.execute(f"drop role if exists {login}")
    rows = [len(first[0]), len(first[1])]
    if rows != owner_read["rows_tenant_1"] or tenants_seen != 1:
        raise BenchmarkError(f"tenant 1's login read {rows} rows (owner: "
                             f"{owner_read['rows_tenant_1']}) and saw {tenants_seen} tenants")
    return {"login_member_of": tenant_role, "runs": len(timings),
            "median_ms": round(median(timings), 3), "p95_ms": round(p95(timings), 3),
            "rows_tenant_1": rows, "tenants_visible": tenants_seen}


def measure_original(warehouse: Warehouse, options: Options, as_of: datetime) -> dict[str, Any]:
    month_start = as_of.replace(day=1, hour=0, minute=0, second=0)
    with warehouse.reader() as cursor:
        timings, _ = timed_reads(
            cursor, warehouse.engine, original_queries(),
            lambda tenant: [(tenant, month_start)[:count] for count in ORIGINAL_PARAMS],
            options.repeat, options.scale.tenants)
        sample = run_original_request(cursor, warehouse.engine, 1, month_start)
    return {
        "queries": original_queries(),
        "runs": len(timings),
        "median_ms": round(median(timings), 3),
        "p95_ms": round(p95(timings), 3),
        "month_start": month_start.date().isoformat(),
        "sample": {"tenant_id": 1,
                   "results": dict(zip(ORIGINAL_QUERY_NAMES, sample, strict=True)),
                   "values": original_values(sample)},
        "note": ("The original ran these inside the web request for every tenant at once: "
                 "its queries had no tenant filter (a defect); a tenant filter is added "
                 "here. The raw tables have no index."),
    }


def measure_floor(warehouse: Warehouse, options: Options, as_of: datetime) -> dict[str, Any]:
    sql = floor_sql(as_of)
    warm_up = options.scale.name in SMALL_SCALES
    timings: list[float] = []
    rows: list[tuple] = []
    with warehouse.reader() as cursor:
        for number in range(FLOOR_RUNS + (1 if warm_up else 0)):
            started = time.perf_counter()
            cursor.execute(sql)
            rows = cursor.fetchall()
            elapsed = time.perf_counter() - started
            if not (warm_up and number == 0):
                timings.append(elapsed)
        cursor.execute(ENGINE_MONTHLY_SQL)
        engine_rows = cursor.fetchall()
    check = compare_floor(rows, engine_rows)
    return {"runs": len(timings), "warm_up": warm_up,
            "median_seconds": round(median(timings), 4),
            "seconds": [round(value, 4) for value in timings], "check": check,
            "sql": sql.strip()}


MART_KEYS = {
    "fct_kpi_values": ("tenant_id", "kpi_name", "grain", "period_start"),
    "kpi_scorecard": ("tenant_id", "kpi_name"),
    "tenant_kpi_status": ("tenant_id",),
}
BUILD_TIMESTAMPS = ("calculated_at",)


def read_marts(warehouse: Warehouse,
               windows: dict[str, tuple[datetime, datetime]]) -> dict[str, dict[tuple, Row]]:
    """fct_kpi_values rows of the periods each grain's window recomputed (the fact models'
    own rule, on int_tenants__periods), the whole scorecard and tenant status."""
    found: dict[str, dict[tuple, Row]] = {}
    with warehouse.reader() as cursor:
        p = "?" if warehouse.engine == "duckdb" else "%s"
        fact_rows: list[Row] = []
        for grain, (start, end) in windows.items():
            cursor.execute(
                "select facts.* from marts.fct_kpi_values as facts "
                "inner join intermediate.int_tenants__periods as periods "
                "on facts.tenant_id = periods.tenant_id and facts.grain = periods.grain "
                "and facts.period_start = periods.period_start "
                f"where facts.grain = {p} and periods.period_end_at > {p} "
                f"and periods.period_start_at < {p}", (grain, start, end))
            fact_rows += rows_of(cursor)
        tables = {"fct_kpi_values": fact_rows}
        for mart in ("kpi_scorecard", "tenant_kpi_status"):
            cursor.execute(f"select * from marts.{mart}")
            tables[mart] = rows_of(cursor)
    for mart, rows in tables.items():
        key = MART_KEYS[mart]
        found[mart] = {tuple(row[c] for c in key):
                       {c: v for c, v in row.items() if c not in BUILD_TIMESTAMPS}
                       for row in rows}
    return found


def rows_of(cursor: Any) -> list[Row]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def compare_marts(mine: dict[str, dict[tuple, Row]],
                  reference: dict[str, dict[tuple, Row]]) -> dict[str, Any]:
    """Exact comparison, row by row (build timestamps aside)."""
    found: dict[str, Any] = {}
    for mart in MART_KEYS:
        differences = []
        keys = set(mine[mart]) | set(reference[mart])
        for key in sorted(keys, key=str):
            if mine[mart].get(key) != reference[mart].get(key):
                differences.append({"key": str(key), "incremental": mine[mart].get(key),
                                    "from_scratch": reference[mart].get(key)})
        found[mart] = {"compared": len(keys), "differences": len(differences),
                       "examples": json.loads(json.dumps(differences[:3], default=str))}
    return found


def benchmark_engine(engine: str, options: Options, generated: Path, data: dict[str, Any],
                     snapshot: Path, code: dict[str, Any], say: Progress) -> dict[str, Any]:
    scale = options.scale
    folder = options.work_dir / scale.slug / engine
    project_dir = folder / "project"
    if project_dir.exists():
        shutil.rmtree(project_dir)
    shutil.copytree(snapshot, project_dir)  # every engine measures the same project files
    as_of_full = CUTOFF
    tick_day = (CUTOFF + timedelta(days=1)).date()
    as_of_daily = tick_time("daily", tick_day)
    daily_window = schedule_window("daily", tick_day)
    warehouse = make_warehouse(engine, options, folder)
    reference: Warehouse | None = None
    result: dict[str, Any] = {
        "scale": scale.name,
        "engine": engine,
        "variant": options.variant,
        "started_at": iso(datetime.now(timezone.utc)),
        "config": {
            "requests": scale.requests, "tenants": scale.tenants, "days": scale.days,
            "timezones": list(TIMEZONES), "cutoff_E": iso(CUTOFF),
            "as_of_full_build": iso(as_of_full), "as_of_incremental": iso(as_of_daily),
            "daily_window": [day.isoformat() for day in daily_window],
            "lookback_days_default": 3, "repeat": options.repeat, "verify": options.verify,
            "database": warehouse.describe(),
            "dbt_command": " ".join(BUILD),
            "core_step_windowed": CORE_WINDOWED,
            "env": {key: value for key, value in os.environ.items()
                    if key.startswith("KPI_DUCKDB_") or key == "PGOPTIONS"},
        },
        "code": code,
        "data": data,
    }
    try:
        say(f"[{engine}] loading the state as of E ({warehouse.describe()})")
        started = time.perf_counter()
        warehouse.load(generated, "init")
        result["data"] = {**data, "load_seconds": round(time.perf_counter() - started, 3)}
        if isinstance(warehouse, PostgresWarehouse):
            result["postgres_server"] = warehouse.server()
        dbt = Dbt(project_dir, warehouse, folder / "logs", timeout=options.dbt_timeout)

        say(f"[{engine}] dbt parse")
        result["parse"] = dbt.run("parse", "parse", as_of=as_of_full)
        say(f"[{engine}] full build (dbt build, as_of {iso(as_of_full)})")
        full = dbt.run("full build", *BUILD, as_of=as_of_full)
        result["full_build"] = full
        say(f"[{engine}] full build: {full['seconds']:.1f} s, peak RSS {full['peak_rss_mb']} MB")
        startups = [dbt.run("no-op", "run", "--select", "bench_selects_nothing",
                            as_of=as_of_full) for _ in range(3 if options.repeat >= 10 else 1)]
        result["fixed_startup"] = {"command": startups[0]["command"], "runs": len(startups),
                                   "median_seconds": round(median([r["seconds"]
                                                                   for r in startups]), 3),
                                   "seconds": [r["seconds"] for r in startups],
                                   "parse": startups[-1]["parse"]}

        say(f"[{engine}] BI read x {options.repeat}")
        result["bi_read"] = measure_bi_read(warehouse, options)
        if isinstance(warehouse, PostgresWarehouse):
            say(f"[{engine}] BI read as tenant 1's login (row-level security) x {options.repeat}")
            result["bi_read_tenant_login"] = measure_tenant_read(warehouse, options,
                                                                 result["bi_read"])
        say(f"[{engine}] floor query x {FLOOR_RUNS}")
        result["floor"] = measure_floor(warehouse, options, as_of_full)
        say(f"[{engine}] floor {result['floor']['median_seconds']:.3f} s, equal to the engine "
            f"on {result['floor']['check']['compared']:,} monthly values")
        say(f"[{engine}] original module x {options.repeat}")
        result["original"] = measure_original(warehouse, options, as_of_full)

        say(f"[{engine}] applying the delta")
        started = time.perf_counter()
        warehouse.apply_delta(generated)
        result["data"]["delta_load_seconds"] = round(time.perf_counter() - started, 3)
        steps = [
            dbt.run("incremental: core", *BUILD, "--exclude", *CORE_EXCLUDE.split(),
                    as_of=as_of_daily, window=daily_window if CORE_WINDOWED else None),
            dbt.run("incremental: daily facts", *BUILD, "--select", FACT_MODELS["daily"],
                    as_of=as_of_daily, window=daily_window),
            dbt.run("incremental: marts", *BUILD, "--select", *MART_MODELS.split(),
                    as_of=as_of_daily),
        ]
        nodes = sorted(({"step": step["label"].split(": ")[1], **node}
                        for step in steps for node in step["top_nodes"]),
                       key=lambda node: -node["seconds"])
        result["incremental"] = {
            "job": "kpi_daily_job at the kpi_daily_schedule tick",
            "as_of": iso(as_of_daily),
            "window": [day.isoformat() for day in daily_window],
            "seconds": round(sum(step["seconds"] for step in steps), 3),
            "peak_rss_mb": max(step["peak_rss_mb"] for step in steps),
            "steps": steps,
            "top_nodes": nodes[:TOP_NODES],
        }
        step_times = ", ".join(f"{step['seconds']:.1f}" for step in steps)
        say(f"[{engine}] incremental: {result['incremental']['seconds']:.1f} s ({step_times})")

        if options.verify:
            reference = make_warehouse(engine, options, folder, "_verify")
            result["verify"] = verify(engine, dbt, warehouse, reference, generated, project_dir,
                                      folder, as_of_daily, tick_day, say)
        else:
            result["verify"] = {"enabled": False}
        # failed checks: the result is still written (marked), then the run exits 1
        result["failures"] = failures(result)

        full_s = full["seconds"]
        result["ratios"] = {
            "full_build_over_floor": round(full_s / result["floor"]["median_seconds"], 1),
            "incremental_over_full": round(result["incremental"]["seconds"] / full_s, 3),
            "original_request_over_scorecard_read": round(
                result["original"]["median_ms"] / result["bi_read"]["median_ms"], 2),
        }
        result["memory_note"] = (
            "peak RSS of the dbt process: DuckDB runs inside it, so this is the build's "
            "memory" if engine == "duckdb" else
            "peak RSS of the dbt client process only; the PostgreSQL server's memory is "
            "not included")
    except BenchmarkError as error:  # a dbt command failed or timed out: keep what we have
        say(f"[{engine}] FAILED: {error}")
        result["error"] = str(error)[-4000:]
        result["error_finished_nodes"] = error.nodes
        result["failures"] = [f"{engine}: {str(error)[:1000]}"]
    finally:
        result["finished_at"] = iso(datetime.now(timezone.utc))
        if not options.keep:
            warehouse.drop()
            if reference is not None:
                reference.drop()
    return result


def failures(result: dict[str, Any]) -> list[str]:
    found = []
    floor = result["floor"]["check"]
    if floor["differences"]:
        found.append(f"{result['engine']}: the floor query disagrees with fct_kpi_values "
                     f"(MONTHLY) on {floor['differences']} values, e.g. {floor['examples']}")
    if result["verify"].get("differences"):
        found.append(f"{result['engine']}: verify: the incremental run differs from a "
                     f"from-scratch build in {result['verify']['differences']} rows: "
                     + json.dumps(result["verify"]["comparison"], default=str)[:3000])
    return found


def verify(engine: str, dbt: Dbt, warehouse: Warehouse, reference: Warehouse,
           generated: Path, project_dir: Path, folder: Path, as_of: datetime, tick_day: date,
           say: Progress) -> dict[str, Any]:
    """Refreshes the weekly and monthly facts of the day's other two schedule ticks (one
    invocation over both windows, same as_of), builds the final data from scratch in a
    second database and compares the recomputed periods and the marts exactly."""
    windows = {grain: schedule_window(grain, tick_day) for grain in ("weekly", "monthly")}
    union = (min(w[0] for w in windows.values()), max(w[1] for w in windows.values()))
    say(f"[{engine}] verify: weekly and monthly facts over [{union[0]}, {union[1]}) and marts")
    rest = dbt.run("verify: weekly+monthly facts", *BUILD, "--select", FACT_MODELS["weekly"],
                   FACT_MODELS["monthly"], *MART_MODELS.split(), as_of=as_of, window=union)
    say(f"[{engine}] verify: from-scratch build of the final data ({reference.describe()})")
    reference.load(generated, "gen")
    reference_dbt = Dbt(project_dir, reference, folder / "logs-verify",
                        target_path="target-verify", timeout=dbt.timeout)
    # the reference needs the models, not the dbt tests (the measured builds ran them)
    build = reference_dbt.run("verify: from scratch", "build", "--exclude-resource-type",
                              "test", "unit_test", as_of=as_of)
    lookback = timedelta(days=3)

    def instants(window: tuple[date, date]) -> tuple[datetime, datetime]:
        start, end = (datetime(day.year, day.month, day.day) for day in window)
        return start - lookback, end

    compared = {
        "DAILY": instants(schedule_window("daily", tick_day)),
        "WEEKLY": instants(union),
        "MONTHLY": instants(union),
    }
    comparison = compare_marts(read_marts(warehouse, compared), read_marts(reference, compared))
    differences = sum(part["differences"] for part in comparison.values())
    outcome = {
        "enabled": True,
        "rest_of_day": rest,
        "reference_build": build,
        "compared_windows": {grain: [iso(a), iso(b)] for grain, (a, b) in compared.items()},
        "comparison": comparison,
        "differences": differences,
    }
    if not differences:
        say(f"[{engine}] verify: 0 differences in "
            f"{sum(part['compared'] for part in comparison.values()):,} rows")
    return outcome


# --- machine and report ----------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    memory_gb = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    versions = {}
    for package in ("dbt-core", "dbt-duckdb", "dbt-postgres", "duckdb", "psycopg2-binary",
                    "dagster"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }


SCALE_ORDER = {name: index for index, name in enumerate(SCALES)}


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms"


def fmt_ms(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    return f"{milliseconds:,.1f} ms" if milliseconds < 1000 else fmt_s(milliseconds / 1000)


def short_node(unique_id: str) -> str:
    """model.kpi_engine.x -> x; test.kpi_engine.y.hash -> y (test)."""
    parts = unique_id.split(".")
    kind = parts[0]
    name = parts[3] if kind == "unit_test" and len(parts) > 3 else parts[min(2, len(parts) - 1)]
    return name if kind == "model" else f"{name} ({kind})"


def title(result: dict[str, Any]) -> str:
    variant = f" ({result['variant']})" if result.get("variant") else ""
    return f"{result['scale']} {result['engine']}{variant}"


def render_markdown(results: list[dict[str, Any]]) -> str:
    results = sorted(results, key=lambda r: (SCALE_ORDER.get(r["scale"], 99), r["engine"],
                                             r.get("variant", "")))
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m tools.benchmark`) from the JSON files in "
        "`docs/benchmarks/`; do not edit by hand. See the README, section Benchmark, for "
        "what each line measures.",
        "",
        "Data: the demo generator, about 5 events per request, a deployment per 10 requests, "
        f"tenants round-robin over {', '.join(TIMEZONES)}. E = {iso(CUTOFF)}: the full build "
        "loads the source system as of E (as_of = E); the incremental run follows the next "
        "day's delta (new and changed rows, and about 2 % of the events of the two days "
        "before E arriving late) and runs the dbt steps of the Dagster daily job at the "
        "daily schedule's tick (E + 1 day 00:30 UTC, window = its two daily partitions).",
        "",
    ]
    columns = [title(r) for r in results]

    def row(label: str, cell: Callable[[dict[str, Any]], str]) -> None:
        values = []
        for r in results:
            try:
                values.append(cell(r))
            except (KeyError, TypeError, IndexError, ZeroDivisionError):
                values.append("-")  # a run that failed before this measurement
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    def startup(invocations: list[dict[str, Any]]) -> str:
        return fmt_s(sum(i["seconds"] - i["execution_seconds"] for i in invocations))

    lines += ["## Results", "", "| | " + " | ".join(columns) + " |",
              "|---|" + "---:|" * len(columns)]
    row("requests / events / deployments (final)", lambda r: " / ".join(
        f"{r['data']['rows']['gen'][t]:,}" for t in ("service_requests", "sr_events",
                                                      "deployments")))
    row("tenants / days", lambda r: f"{r['config']['tenants']} / {r['config']['days']}")
    if any(r["config"].get("env") for r in results):
        row("settings from the environment", lambda r: ", ".join(
            f"`{key}={value}`" for key, value in r["config"]["env"].items()) or "-")
    row("load average (1 min) before the full build / the incremental run", lambda r: (
        f"{r['full_build']['load_average_before'][0]:.1f} / "
        f"{r['incremental']['steps'][0]['load_average_before'][0]:.1f}"))
    row("data load, not timed in the build", lambda r: fmt_s(r["data"]["load_seconds"]))
    row("dbt parse (full)", lambda r: fmt_s(r["parse"]["seconds"]))
    row("dbt fixed start-up (no-op invocation)",
        lambda r: fmt_s(r["fixed_startup"]["median_seconds"]))
    row("**1. full build** (`dbt build`)", lambda r: f"**{fmt_s(r['full_build']['seconds'])}**")
    row("full build: dbt start-up and parse within it",
        lambda r: startup([r["full_build"]]))
    row("full build: peak RSS of the dbt process", lambda r: (
        f"{r['full_build']['peak_rss_mb']:,.0f} MB"
        + ("" if r["engine"] == "duckdb" else " (client only)")))
    row("**2. daily incremental run** (sum)",
        lambda r: f"**{fmt_s(r['incremental']['seconds'])}**")
    for index, name in enumerate(("core", "daily facts", "marts")):
        row(f"&nbsp;&nbsp;{name}",
            lambda r, index=index: fmt_s(r["incremental"]["steps"][index]["seconds"]))
    row("incremental: dbt start-up and parse within it",
        lambda r: startup(r["incremental"]["steps"]))
    row("**3. BI read**: scorecard + status, median (p95)", lambda r: (
        f"**{fmt_ms(r['bi_read']['median_ms'])}** ({fmt_ms(r['bi_read']['p95_ms'])})"))
    row("BI read as tenant 1's login (row-level security), median (p95)", lambda r: (
        f"{fmt_ms(r['bi_read_tenant_login']['median_ms'])} "
        f"({fmt_ms(r['bi_read_tenant_login']['p95_ms'])})" if "bi_read_tenant_login" in r
        else "-"))
    row("**4. floor**: one scan, monthly MTTR/FCR/SLA, median",
        lambda r: f"**{fmt_s(r['floor']['median_seconds'])}**")
    row("**5. original module**: 7 queries, one tenant, median (p95)", lambda r: (
        f"**{fmt_ms(r['original']['median_ms'])}** ({fmt_ms(r['original']['p95_ms'])})"))
    row("ratio full build / floor", lambda r: f"{r['ratios']['full_build_over_floor']:,.1f}")
    row("ratio incremental / full build",
        lambda r: f"{r['ratios']['incremental_over_full']:.2f}")
    row("ratio original request / scorecard read",
        lambda r: f"{r['ratios']['original_request_over_scorecard_read']:,.1f}")
    row("check: floor = fct_kpi_values (monthly values)", lambda r: (
        f"{r['floor']['check']['compared']:,} compared, "
        f"{r['floor']['check']['differences']} differ"))
    row("check: incremental = from scratch (rows)", lambda r: (
        f"{sum(p['compared'] for p in r['verify']['comparison'].values()):,} compared, "
        f"{r['verify']['differences']} differ" if r["verify"].get("enabled") else "not run"))
    lines.append("")
    for r in results:
        if r.get("error"):
            lines += [f"**{title(r)} failed**: "
                      + r["error"].split("; log ")[0].replace("\n", " ")[:600], ""]
    lines.append("Peak memory on PostgreSQL is the dbt client's; the server's is not "
                 "included. Times are wall clock on a machine that may be shared: a load "
                 "average above the core count means another process competed for the CPU "
                 "(each JSON keeps the load average before every dbt command).")
    lines.append("")

    lines += ["## Machine", ""]
    machines: dict[str, list[str]] = {}
    for r in results:
        description = json.dumps({k: v for k, v in r["machine"].items() if k != "date"},
                                  sort_keys=True)
        machines.setdefault(description, []).append(f"{title(r)} "
                                                    f"({r['machine']['date']})")
    for description, used_by in machines.items():
        found = json.loads(description)
        packages = ", ".join(f"{name} {version}" for name, version in found["packages"].items())
        servers = sorted({r["postgres_server"]["server_version"] for r in results
                          if "postgres_server" in r})
        lines += [
            f"Results: {', '.join(used_by)}.",
            "",
            "| | |",
            "|---|---|",
            f"| CPU | {found['cpu']} |",
            f"| cores | {found['cores']} |",
            f"| RAM | {found['memory_gb']} GB |",
            f"| OS | {found['os']} |",
            f"| Python | {found['python']} |",
            f"| packages | {packages} |",
            f"| PostgreSQL server | {', '.join(servers) or '-'} |",
            "",
        ]
    for r in results:
        if "postgres_server" in r:
            settings = ", ".join(f"{k} {v}" for k, v in r["postgres_server"].items()
                                 if k != "server_version")
            lines += [f"PostgreSQL settings ({r['scale']}): {settings}.", ""]
            break

    for r in results:
        lines += [f"## {title(r)}: slowest nodes", ""]
        full = r.get("full_build")
        if full:
            lines += [f"Full build ({fmt_s(full['seconds'])} wall, {full['node_count']} nodes, "
                      f"{fmt_s(full['node_seconds_sum'])} summed over nodes, dbt start-up "
                      f"and parse {fmt_s(full['seconds'] - full['execution_seconds'])}):",
                      "", "| node | seconds |", "|---|---:|"]
            lines += [f"| {short_node(n['node'])} | {n['seconds']:.2f} |"
                      for n in full["top_nodes"]]
            lines.append("")
        incremental = r.get("incremental")
        if incremental:
            lines += [f"Daily incremental run ({fmt_s(incremental['seconds'])} wall):", "",
                      "| step | node | seconds |", "|---|---|---:|"]
            lines += [f"| {n['step']} | {short_node(n['node'])} | {n['seconds']:.2f} |"
                      for n in incremental["top_nodes"]]
            lines.append("")
        if r.get("error_finished_nodes"):
            lines += ["The failed dbt command's slowest finished nodes (from its log):", "",
                      "| node | seconds |", "|---|---:|"]
            lines += [f"| {n['node']} | {n['seconds']:.2f} |" for n in r["error_finished_nodes"]]
            lines.append("")
        elif not full and not incremental:
            lines += ["No build finished.", ""]
    return "\n".join(lines)


def write_report(out: Path, markdown: Path) -> None:
    results = [json.loads(path.read_text()) for path in sorted(out.glob("*.json"))]
    results = [r for r in results if {"scale", "engine", "machine"} <= set(r)]
    if results:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(render_markdown(results))


# --- command line ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " Generates demo data, runs the full build, "
        "the daily incremental run, the BI read, the floor query and the original module's "
        "queries, and writes a JSON per scale and engine and a Markdown report.")
    parser.add_argument("--scale", choices=list(SCALES), default="100k",
                        help="smoke: 2,000 requests, 20 tenants, 60 days; 100k, 1M, 10M: that "
                             "many requests, 200 tenants, 730 days (default 100k)")
    parser.add_argument("--engines", default="duckdb,postgres",
                        help="comma-separated: duckdb, postgres (default both)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks",
                        help="folder of the JSON results (default docs/benchmarks)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="the report rebuilt from every JSON in --out (default: OUT.md "
                             "beside the folder, docs/benchmarks.md)")
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / "bench-work",
                        help="data, project copies and logs (default bench-work/)")
    parser.add_argument("--repeat", type=int, default=50,
                        help="timed runs of the BI read and of the original request (50)")
    parser.add_argument("--verify", action="store_true",
                        help="compare the incremental result with a from-scratch build")
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases and the work folder")
    parser.add_argument("--pg-database", default="",
                        help="PostgreSQL database to create (default bench_<scale>; the "
                             "from-scratch one gets _verify)")
    parser.add_argument("--variant", default="",
                        help="label of a run under other settings (e.g. PGOPTIONS or "
                             "KPI_DUCKDB_MEMORY_LIMIT set): <scale>-<engine>-<variant>.json, "
                             "its own column in the report")
    parser.add_argument("--dbt-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop a dbt command running longer (reported as a failure, with "
                             "the nodes still running); default: no limit")
    args = parser.parse_args(argv)
    engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
    if not engines or set(engines) - set(ENGINES):
        parser.error(f"--engines must be among {', '.join(ENGINES)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.variant and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", args.variant):
        parser.error("--variant must be lower-case letters, digits, - and _")
    if args.pg_database and not re.fullmatch(r"bench_[a-z0-9_]+", args.pg_database):
        parser.error("--pg-database must match bench_[a-z0-9_]+")
    out = args.out.resolve()
    return Options(scale=SCALES[args.scale], engines=engines, out=out,
                   markdown=(args.markdown or out.with_suffix(".md")).resolve(),
                   work_dir=args.work_dir.resolve(), repeat=args.repeat, keep=args.keep,
                   verify=args.verify, pg_database=args.pg_database,
                   dbt_timeout=args.dbt_timeout, variant=args.variant)


def progress(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {message}", file=sys.stderr, flush=True)


def run(options: Options, say: Progress = progress) -> dict[str, dict[str, Any]]:
    """The benchmark for each engine; returns the results by engine (also written)."""
    scale_dir = options.work_dir / options.scale.slug
    scale_dir.mkdir(parents=True, exist_ok=True)
    generated = scale_dir / "generated.duckdb"
    say(f"generating {options.scale.name}: {options.scale.requests:,} requests, "
        f"{options.scale.tenants} tenants, {options.scale.days} days, E = {iso(CUTOFF)}")
    data = generate(options.scale, generated, say)
    snapshot = scale_dir / "project-snapshot"
    prepare_project(snapshot, options.scale.tenants)
    code = project_source()
    host = machine()
    results: dict[str, dict[str, Any]] = {}
    try:
        for engine in options.engines:
            result = benchmark_engine(engine, options, generated, data, snapshot, code, say)
            result["machine"] = host
            options.out.mkdir(parents=True, exist_ok=True)
            variant = f"-{options.variant}" if options.variant else ""
            path = options.out / f"{options.scale.name}-{engine}{variant}.json"
            path.write_text(json.dumps(result, indent=2, default=str) + "\n")
            results[engine] = result
            write_report(options.out, options.markdown)
            say(f"[{engine}] wrote {path} and {options.markdown}")
    finally:
        if not options.keep:
            shutil.rmtree(scale_dir, ignore_errors=True)
    problems = [problem for result in results.values() for problem in result["failures"]]
    if problems:
        raise BenchmarkError("failed (results written, marked):\n" + "\n".join(problems))
    return results


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        results = run(options)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except psycopg2.OperationalError as error:
        print(f"benchmark failed: PostgreSQL: {error}", file=sys.stderr)
        return 1
    for engine, result in results.items():
        ratios = result["ratios"]
        print(f"{options.scale.name} {engine}: full build {fmt_s(result['full_build']['seconds'])}"
              f", incremental {fmt_s(result['incremental']['seconds'])}, BI read "
              f"{fmt_ms(result['bi_read']['median_ms'])}, floor "
              f"{fmt_s(result['floor']['median_seconds'])}, original "
              f"{fmt_ms(result['original']['median_ms'])}; full/floor "
              f"{ratios['full_build_over_floor']}, incremental/full "
              f"{ratios['incremental_over_full']}, original/read "
              f"{ratios['original_request_over_scorecard_read']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
