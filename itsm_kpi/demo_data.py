"""Deterministic demo raw data for the KPI engine.

Everything is generated SQL-side in DuckDB from ``range()``, so millions of rows take
seconds. Pseudo-random numbers come from ``hash(key, seed, salt)`` rather than
``random()``: the same configuration gives the same rows whatever the number of threads.

A request's lifecycle is planned first (kind, hold cycles, assignment pattern, delays);
its events are laid out from that plan, events at or after ``end`` are dropped, and the
request row (status, ``resolved_at``, ``updated_at``, ``assignee_id``) is then derived
from the events that remain, so row and history always agree.

Deployments go to production (named per tenant: ``production``, ``prod``, ``Production``)
or ``staging`` (every fifth tenant: staging only), with commit times. For the DORA KPIs
some incidents name the deployment that caused them (most a production one, some a
staging one), some are created a few hours after a production deployment of their
service without naming it (only the attribution window finds them), and some
deployments remediate an earlier incident of their tenant and service (``fixes_sr_id``);
rollbacks, caused incidents and remediations are more frequent in some tenants than in
others.

The tables follow the raw contract (``itsm_kpi.warehouse.RAW_TABLES``, schema ``raw`` by
default). The PostgreSQL path generates in an in-memory DuckDB, exports CSV files and loads
them with ``COPY`` in a single transaction.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from itsm_kpi import warehouse
from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_TABLES

Progress = Callable[[str], None]

DEFAULT_END = datetime(2026, 11, 1, 0, 0)

SERVICES = (
    "checkout-api",
    "payments",
    "identity",
    "search",
    "mobile-app",
    "data-platform",
    "email",
    "vpn",
)
TEAMS = (  # the team owning each service above, same order
    "commerce",
    "commerce",
    "platform",
    "discovery",
    "mobile",
    "data",
    "workplace-it",
    "workplace-it",
)

# Rough UTC offset (hours) of each shipped tenant's business day: 1 Asia/Seoul,
# 2 America/New_York, 3 Europe/London, 4 UTC. Only shapes the created_at distribution.
_TENANT_UTC_OFFSETS = {1: 9, 2: -5}
# Per-tenant working speed (multiplies durations), cycled over tenant ids: gives the
# demo scorecards some contrast between tenants.
_TENANT_SPEED = (0.3, 1.0, 1.6, 0.7)
_TYPE_SPEED = {"INCIDENT": 0.3, "SERVICE_REQUEST": 1.0, "CHANGE": 1.5}
_INCIDENT_SHARE = 0.50  # of requests
# Per-tenant change risk, cycled over tenant ids: multiplies the shares of rolled-back
# deployments, incidents naming their cause and remediation deployments (DORA contrast).
_TENANT_CHANGE_RISK = (0.25, 1.0, 2.0, 0.6)
# Per-tenant commit-to-deploy delay factor, cycled over tenant ids (change lead time).
_TENANT_COMMIT_DELAY = (0.3, 1.5, 4.0, 0.8)
# The production environment's name in each tenant, cycled over tenant ids (all mapped to
# production by the shipped seeds/deployment_environments.csv, case-insensitively).
_PRODUCTION_NAMES = ("production", "prod", "Production", "production")
# Every fifth tenant deploys to staging only (no DORA values: NO_DATA); the demo's four
# tenants all deploy to production.
_STAGING_ONLY_EVERY = 5
_ROLLED_BACK_SHARE = 0.035  # of deployments, x change risk
_CAUSE_NAMED_SHARE = 0.02  # of incidents, x change risk
_CAUSE_NAMED_STAGING = 0.15  # of those naming a cause: a staging deployment
# of incidents, x the change risk of a deployment drawn at random, which they follow when
# it is a finished production one (about half are)
_WINDOW_INCIDENT_SHARE = 0.02
# of incidents drawing a rolled-back production deployment: they follow it and name it
_ROLLBACK_INCIDENT_SHARE = 0.15
_REMEDIATION_SHARE = 0.08  # of deployments, x change risk
# Measured average number of events of a request with history when it has no hold cycle;
# hold cycles (two events each) make up the rest of ``events_per_request``.
_EVENTS_WITHOUT_HOLDS = 4.21
_MIN_HOLD_CYCLES = 0.15  # mean hold cycles per request in progress, at least
_MAX_HOLD_CYCLES = 40  # keeps step numbers (and event ids) below 100 per request
_STILL_OPEN_AGE_DAYS = 30  # most older plans that stay open get resolved instead


@dataclass(frozen=True)
class DemoConfig:
    """What to generate. ``end`` is naive UTC; every generated timestamp is before it."""

    requests: int = 5000
    tenants: int = 4
    days: int = 180
    end: datetime = DEFAULT_END
    seed: int = 42
    events_per_request: float = 5.0
    deployments_ratio: float = 0.1

    def __post_init__(self) -> None:
        if self.requests < 0 or self.tenants < 1 or self.days < 1:
            raise ValueError("requests must be >= 0, tenants >= 1 and days >= 1")
        if self.events_per_request < 0 or self.deployments_ratio < 0:
            raise ValueError("events_per_request and deployments_ratio must be >= 0")
        if self.end.tzinfo is not None:
            raise ValueError("end must be a naive UTC datetime")
        if not -(2**62) < self.seed < 2**62:
            raise ValueError("seed must fit in a bigint")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)

    @property
    def deployments(self) -> int:
        return round(self.requests * self.deployments_ratio)


def generate_duckdb(
    path: str | Path,
    config: DemoConfig,
    schema: str = "raw",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the raw tables into the DuckDB file at ``path``, replacing them (all or none)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.begin()
        counts = build_tables(con, config, schema, progress)
        con.commit()
    return counts


def generate_postgres(
    database: str | None,
    config: DemoConfig,
    schema: str = "raw",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the raw tables into PostgreSQL database ``database`` (None: PGDATABASE, the
    project's), replacing their rows, in one transaction. The database is created first
    when missing and the login may (``warehouse.ensure_database``)."""
    warehouse.check_identifier(schema)
    report = progress or _ignore
    if warehouse.ensure_database(database):
        report(f"created {warehouse.describe('postgres', database=database)}")
    with tempfile.TemporaryDirectory(prefix="kpi-demo-") as tmp, duckdb.connect() as con:
        counts = build_tables(con, config, schema, progress)
        files = {}
        for table, columns in RAW_TABLES.items():
            with _timed(report, f"exported {table} to CSV"):
                files[table] = Path(tmp) / f"{table}.csv"
                names = ", ".join(name for name, _ in columns)
                target = str(files[table]).replace("'", "''")
                con.execute(
                    f"copy (select {names} from {schema}.{table} order by {PRIMARY_KEYS[table]}) "
                    f"to '{target}' (format csv, header true)"
                )
        with warehouse.connect("postgres", database=database) as conn, conn.cursor() as cur:
            for table in RAW_TABLES:
                with _timed(report, f"loaded {table} into PostgreSQL: {counts[table]:,} rows"):
                    warehouse.replace_raw_table(cur, "postgres", table, schema)
                    with files[table].open(encoding="utf-8") as csv_file:
                        warehouse.copy_csv(cur, table, csv_file, into=f"{schema}.{table}")
                    cur.execute(f"analyze {schema}.{table}")
    return counts


