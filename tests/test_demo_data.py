"""The demo raw-data generator: contract, determinism, consistency and realism."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from itsm_kpi import warehouse
from itsm_kpi.demo_data import DemoConfig, build_tables, generate_duckdb, generate_postgres
from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_TABLES

CONFIG = DemoConfig(requests=3000, tenants=5, days=120, seed=11)
PG_TYPES = {"bigint": "bigint", "text": "text", "timestamp": "timestamp without time zone"}
DUCKDB_TYPES = {"bigint": "BIGINT", "text": "VARCHAR", "timestamp": "TIMESTAMP"}


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "kpi.duckdb"
    generate_duckdb(path, CONFIG)
    return path


@pytest.fixture(scope="module")
def demo(demo_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(demo_file), read_only=True) as con:
        yield con


def _rows(con: Any, table: str, schema: str = "raw") -> list[tuple[Any, ...]]:
    names = ", ".join(name for name, _ in RAW_TABLES[table])
    cur = con.cursor()
    cur.execute(f"select {names} from {schema}.{table} order by {PRIMARY_KEYS[table]}")
    return [tuple(row) for row in cur.fetchall()]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A throw-away PostgreSQL database (its name); skipped when the server is
    unreachable."""
    try:
        with warehouse.admin_cursor(connect_timeout=3):
            pass
    except psycopg2.OperationalError as error:
        admin = warehouse.postgres_params(warehouse.ADMIN_DATABASE)
        message = (
            f"PostgreSQL unreachable at {admin['host']}:{admin['port']} "
            f"({' '.join(str(error).split())}); set KPI_REQUIRE_POSTGRES=1 to fail instead"
        )
        if os.environ.get("KPI_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    name = f"kpi_demo_test_{uuid.uuid4().hex[:12]}"
    warehouse.create_database(name)
    try:
        yield name
    finally:
        warehouse.drop_databases(name)


# --- contract and determinism ----------------------------------------------------------


def test_row_counts(demo: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(demo, "select count(*) from raw.service_requests") == CONFIG.requests
    assert _scalar(demo, "select count(*) from raw.deployments") == 300
    events = _scalar(demo, "select count(*) from raw.sr_events")
    assert 4.0 < events / CONFIG.requests < 6.0


def test_duckdb_contract(demo: duckdb.DuckDBPyConnection) -> None:
    for table, columns in RAW_TABLES.items():
        found = demo.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
        assert found == [(name, DUCKDB_TYPES[kind]) for name, kind in columns], table


def test_same_config_gives_same_rows_whatever_the_threads(
    demo: duckdb.DuckDBPyConnection,
) -> None:
    for threads in (1, 4):
        with duckdb.connect() as con:
            con.execute(f"set threads = {threads}")
            build_tables(con, CONFIG)
            for table in RAW_TABLES:
                assert _rows(con, table) == _rows(demo, table), (table, threads)


def test_another_seed_gives_other_rows(demo: duckdb.DuckDBPyConnection) -> None:
    with duckdb.connect() as con:
        build_tables(con, DemoConfig(requests=CONFIG.requests, tenants=5, days=120, seed=12))
        assert _rows(con, "service_requests") != _rows(demo, "service_requests")


def test_custom_schema_replaces_tables_and_reports_progress(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "demo.duckdb"
    messages: list[str] = []
    generate_duckdb(path, DemoConfig(requests=50), schema="demo_raw")
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute("create view staging.requests as select * from demo_raw.service_requests")
    counts = generate_duckdb(path, DemoConfig(requests=80), "demo_raw", messages.append)
    assert counts["service_requests"] == 80
    with duckdb.connect(str(path), read_only=True) as con:
        assert _scalar(con, "select count(*) from staging.requests") == 80
    assert any("sr_events" in message and "rows" in message for message in messages)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        DemoConfig(end=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        DemoConfig(tenants=0)
    with pytest.raises(ValueError):
        generate_duckdb(":memory:", DemoConfig(requests=1), schema="raw; drop")


# --- consistency: each query counts violations -----------------------------------------

STATUS_EVENTS = "(select * from raw.sr_events where event_type = 'STATUS')"
CONSISTENCY = {
    "status is the last STATUS event's status": f"""
        select count(*) from raw.service_requests as r
        join (
            select sr_id, arg_max(new_status, event_at) as last_status
            from {STATUS_EVENTS} group by sr_id
        ) as e on r.sr_id = e.sr_id
        where r.status <> e.last_status""",
    "resolved_at is the last transition into DONE": f"""
        select count(*) from raw.service_requests as r
        left join (
            select sr_id, max(event_at) filter (where new_status = 'DONE') as done_at
            from {STATUS_EVENTS} group by sr_id
        ) as e on r.sr_id = e.sr_id
        where (r.status = 'DONE') <> (r.resolved_at is not null)
            or (e.sr_id is not null and r.resolved_at is distinct from
                case when r.status = 'DONE' then e.done_at end)""",
    "updated_at is the last event, or a row time without events": """
        select count(*) from raw.service_requests as r
        left join (select sr_id, max(event_at) as last_at from raw.sr_events group by sr_id) as e
            on r.sr_id = e.sr_id
        where r.updated_at <> coalesce(e.last_at, greatest(r.created_at, r.resolved_at))
            and not (e.sr_id is null and r.status = 'CANCELLED' and r.updated_at > r.created_at)""",
    "assignee_id is the last assignment": """
        select count(*) from raw.service_requests as r
        join (select distinct sr_id from raw.sr_events) as any_event on r.sr_id = any_event.sr_id
        left join (
            select sr_id, arg_max(new_assignee_id, event_at) as last_assignee_id
            from raw.sr_events where event_type = 'ASSIGNMENT' group by sr_id
        ) as e on r.sr_id = e.sr_id
        where r.assignee_id is distinct from e.last_assignee_id""",
    "no event before created_at, none at or after the end": f"""
        select count(*) from raw.sr_events as e
        join raw.service_requests as r on e.sr_id = r.sr_id
        where e.event_at < r.created_at or e.event_at >= timestamp '{CONFIG.end}'
            or e.tenant_id <> r.tenant_id""",
    "every event belongs to a request": """
        select count(*) from raw.sr_events
        where sr_id not in (select sr_id from raw.service_requests)""",
    "first event is OPEN at created_at": """
        select count(*) from raw.service_requests as r
        join (
            select sr_id, arg_min(new_status, event_id) as first_status,
                min(event_at) as first_at
            from raw.sr_events group by sr_id
        ) as e on r.sr_id = e.sr_id
        where e.first_status is distinct from 'OPEN' or e.first_at <> r.created_at""",
    "event times strictly increase with event_id": """
        select count(*) from (
            select event_at, lag(event_at) over (partition by sr_id order by event_id) as before
            from raw.sr_events
        ) where event_at <= before""",
    "event columns match the event type": """
        select count(*) from raw.sr_events
        where not (
            (event_type = 'STATUS' and new_status is not null and new_assignee_id is null)
            or (event_type = 'ASSIGNMENT' and new_status is null and new_assignee_id is not null)
        )""",
    "request times inside the window": f"""
        select count(*) from raw.service_requests
        where created_at < timestamp '{CONFIG.start}' or created_at >= timestamp '{CONFIG.end}'
            or updated_at < created_at or updated_at >= timestamp '{CONFIG.end}'
            or resolved_at < created_at""",
    "keys are unique": """
        select (select count(*) - count(distinct sr_id) from raw.service_requests)
            + (select count(*) - count(distinct event_id) from raw.sr_events)
            + (select count(*) - count(distinct deployment_id) from raw.deployments)""",
    "accepted values": f"""
        select count(*) from raw.service_requests
        where request_type not in ('INCIDENT', 'SERVICE_REQUEST', 'CHANGE')
            or priority not in ('P1', 'P2', 'P3', 'P4')
            or status not in ('OPEN', 'IN_PROGRESS', 'ON_HOLD', 'DONE', 'CANCELLED')
            or tenant_id not between 1 and {CONFIG.tenants}
        union all
        select count(*) from raw.sr_events
        where event_type not in ('STATUS', 'ASSIGNMENT')
            or new_status not in ('OPEN', 'IN_PROGRESS', 'ON_HOLD', 'DONE', 'CANCELLED')
        union all
        select count(*) from raw.deployments
        where status not in ('DEPLOYED', 'FAILED', 'ROLLED_BACK', 'IN_PROGRESS', 'CANCELLED')
            or environment not in ('production', 'prod', 'Production', 'staging')
            or tenant_id not between 1 and {CONFIG.tenants}""",
    "deployment times are ordered": f"""
        select count(*) from raw.deployments
        where (status = 'IN_PROGRESS' and finished_at is not null)
            or (status in ('DEPLOYED', 'FAILED', 'ROLLED_BACK') and finished_at is null)
            or finished_at <= started_at or commit_at >= started_at
            or started_at >= timestamp '{CONFIG.end}' or finished_at >= timestamp '{CONFIG.end}'""",
    "caused_by points at an earlier deployment of the same tenant": """
        select count(*) from raw.service_requests as r
        left join raw.deployments as d on r.caused_by_deployment_id = d.deployment_id
        where r.caused_by_deployment_id is not null
            and (d.deployment_id is null or d.tenant_id <> r.tenant_id
                or r.request_type <> 'INCIDENT' or d.finished_at > r.created_at)""",
    "fixes_sr_id names an earlier incident of the same tenant and service": """
        select count(*) from raw.deployments as d
        left join raw.service_requests as r on d.fixes_sr_id = r.sr_id
        where d.fixes_sr_id is not null
            and (r.sr_id is null or r.tenant_id <> d.tenant_id or r.service <> d.service
                or r.request_type <> 'INCIDENT' or r.created_at > d.started_at)""",
    "each tenant names its production environment one way": """
        select count(*) from (
            select tenant_id from raw.deployments where environment <> 'staging'
            group by tenant_id having count(distinct environment) > 1
        )""",
}


@pytest.mark.parametrize("sql", CONSISTENCY.values(), ids=CONSISTENCY.keys())
def test_rows_agree_with_their_history(demo: duckdb.DuckDBPyConnection, sql: str) -> None:
    assert all(row[0] == 0 for row in demo.execute(sql).fetchall())


# --- realism: each query counts occurrences of a case the KPI engine must meet ----------

TRANSITIONS = """(
    select sr_id, event_type, new_status, new_assignee_id, event_at,
        lag(new_status) over (partition by sr_id order by event_id) as previous_status,
        lag(new_assignee_id) over (partition by sr_id order by event_id) as previous_assignee
    from raw.sr_events
    where event_type = 'STATUS'
    union all
    select sr_id, event_type, new_status, new_assignee_id, event_at, null,
        lag(new_assignee_id) over (partition by sr_id order by event_id)
    from raw.sr_events
    where event_type = 'ASSIGNMENT'
)"""
REQUESTS_WITHOUT_EVENTS = (
    "(select * from raw.service_requests where sr_id not in (select sr_id from raw.sr_events))"
)
DURATION_HOURS = "date_diff('second', created_at, resolved_at) / 3600.0"
CASES = {
    "reopen": f"""select count(*) from {TRANSITIONS}
        where previous_status = 'DONE' and new_status = 'IN_PROGRESS'""",
    "on hold and back": f"""select count(*) from {TRANSITIONS}
        where previous_status = 'ON_HOLD' and new_status = 'IN_PROGRESS'""",
    "solved without IN_PROGRESS": f"""select count(*) from {TRANSITIONS}
        where previous_status = 'OPEN' and new_status = 'DONE'""",
    "cancelled": "select count(*) from raw.service_requests where status = 'CANCELLED'",
    "reassigned to someone else": f"""select count(*) from {TRANSITIONS}
        where event_type = 'ASSIGNMENT' and new_assignee_id <> previous_assignee""",
    "reassigned to the same person": f"""select count(*) from {TRANSITIONS}
        where event_type = 'ASSIGNMENT' and new_assignee_id = previous_assignee""",
    "never assigned": "select count(*) from raw.service_requests where assignee_id is null",
    "no history, done": f"select count(*) from {REQUESTS_WITHOUT_EVENTS} where status = 'DONE'",
    "no history, cancelled": f"""select count(*) from {REQUESTS_WITHOUT_EVENTS}
        where status = 'CANCELLED'""",
    "no history, open": f"""select count(*) from {REQUESTS_WITHOUT_EVENTS}
        where status not in ('DONE', 'CANCELLED')""",
    "still OPEN": "select count(*) from raw.service_requests where status = 'OPEN'",
    "still IN_PROGRESS": "select count(*) from raw.service_requests where status = 'IN_PROGRESS'",
    "still ON_HOLD": "select count(*) from raw.service_requests where status = 'ON_HOLD'",
    "resolved within an hour": f"""select count(*) from raw.service_requests
        where {DURATION_HOURS} < 1""",
    "resolved after three days": f"""select count(*) from raw.service_requests
        where {DURATION_HOURS} > 72""",
    "created at 23:xx UTC": "select count(*) from raw.service_requests where hour(created_at) = 23",
    "caused by a deployment": """select count(*) from raw.service_requests
        where caused_by_deployment_id is not null""",
    "no service or no team": """select count(*) from raw.service_requests
        where service is null or team is null""",
    "deployment CANCELLED unfinished": """select count(*) from raw.deployments
        where status = 'CANCELLED' and finished_at is null""",
    "deployment CANCELLED finished": """select count(*) from raw.deployments
        where status = 'CANCELLED' and finished_at is not null""",
    "deployment without commit_at": "select count(*) from raw.deployments where commit_at is null",
    # DORA (issue 16): what every metric needs
    **{
        f"deployments to {environment}": f"""select count(*) from raw.deployments
            where environment = '{environment}' and status = 'DEPLOYED'"""
        for environment in ("production", "prod", "Production", "staging")
    },
    "tenant deploying to staging only": """select count(*) from (
        select tenant_id from raw.deployments group by tenant_id
        having bool_and(environment = 'staging'))""",
    "lead time over a day": """select count(*) from raw.deployments
        where environment <> 'staging' and finished_at - commit_at > interval 1 day""",
    "incident naming a production deployment": """select count(*) from raw.service_requests as r
        join raw.deployments as d on r.caused_by_deployment_id = d.deployment_id
        where d.environment <> 'staging'""",
    "incident naming a staging deployment": """select count(*) from raw.service_requests as r
        join raw.deployments as d on r.caused_by_deployment_id = d.deployment_id
        where d.environment = 'staging'""",
    "incident naming a rolled-back deployment": """select count(*)
        from raw.service_requests as r
        join raw.deployments as d on r.caused_by_deployment_id = d.deployment_id
        where d.status = 'ROLLED_BACK'""",
    "unlinked incident within 24 h after a production deployment of its service": """
        select count(*) from raw.service_requests as r
        where r.request_type = 'INCIDENT' and r.caused_by_deployment_id is null
            and exists (
                select 1 from raw.deployments as d
                where d.tenant_id = r.tenant_id and d.service = r.service
                    and d.environment <> 'staging' and d.status = 'DEPLOYED'
                    and d.finished_at <= r.created_at
                    and r.created_at <= d.finished_at + interval 24 hour)""",
    "unlinked incident 24 to 48 h after a production deployment of its service": """
        select count(*) from raw.service_requests as r
        where r.request_type = 'INCIDENT' and r.caused_by_deployment_id is null
            and exists (
                select 1 from raw.deployments as d
                where d.tenant_id = r.tenant_id and d.service = r.service
                    and d.environment <> 'staging' and d.status = 'DEPLOYED'
                    and d.finished_at + interval 24 hour < r.created_at
                    and r.created_at <= d.finished_at + interval 48 hour)""",
    "remediation deployment to production": """select count(*) from raw.deployments
        where fixes_sr_id is not null and environment <> 'staging' and status = 'DEPLOYED'""",
    **{
        f"deployment {status}": f"select count(*) from raw.deployments where status = '{status}'"
        for status in ("DEPLOYED", "FAILED", "ROLLED_BACK", "IN_PROGRESS")
    },
}


@pytest.mark.parametrize("sql", CASES.values(), ids=CASES.keys())
def test_every_case_is_present(demo: duckdb.DuckDBPyConnection, sql: str) -> None:
    assert _scalar(demo, sql) > 0


def test_mix_is_realistic(demo: duckdb.DuckDBPyConnection) -> None:
    share = demo.execute(
        """
        select
            avg(case when request_type = 'INCIDENT' then 1.0 else 0 end),
            avg(case when request_type = 'CHANGE' then 1.0 else 0 end),
            avg(case when priority in ('P3', 'P4') then 1.0 else 0 end),
            avg(case when isodow(created_at) >= 6 then 1.0 else 0 end),
            avg(case when caused_by_deployment_id is not null then 1.0 else 0 end)
                filter (where request_type = 'INCIDENT'),
            avg(case when sr_id not in (select sr_id from raw.sr_events) then 1.0 else 0 end)
        from raw.service_requests
        """
    ).fetchone()
    assert share is not None
    incidents, changes, low_priority, weekend, caused, without_events = share
    assert 0.45 < incidents < 0.55
    assert 0.11 < changes < 0.19
    assert low_priority > 0.7
    assert weekend < 2 / 7  # fewer than a uniform spread would give
    assert 0.005 < caused < 0.05  # a few name their cause (issue 16: DORA)
    assert 0.015 < without_events < 0.045
    deployed = _scalar(
        demo, "select avg(case when status = 'DEPLOYED' then 1.0 else 0 end) from raw.deployments"
    )
    assert 0.65 < deployed < 0.85


def test_change_risk_differs_between_tenants(demo: duckdb.DuckDBPyConnection) -> None:
    """Tenant 3 rolls back and names causes more often than tenant 1 (DORA contrast)."""
    share = dict(demo.execute(
        """
        select tenant_id,
            avg(case when status = 'ROLLED_BACK' then 1.0 else 0 end)
                + (select count(*) from raw.service_requests as r
                   where r.tenant_id = d.tenant_id and r.caused_by_deployment_id is not null)
                / count(*)
        from raw.deployments as d
        where tenant_id in (1, 3)
        group by tenant_id
        """
    ).fetchall())
    assert share[3] > 2 * share[1]


def test_events_per_request_is_a_knob() -> None:
    with duckdb.connect() as con:
        counts = build_tables(con, DemoConfig(requests=2000, events_per_request=8.0))
    assert 7.0 < counts["sr_events"] / counts["service_requests"] < 9.0


# --- PostgreSQL ------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_holds_the_same_rows_with_the_contract_types(
    postgres_database: str, demo: duckdb.DuckDBPyConnection
) -> None:
    counts = generate_postgres(postgres_database, CONFIG)
    assert counts["service_requests"] == CONFIG.requests
    with warehouse.connect("postgres", database=postgres_database) as conn:
        for table, columns in RAW_TABLES.items():
            with conn.cursor() as cur:
                cur.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = %s order by ordinal_position",
                    (table,),
                )
                assert cur.fetchall() == [(name, PG_TYPES[kind]) for name, kind in columns]
            assert _rows(conn, table) == _rows(demo, table), table


@pytest.mark.postgres
def test_postgres_regeneration_keeps_dependent_views(postgres_database: str) -> None:
    config = DemoConfig(requests=100)
    generate_postgres(postgres_database, config, schema="raw_again")
    with warehouse.connect("postgres", database=postgres_database) as conn, \
            conn.cursor() as cur:
        cur.execute("create schema if not exists staging_again")
        cur.execute(
            "create view staging_again.requests as select * from raw_again.service_requests"
        )
    messages: list[str] = []
    counts = generate_postgres(
        postgres_database, DemoConfig(requests=120), "raw_again", messages.append
    )
    assert counts["service_requests"] == 120
    with warehouse.connect("postgres", database=postgres_database) as conn, \
            conn.cursor() as cur:
        cur.execute("select count(*) from staging_again.requests")
        assert cur.fetchone() == (120,)
    assert any("PostgreSQL" in message for message in messages)
