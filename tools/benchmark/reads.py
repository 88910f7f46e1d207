"""The benchmark's reads: the BI read of the scorecard, the original module's queries and
the physical floor (one hand-written scan of the raw tables), each timed over an open
connection of itsm_kpi.warehouse."""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg2.errors

from itsm_kpi import warehouse
from tools.benchmark.config import (
    FLOAT_TOLERANCE,
    FLOOR_RUNS,
    SMALL_SCALES,
    BenchmarkError,
    Options,
)
from tools.benchmark.data import BenchDatabase, calendar_of, sql_ts

ORIGINAL_QUERY_NAMES = (
    "MTTR avg hours",
    "FCR total",
    "SLA total",
    "SLA on time (4 h)",
    "SR_BACKLOG count",
    "DEPLOY total",
    "DEPLOY success",
)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)])


BI_QUERIES = (
    "select * from marts.kpi_scorecard where tenant_id = %s",
    "select * from marts.tenant_kpi_status where tenant_id = %s",
)
# the breakdown read of the README ("which team made a month's MTTR what it is"): one
# tenant, one KPI, one month, by team (issue: under 20 ms on PostgreSQL at 10M)
BREAKDOWN_QUERY = """select breakdown_value as team, value as mttr_hours, status,
    denominator as incidents
from marts.fct_kpi_breakdowns
where tenant_id = %s
    and kpi_name = 'MTTR'
    and grain = 'MONTHLY'
    and period_start = %s
    and breakdown = 'TEAM'
order by value desc"""


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
    return sql.replace("%s", warehouse.placeholder(engine))


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


def compare_floor(floor_rows: list[tuple], engine_rows: list[tuple],
                  business_hours_tenants: frozenset[int] = frozenset()) -> dict[str, Any]:
    """Floor numerators/denominators vs. fct_kpi_values MONTHLY (relative 1e-9); the
    SLA_COMPLIANCE of `business_hours_tenants` is not compared (the floor's SLA clock is
    24/7; tests/test_business_hours.py checks the business clocks)."""
    skipped = {row for row in engine_rows
               if row[2] == "SLA_COMPLIANCE" and int(row[0]) in business_hours_tenants}
    engine_rows = [row for row in engine_rows if row not in skipped]
    floor: dict[tuple, tuple[float, float]] = {}
    for tenant_id, month, *values in floor_rows:
        for index, kpi in enumerate(FLOOR_KPIS):
            if kpi == "SLA_COMPLIANCE" and int(tenant_id) in business_hours_tenants:
                continue
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
            "not_compared_business_hours_sla": len(skipped),
            "differences": len(differences), "examples": differences[:5]}


def to_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


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


def measure_bi_read(database: BenchDatabase, options: Options) -> dict[str, Any]:
    with database.reader() as cursor:
        timings, first = timed_reads(cursor, database.engine, BI_QUERIES,
                                     lambda tenant: [(tenant,), (tenant,)], options.repeat,
                                     options.scale.tenants)
    if not first[0] or not first[1]:
        raise BenchmarkError("the BI read found no scorecard or status row for tenant 1")
    return {"queries": list(BI_QUERIES), "runs": len(timings),
            "median_ms": round(median(timings), 3), "p95_ms": round(p95(timings), 3),
            "rows_tenant_1": [len(first[0]), len(first[1])]}


def measure_breakdown_read(database: BenchDatabase, options: Options,
                           as_of: datetime) -> dict[str, Any]:
    """BREAKDOWN_QUERY over the tenants in turn, for the last month complete at `as_of`."""
    month = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1).date()
    with database.reader() as cursor:
        timings, first = timed_reads(cursor, database.engine, [BREAKDOWN_QUERY],
                                     lambda tenant: [(tenant, month)], options.repeat,
                                     options.scale.tenants)
    if not first[0]:
        raise BenchmarkError(f"the breakdown read found no MTTR slice of {month} for tenant 1")
    return {"query": BREAKDOWN_QUERY, "month_start": month.isoformat(), "runs": len(timings),
            "median_ms": round(median(timings), 3), "p95_ms": round(p95(timings), 3),
            "rows_tenant_1": len(first[0])}