def generate_spark(
    directory: Path | None,
    config: DemoConfig,
    schema: str = "raw",
    progress: Progress | None = None,
    session: Any = None,
) -> dict[str, int]:
    """Write the raw tables as Spark tables of the local session's warehouse in
    ``directory`` (None: KPI_SPARK_DIR, else data/spark), replacing them: generated in an
    in-memory DuckDB, exported as Parquet (``warehouse.export_raw_parquet``) and declared as
    Parquet tables in the Spark metastore (``warehouse.load_spark_raw_tables``), through
    ``session`` when given (a session already running on ``directory``), else a session of
    its own, stopped at the end."""
    warehouse.check_identifier(schema)
    report = progress or _ignore
    directory = directory or warehouse.spark_dir()
    with tempfile.TemporaryDirectory(prefix="kpi-demo-") as tmp, duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        counts = build_tables(con, config, schema, progress)
        with _timed(report, "exported the raw tables to Parquet"):
            files = warehouse.export_raw_parquet(con, Path(tmp), schema)
        with _timed(report, f"declared the raw tables in Spark ({directory})"), \
                (contextlib.nullcontext(session) if session is not None
                 else warehouse.spark_session(directory)) as spark:
            warehouse.load_spark_raw_tables(spark, files, directory, schema)
    return counts


def build_tables(
    con: duckdb.DuckDBPyConnection,
    config: DemoConfig,
    schema: str = "raw",
    progress: Progress | None = None,
) -> dict[str, int]:
    """Generate the three raw tables in ``schema`` of an open DuckDB connection."""
    warehouse.check_identifier(schema)
    report = progress or _ignore
    _create_macros(con, config)
    con.execute(f"create schema if not exists {schema}")
    with _timed(report, "planned deployments"):
        con.execute(_deployments_sql(config))
    with _timed(report, f"planned {config.requests:,} request lifecycles"):
        con.execute(_plan_sql(config))
    with _timed(report, "laid out events"):
        con.execute(_events_sql(config))
    sources = {
        "deployments": _deployments_final_sql(config),
        "sr_events": "select * from _demo_events",
        "service_requests": _requests_sql(config),
    }
    counts: dict[str, int] = {}
    for table, select in sources.items():
        start = time.perf_counter()
        names = ", ".join(name for name, _ in RAW_TABLES[table])
        warehouse.replace_raw_table(con, "duckdb", table, schema)
        con.execute(
            f"insert into {schema}.{table} select {names} from ({select}) as source "
            f"order by {PRIMARY_KEYS[table]}"
        )
        row = con.execute(f"select count(*) from {schema}.{table}").fetchone()
        counts[table] = int(row[0]) if row else 0
        report(f"wrote {schema}.{table}: {counts[table]:,} rows ({_since(start)})")
    for temp in ("_demo_events", "_demo_plan", "_demo_deployments"):
        con.execute(f"drop table if exists {temp}")
    return counts


# --- SQL -------------------------------------------------------------------------------


def _create_macros(con: duckdb.DuckDBPyConnection, config: DemoConfig) -> None:
    seed = int(config.seed)
    con.execute(
        # uniform in [0, 1) from a row key and a salt
        f"create or replace temp macro rnd(k, salt) as "
        f"(hash(cast(k as bigint), cast({seed} as bigint), cast(salt as integer)) % 1000000)"
        f" / 1000000.0"
    )
    con.execute(
        f"create or replace temp macro rnd_int(k, salt, n) as "
        f"cast(hash(cast(k as bigint), cast({seed} as bigint), cast(salt as integer)) "
        f"% cast(n as ubigint) as bigint)"
    )
    # log-uniform whole seconds in [lo, hi), scaled by a speed factor, at least 1
    con.execute(
        "create or replace temp macro loguni(u, lo, hi, speed) as "
        "greatest(1, cast(floor(lo * exp(u * ln(hi / lo)) * speed) as bigint))"
    )


def _ts(value: datetime) -> str:
    return f"timestamp '{value:%Y-%m-%d %H:%M:%S}'"


def _sql_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _tenant_case(values: tuple[Any, ...], column: str = "tenant_id") -> str:
    """A per-tenant SQL value (number or text), cycled over tenant ids."""
    whens = " ".join(f"when {index} then {value!r}" for index, value in enumerate(values))
    return f"(case ({column} - 1) % {len(values)} {whens} end)"