def measure_tenant_read(database: BenchDatabase, options: Options,
                        owner_read: dict[str, Any]) -> dict[str, Any]:
    """The BI read as tenant 1's own login (PostgreSQL): row-level security applies, as
    for a BI tool in production (README, Security). The owner's read bypasses it."""
    login = f"bench_login_{os.getpid()}"
    tenant_role = "kpi_tenant_1"
    with warehouse.admin_cursor() as cursor:
        cursor.execute(f"drop role if exists {login}")
        # the tenant role stays, like kpi_reader and kpi_tenant_all: concurrent benchmarks
        # (or a test) may be using it
        cursor.execute("select count(*) from pg_roles where rolname = %s", (tenant_role,))
        if cursor.fetchone()[0] == 0:
            with contextlib.suppress(psycopg2.errors.DuplicateObject):
                cursor.execute(f"create role {tenant_role} nologin in role kpi_reader")
        cursor.execute(f"create role {login} login in role {tenant_role}")
    try:
        with database.connect(user=login, autocommit=True) as conn, conn.cursor() as cursor:
            timings, first = timed_reads(cursor, "postgres", BI_QUERIES,
                                         lambda tenant: [(1,), (1,)], options.repeat, 1)
            cursor.execute("select count(distinct tenant_id) from marts.fct_kpi_values")
            tenants_seen = cursor.fetchone()[0]
    finally:
        with warehouse.admin_cursor() as cursor:
            cursor.execute(f"drop role if exists {login}")
    rows = [len(first[0]), len(first[1])]
    if rows != owner_read["rows_tenant_1"] or tenants_seen != 1:
        raise BenchmarkError(f"tenant 1's login read {rows} rows (owner: "
                             f"{owner_read['rows_tenant_1']}) and saw {tenants_seen} tenants")
    return {"login_member_of": tenant_role, "runs": len(timings),
            "median_ms": round(median(timings), 3), "p95_ms": round(p95(timings), 3),
            "rows_tenant_1": rows, "tenants_visible": tenants_seen}


def measure_original(database: BenchDatabase, options: Options, as_of: datetime) -> dict[str, Any]:
    month_start = as_of.replace(day=1, hour=0, minute=0, second=0)
    with database.reader() as cursor:
        timings, _ = timed_reads(
            cursor, database.engine, original_queries(),
            lambda tenant: [(tenant, month_start)[:count] for count in ORIGINAL_PARAMS],
            options.repeat, options.scale.tenants)
        sample = run_original_request(cursor, database.engine, 1, month_start)
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


def measure_floor(database: BenchDatabase, options: Options, as_of: datetime) -> dict[str, Any]:
    sql = floor_sql(as_of)
    warm_up = options.scale.name in SMALL_SCALES
    timings: list[float] = []
    rows: list[tuple] = []
    with database.reader() as cursor:
        for number in range(FLOOR_RUNS + (1 if warm_up else 0)):
            started = time.perf_counter()
            cursor.execute(sql)
            rows = cursor.fetchall()
            elapsed = time.perf_counter() - started
            if not (warm_up and number == 0):
                timings.append(elapsed)
        cursor.execute(ENGINE_MONTHLY_SQL)
        engine_rows = cursor.fetchall()
    on_calendars = frozenset(tenant for tenant in range(1, options.scale.tenants + 1)
                             if options.calendars and calendar_of(tenant))
    check = compare_floor(rows, engine_rows, on_calendars)
    return {"runs": len(timings), "warm_up": warm_up,
            "median_seconds": round(median(timings), 4),
            "seconds": [round(value, 4) for value in timings], "check": check,
            "sql": sql.strip()}