def _deployments_sql(config: DemoConfig) -> str:
    window = config.days * 86400
    rolled_back = f"{_ROLLED_BACK_SHARE} * {_tenant_case(_TENANT_CHANGE_RISK)}"
    return f"""
create or replace temp table _demo_deployments as
with

base as (
    select
        i as deployment_id,
        1 + rnd_int(i, 101, {config.tenants}) as tenant_id,
        {_sql_list(SERVICES)}[1 + rnd_int(i, 102, {len(SERVICES)})] as service,
        rnd(i, 103) < 0.6 as is_production_draw,
        rnd(i, 104) as u_status,
        rnd_int(i, 105, {window - 7200}) as start_second,
        rnd_int(i, 106, 21600) as running_seconds,
        rnd(i, 107) as u_duration,
        rnd(i, 108) as u_commit,
        rnd(i, 109) as u_cancel,
        rnd(i, 110) as u_fix
    from range(1, {config.deployments} + 1) as t(i)
),

shaped as (
    select
        *,
        is_production_draw and tenant_id % {_STAGING_ONLY_EVERY} <> 0 as is_production,
        case when is_production_draw and tenant_id % {_STAGING_ONLY_EVERY} <> 0
            then {_tenant_case(_PRODUCTION_NAMES)}
            else 'staging'
        end as environment,
        case
            when u_status < 0.82 - {rolled_back} then 'DEPLOYED'
            when u_status < 0.92 - {rolled_back} then 'FAILED'
            when u_status < 0.92 then 'ROLLED_BACK'
            when u_status < 0.96 then 'IN_PROGRESS'
            else 'CANCELLED'
        end as status,
        {_tenant_case(_TENANT_COMMIT_DELAY)} as commit_delay,
        u_fix < {_REMEDIATION_SHARE} * {_tenant_case(_TENANT_CHANGE_RISK)} as is_remediation
    from base
),

timed as (
    select
        *,
        case
            -- still running: started during the last six hours
            when status = 'IN_PROGRESS'
                then {_ts(config.end)} - to_seconds(1 + running_seconds)
            else {_ts(config.start)} + to_seconds(start_second)
        end as started_at,
        case
            when status = 'ROLLED_BACK' then loguni(u_duration, 600.0, 7200.0, 1.0)
            else loguni(u_duration, 120.0, 3600.0, 1.0)
        end as duration_seconds
    from shaped
)

select
    deployment_id,
    tenant_id,
    service,
    environment,
    status,
    started_at,
    case
        when status = 'IN_PROGRESS' then null
        when status = 'CANCELLED' and u_cancel < 0.5 then null
        else least(
            started_at + to_seconds(duration_seconds),
            {_ts(config.end - timedelta(seconds=1))}
        )
    end as finished_at,
    case
        when u_commit < 0.1 then null
        else started_at - to_seconds(loguni(u_commit, 1800.0, 1209600.0, commit_delay))
    end as commit_at,
    is_production,
    is_remediation
from timed
"""


def _deployments_final_sql(config: DemoConfig) -> str:
    """The deployments with ``fixes_sr_id``: a remediation deployment fixes the latest
    incident of its tenant and service that a deployment caused (named or not), created
    before it started (when there is one)."""
    window_start = _ts(config.start)
    return f"""
with

remediations as (
    select
        deployment_id,
        tenant_id,
        service,
        date_diff('second', {window_start}, started_at) * 1000000000 + 999999999 as fix_key
    from _demo_deployments
    where is_remediation
),

incidents as (
    select
        sr_id,
        tenant_id,
        service,
        date_diff('second', {window_start}, created_at) * 1000000000 + sr_id as created_key
    from _demo_plan
    where (is_caused_by_deployment or is_window_incident) and service is not null
),

fixed as (
    select remediations.deployment_id, incidents.sr_id
    from remediations
    asof inner join incidents
        on remediations.tenant_id = incidents.tenant_id
        and remediations.service = incidents.service
        and remediations.fix_key >= incidents.created_key
)

select
    deployments.*,
    fixed.sr_id as fixes_sr_id
from _demo_deployments as deployments
left join fixed
    on deployments.deployment_id = fixed.deployment_id
"""


def _hold_ratio(config: DemoConfig) -> float:
    """Ratio q of the geometric number of hold cycles (mean q / (1 - q))."""
    per_history_request = config.events_per_request / 0.97
    in_progress_share = 0.9
    mean = (per_history_request - _EVENTS_WITHOUT_HOLDS) / 2 / in_progress_share
    mean = max(_MIN_HOLD_CYCLES, mean)
    return mean / (1 + mean)


def _speed_case(column: str, factors: dict[Any, float]) -> str:
    whens = " ".join(f"when {key!r} then {value}" for key, value in factors.items())
    return f"(case {column} {whens} else 1.0 end)"


def _plan_sql(config: DemoConfig) -> str:
    window = config.days * 86400
    offsets = " ".join(f"when {k} then {v}" for k, v in _TENANT_UTC_OFFSETS.items())
    tenant_speed = _tenant_case(_TENANT_SPEED)
    change_risk = _tenant_case(_TENANT_CHANGE_RISK)
    type_speed = _speed_case("request_type", _TYPE_SPEED)
    log_q = math.log(_hold_ratio(config))
    return f"""
create or replace temp table _demo_plan as
with

base as (
    select
        i as sr_id,
        1 + rnd_int(i, 1, {config.tenants}) as tenant_id,
        case
            when rnd(i, 2) < {_INCIDENT_SHARE} then 'INCIDENT'
            when rnd(i, 2) < 0.85 then 'SERVICE_REQUEST'
            else 'CHANGE'
        end as request_type,
        case
            when rnd(i, 3) < 0.05 then 1
            when rnd(i, 3) < 0.20 then 2
            when rnd(i, 3) < 0.60 then 3
            else 4
        end as priority_rank,
        1 + rnd_int(i, 4, {len(SERVICES)}) as service_index,
        rnd(i, 5) as u_service,
        rnd(i, 6) as u_team,
        -- day in the window; a weekend day is redrawn six times out of ten
        case
            when isodow({_ts(config.start)} + to_days(rnd_int(i, 7, {config.days}))) >= 6
                and rnd(i, 9) < 0.6
                then rnd_int(i, 8, {config.days})
            else rnd_int(i, 7, {config.days})
        end as day_index,
        -- 70 % in local business hours (08:00-18:00), the rest anywhere in the UTC day
        case
            when rnd(i, 10) < 0.7 then 28800 + rnd_int(i, 11, 36000)
            else rnd_int(i, 12, 86400)
        end as second_of_day,
        rnd(i, 10) < 0.7 as is_business_hours,
        rnd(i, 13) as u_kind,
        rnd(i, 14) as u_variant,
        (1 + rnd_int(i, 16, 999999)) / 1000000.0 as u_hold,
        rnd(i, 17) as u_assign,
        rnd_int(i, 18, 25) as assignee_index,
        rnd_int(i, 19, 24) as reassign_shift,
        rnd(i, 20) as u_caused
    from range(1, {config.requests} + 1) as t(i)
),

-- incidents drawn to follow a random deployment: when it is a finished production
-- deployment, the incident takes its tenant and service and is created 10 min to 48 h
-- after it finished; it names a rolled-back one, not a deployed one (only the
-- attribution window finds that)
window_draws as (
    -- the incidents that may follow a deployment, drawn from range() as in base rather
    -- than read from it: DuckDB materialises a CTE read twice (1M requests: +0.2 s)
    select
        i as sr_id,
        rnd(i, 30) as u_window
    from range(1, {config.requests} + 1) as t(i)
    where rnd(i, 2) < {_INCIDENT_SHARE}
        and rnd(i, 30) < {max(_ROLLBACK_INCIDENT_SHARE,
                              _WINDOW_INCIDENT_SHARE * max(_TENANT_CHANGE_RISK))}
),

window_picks as (
    select
        draws.sr_id,
        case when deployments.status = 'ROLLED_BACK' then deployments.deployment_id end
            as linked_deployment_id,
        deployments.tenant_id,
        list_position({_sql_list(SERVICES)}, deployments.service) as service_index,
        deployments.finished_at
            + to_seconds(loguni(rnd(draws.sr_id, 32), 600.0, 172800.0, 1.0)) as created_at
    from window_draws as draws
    inner join _demo_deployments as deployments
        on deployments.deployment_id = 1 + rnd_int(draws.sr_id, 31, {max(config.deployments, 1)})
    where deployments.is_production
        and deployments.finished_at is not null
        and (
            deployments.status = 'DEPLOYED' and draws.u_window < {_WINDOW_INCIDENT_SHARE}
                * {_tenant_case(_TENANT_CHANGE_RISK, "deployments.tenant_id")}
            or deployments.status = 'ROLLED_BACK'
                and draws.u_window < {_ROLLBACK_INCIDENT_SHARE}
        )
),

placed as (
    select
        *,
        day_index * 86400 + second_of_day - case
            when is_business_hours then (case tenant_id {offsets} else 0 end) * 3600
            else 0
        end as raw_second
    from base
),

created as (
    select
        *,
        {_ts(config.start)}
            + to_seconds((raw_second % {window} + {window}) % {window}) as created_at,
        -- old requests rarely stay open: most plans that would are closed instead
        {window} - (raw_second % {window} + {window}) % {window}
            > {_STILL_OPEN_AGE_DAYS * 86400} and rnd(sr_id, 15) < 0.9 as is_stale
    from placed
),

anchored as (
    select
        created.* replace (
            coalesce(window_picks.tenant_id, created.tenant_id) as tenant_id,
            coalesce(window_picks.service_index, created.service_index) as service_index,
            case when window_picks.sr_id is null then created.u_service else 1.0 end
                as u_service,
            coalesce(window_picks.created_at, created.created_at) as created_at,
            case
                when window_picks.sr_id is null then created.is_stale
                else date_diff('second', window_picks.created_at, {_ts(config.end)})
                    > {_STILL_OPEN_AGE_DAYS * 86400} and rnd(created.sr_id, 15) < 0.9
            end as is_stale
        ),
        window_picks.sr_id is not null as is_window_incident,
        window_picks.linked_deployment_id
    from created
    left join window_picks
        on created.sr_id = window_picks.sr_id
        and window_picks.created_at < {_ts(config.end)}
),

kinds as (
    select
        *,
        case
            when u_kind < 0.03 then 'NO_HISTORY'
            when u_kind < 0.10 then 'CANCELLED'
            when u_kind < 0.15 and is_stale then 'RESOLVED'
            when u_kind < 0.15 then 'STILL_OPEN'
            when u_kind < 0.23 then 'REOPENED'
            else 'RESOLVED'
        end as kind,
        {tenant_speed} * {type_speed} as speed,
        case
            when u_assign < 0.05 then 'NONE'
            when u_assign < 0.13 then 'SAME'
            when u_assign < 0.19 + 0.04 * ((tenant_id - 1) % 4) then 'OTHER'
            else 'SINGLE'
        end as assign_mode
    from anchored
),

shaped as (
    select
        *,
        -- the status the plan ends in (before cutting at the end of the window)
        case kind
            when 'RESOLVED' then 'DONE'
            when 'CANCELLED' then 'CANCELLED'
            when 'REOPENED' then
                case when u_variant < 0.8 or is_stale then 'DONE' else 'IN_PROGRESS' end
            when 'STILL_OPEN' then case
                when u_variant < 0.3 then 'OPEN'
                when u_variant < 0.7 then 'IN_PROGRESS'
                else 'ON_HOLD'
            end
            else case
                when u_variant < 0.75 or (u_variant >= 0.85 and is_stale) then 'DONE'
                when u_variant < 0.85 then 'CANCELLED'
                when u_variant < 0.95 then 'OPEN'
                else 'IN_PROGRESS'
            end
        end as planned_status,
        case kind
            when 'RESOLVED' then u_variant >= 0.05  -- else solved on first contact
            when 'REOPENED' then true
            when 'CANCELLED' then u_variant >= 0.5  -- else cancelled while OPEN
            when 'STILL_OPEN' then u_variant >= 0.3
            else false
        end as has_progress
    from kinds
)

select
    sr_id,
    tenant_id,
    request_type,
    'P' || priority_rank as priority,
    case when u_service < 0.03 then null else {_sql_list(SERVICES)}[service_index] end
        as service,
    case when u_team < 0.05 then null else {_sql_list(TEAMS)}[service_index] end as team,
    created_at,
    kind,
    planned_status,
    has_progress,
    case
        when not has_progress then 0
        when planned_status = 'ON_HOLD' and kind = 'STILL_OPEN'
            then greatest(1, least({_MAX_HOLD_CYCLES}, cast(floor(ln(u_hold) / {log_q}) as bigint)))
        else least({_MAX_HOLD_CYCLES}, cast(floor(ln(u_hold) / {log_q}) as bigint))
    end as hold_cycles,
    speed,
    assign_mode,
    tenant_id * 1000 + 1 + assignee_index as first_assignee_id,
    case assign_mode
        when 'SAME' then tenant_id * 1000 + 1 + assignee_index
        else tenant_id * 1000 + 1 + (assignee_index + 1 + reassign_shift) % 25
    end as second_assignee_id,
    request_type = 'INCIDENT' and not is_window_incident
        and u_caused < {_CAUSE_NAMED_SHARE} * {change_risk} as is_caused_by_deployment,
    rnd(sr_id, 33) >= {_CAUSE_NAMED_STAGING} as is_cause_production,
    is_window_incident,
    linked_deployment_id,
    -- delays in seconds, by step
    loguni(rnd(sr_id, 21), 60.0, 1800.0, 1.0) as assign_delay,
    loguni(
        rnd(sr_id, 22),
        [60.0, 300.0, 600.0, 1800.0][priority_rank],
        [900.0, 3600.0, 28800.0, 86400.0][priority_rank],
        speed
    ) as pickup_delay,
    loguni(rnd(sr_id, 23), 600.0, 28800.0, speed) as reassign_delay,
    case
        when planned_status = 'CANCELLED' then loguni(rnd(sr_id, 24), 600.0, 259200.0, 1.0)
        else loguni(
            rnd(sr_id, 24),
            [900.0, 1800.0, 3600.0, 7200.0][priority_rank],
            [14400.0, 43200.0, 129600.0, 259200.0][priority_rank],
            speed
        )
    end as finish_delay,
    loguni(rnd(sr_id, 25), 3600.0, 432000.0, 1.0) as reopen_delay,
    loguni(rnd(sr_id, 26), 900.0, 86400.0, speed) as rework_delay
from shaped
"""


def _events_sql(config: DemoConfig) -> str:
    columns = "sr_id, tenant_id, created_at"
    return f"""
create or replace temp table _demo_events as
with

plan as (
    select * from _demo_plan
    where kind <> 'NO_HISTORY'
),

holds as (
    select
        {columns},
        speed,
        hold_cycles,
        planned_status,
        unnest(range(hold_cycles)) as cycle
    from plan
    where hold_cycles > 0
),

steps as (
    -- step numbers order a request's events: event_id = sr_id * 100 + step
    select {columns}, 0 as step, 'STATUS' as event_type, 'OPEN' as new_status,
        null::bigint as new_assignee_id, 0::bigint as delay_seconds
    from plan

    union all
    select {columns}, 1, 'ASSIGNMENT', null, first_assignee_id, assign_delay
    from plan
    where assign_mode <> 'NONE'

    union all
    select {columns}, 2, 'STATUS', 'IN_PROGRESS', null, pickup_delay
    from plan
    where has_progress

    union all
    select {columns}, 10 + 2 * cycle, 'STATUS', 'ON_HOLD', null,
        loguni(rnd(sr_id * 100 + 10 + 2 * cycle, 27), 600.0, 86400.0, speed)
    from holds

    union all
    select {columns}, 11 + 2 * cycle, 'STATUS', 'IN_PROGRESS', null,
        loguni(rnd(sr_id * 100 + 11 + 2 * cycle, 28), 900.0, 43200.0, speed)
    from holds
    where not (planned_status = 'ON_HOLD' and cycle = hold_cycles - 1)

    union all
    select {columns}, 90, 'ASSIGNMENT', null, second_assignee_id, reassign_delay
    from plan
    where assign_mode in ('OTHER', 'SAME') and planned_status <> 'OPEN'

    union all
    select {columns}, 91, 'STATUS', case when kind = 'CANCELLED' then 'CANCELLED' else 'DONE' end,
        null, finish_delay
    from plan
    where kind in ('RESOLVED', 'REOPENED', 'CANCELLED')

    union all
    select {columns}, 92, 'STATUS', 'IN_PROGRESS', null, reopen_delay
    from plan
    where kind = 'REOPENED'

    union all
    select {columns}, 94, 'STATUS', 'DONE', null, rework_delay
    from plan
    where kind = 'REOPENED' and planned_status = 'DONE'
),

timed as (
    select
        *,
        created_at + to_seconds(
            sum(delay_seconds) over (partition by sr_id order by step)
        ) as event_at
    from steps
)

select
    sr_id * 100 + step as event_id,
    sr_id,
    tenant_id,
    event_at,
    event_type,
    new_status,
    new_assignee_id
from timed
where event_at < {_ts(config.end)}
"""


def _requests_sql(config: DemoConfig) -> str:
    end = _ts(config.end)
    window_start = _ts(config.start)
    return f"""
with

history as (
    select
        sr_id,
        arg_max(new_status, event_id) filter (where event_type = 'STATUS') as last_status,
        max(event_at) as last_event_at,
        max(event_at) filter (where new_status = 'DONE') as last_done_at,
        arg_max(new_assignee_id, event_id) filter (where event_type = 'ASSIGNMENT')
            as last_assignee_id
    from _demo_events
    group by sr_id
),

-- requests without events: a row that is consistent on its own
no_history as (
    select
        sr_id,
        planned_status,
        created_at + to_seconds(finish_delay) as closed_at
    from _demo_plan
    where kind = 'NO_HISTORY'
),

-- a few incidents name the last deployment before them (of their service when there is
-- one): a production one, or now and then a staging one
finished_deployments as (
    select
        deployment_id,
        tenant_id,
        service,
        is_production,
        date_diff('second', {window_start}, finished_at) * 1000000000 + deployment_id
            as finish_key
    from _demo_deployments
    where status in ('DEPLOYED', 'ROLLED_BACK')
        and finished_at is not null
),

caused as (
    select
        sr_id,
        tenant_id,
        service,
        is_cause_production,
        date_diff('second', {window_start}, created_at) * 1000000000 + 999999999 as cause_key
    from _demo_plan
    where is_caused_by_deployment
),

same_service as (
    select caused.sr_id, finished_deployments.deployment_id
    from caused
    asof inner join finished_deployments
        on caused.tenant_id = finished_deployments.tenant_id
        and caused.is_cause_production = finished_deployments.is_production
        and caused.service = finished_deployments.service
        and caused.cause_key >= finished_deployments.finish_key
),

same_tenant as (
    select caused.sr_id, finished_deployments.deployment_id
    from caused
    asof inner join finished_deployments
        on caused.tenant_id = finished_deployments.tenant_id
        and caused.is_cause_production = finished_deployments.is_production
        and caused.cause_key >= finished_deployments.finish_key
),

final as (
    select
        plan.sr_id,
        plan.tenant_id,
        plan.request_type,
        plan.priority,
        case
            when history.sr_id is not null then history.last_status
            when no_history.planned_status in ('DONE', 'CANCELLED')
                and no_history.closed_at >= {end} then 'OPEN'
            else no_history.planned_status
        end as status,
        plan.service,
        plan.team,
        case
            when history.sr_id is not null then history.last_assignee_id
            when plan.assign_mode <> 'NONE' then plan.first_assignee_id
        end as assignee_id,
        plan.created_at,
        case
            when history.sr_id is not null then history.last_event_at
            when no_history.planned_status in ('DONE', 'CANCELLED')
                and no_history.closed_at < {end} then no_history.closed_at
            else plan.created_at
        end as updated_at,
        case
            when history.last_status = 'DONE' then history.last_done_at
            when no_history.planned_status = 'DONE'
                and no_history.closed_at < {end} then no_history.closed_at
        end as resolved_at,
        coalesce(plan.linked_deployment_id, same_service.deployment_id,
            same_tenant.deployment_id) as caused_by_deployment_id
    from _demo_plan as plan
    left join history
        on plan.sr_id = history.sr_id
    left join no_history
        on plan.sr_id = no_history.sr_id
    left join same_service
        on plan.sr_id = same_service.sr_id
    left join same_tenant
        on plan.sr_id = same_tenant.sr_id
)

select * from final
"""


# --- helpers ---------------------------------------------------------------------------


def _ignore(message: str) -> None:
    """Progress callback that drops messages."""


def _since(start: float) -> str:
    return f"{time.perf_counter() - start:.1f} s"


@contextmanager
def _timed(report: Progress, message: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    report(f"{message} ({_since(start)})")
