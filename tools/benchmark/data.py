"""The benchmark's data: the demo generator's tables split at E into the source system as
of E and the next day's delta, and the databases they are loaded into (through
itsm_kpi.warehouse)."""

from __future__ import annotations

import contextlib
import csv
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from itsm_kpi import warehouse
from itsm_kpi.demo_data import DemoConfig, build_tables
from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_COLUMNS, RAW_TABLES, raw_ddl
from tools.benchmark import spark_raw
from tools.benchmark.config import (
    CUTOFF,
    LATE_EVENT_DAYS,
    LATE_EVENT_MODULO,
    TIMEZONES,
    BenchmarkError,
    Options,
    Progress,
    Scale,
)
from tools.jobs import iso


def sql_ts(moment: datetime) -> str:
    return f"cast('{moment:%Y-%m-%d %H:%M:%S}' as timestamp)"


# --- generation and the split at E ------------------------------------------------------


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
            schema: {table: _count(con, f"select count(*) from {schema}.{table}")
                     for table in RAW_TABLES}
            for schema in ("gen", "init", "delta")
        }
        late = _count(con, "select count(*) from delta.sr_events "
                           f"where event_at < {sql_ts(CUTOFF)}")
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


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def split_sql(cutoff: datetime) -> list[str]:
    """DuckDB statements: init.* (state as of E) and delta.* (to upsert) from gen.*."""
    e = sql_ts(cutoff)
    late_from = sql_ts(cutoff - timedelta(days=LATE_EVENT_DAYS))
    is_late = (f"(event_at >= {late_from} and event_at < {e} "
               f"and hash(event_id, 7919) % {LATE_EVENT_MODULO} = 0)")
    request_columns, deployment_columns, event_columns = (
        ", ".join(RAW_COLUMNS[table]) for table in ("service_requests", "deployments",
                                                     "sr_events"))
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
            commit_at,
            fixes_sr_id
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
        missing = _count(con, f"select count(*) from (select * from gen.{table} "
                              f"except all ({applied}))")
        extra = _count(con, f"select count(*) from (({applied}) except all "
                            f"select * from gen.{table})")
        found[table] = {"missing": missing, "extra": extra}
    found["sr_events"]["in_both"] = _count(
        con, "select count(*) from init.sr_events inner join delta.sr_events using (event_id)")
    bad = {table: value for table, value in found.items() if any(value.values())}
    if bad:
        raise BenchmarkError(f"split check failed: initial load + delta != generated: {bad}")
    return {"ok": True, "tables": found}


def write_tenants_seed(path: Path, tenants: int) -> None:
    """The scale's tenants, round-robin over TIMEZONES, as seeds/tenants.csv."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["tenant_id", "tenant_name", "timezone"])
        for tenant_id in range(1, tenants + 1):
            zone = TIMEZONES[(tenant_id - 1) % len(TIMEZONES)]
            writer.writerow([tenant_id, f"Bench tenant {tenant_id}", zone])


# business-hours SLAs (README, Business-hours SLAs): every other tenant's policies run on
# a calendar, alternately the shipped business_days (Monday to Friday, 09:00-18:00) and
# the same days with a lunch break; both calendars keep four holidays a year
CALENDARS = {
    "business_days": (("09:00", "18:00"),),
    "business_days_lunch": (("09:00", "12:00"), ("13:00", "18:00")),
}
HOLIDAYS = (("01-01", "New Year's Day"), ("05-01", "Labour Day"), ("12-25", "Christmas Day"),
            ("12-26", "Boxing Day"))
HOLIDAY_YEARS = range(2024, 2029)  # the data's 730 days before E, E, and the due dates after


def calendar_of(tenant_id: int) -> str | None:
    """The calendar of `tenant_id`'s SLA policies in the benchmark (None: 24/7)."""
    if tenant_id % 2:
        return None
    return "business_days" if tenant_id % 4 == 0 else "business_days_lunch"


def write_calendar_seeds(seed_dir: Path, tenants: int) -> dict[str, Any]:
    """business_calendars.csv, holidays.csv and sla_policies.csv for the scale's tenants:
    the shipped default policies (24/7), and for every even tenant the same hours on a
    calendar (calendar_of). Returns what was written, for the result's config."""
    with (seed_dir / "business_calendars.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["calendar_name", "weekday", "start_time", "end_time"])
        for name, hours in CALENDARS.items():
            for weekday in range(1, 6):
                for start, end in hours:
                    writer.writerow([name, weekday, start, end])
    with (seed_dir / "holidays.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["calendar_name", "holiday_date", "holiday_name"])
        for name in CALENDARS:
            for year in HOLIDAY_YEARS:
                for day, holiday in HOLIDAYS:
                    writer.writerow([name, f"{year}-{day}", holiday])
    policies = seed_dir / "sla_policies.csv"
    with policies.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    defaults = [row for row in rows if not row["tenant_id"]]
    on_calendars = [tenant_id for tenant_id in range(1, tenants + 1) if calendar_of(tenant_id)]
    with policies.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(defaults)
        for tenant_id in on_calendars:
            writer.writerows({**row, "tenant_id": str(tenant_id),
                              "calendar_name": calendar_of(tenant_id)} for row in defaults)
    return {"tenants_on_calendars": len(on_calendars), "calendars": list(CALENDARS),
            "holidays_per_calendar": len(HOLIDAYS) * len(HOLIDAY_YEARS)}


# --- the databases measured --------------------------------------------------------------


@dataclass(frozen=True)
class BenchDatabase:
    """One benchmark warehouse: a DuckDB file, a PostgreSQL database or the folder of a
    local Spark session (warehouse, Derby metastore, raw Parquet files)."""

    engine: str
    path: Path | None = None  # DuckDB: the file; Spark: the session's folder (KPI_SPARK_DIR)
    database: str | None = None  # PostgreSQL
    scratch: Path | None = None  # CSV files on their way to PostgreSQL

    @classmethod
    def create(cls, engine: str, options: Options, folder: Path,
               suffix: str = "") -> BenchDatabase:
        """A fresh, empty one (an existing file or database of that name is replaced)."""
        if engine == "duckdb":
            path = folder / f"kpi{suffix}.duckdb"
            for leftover in (path, path.with_suffix(".duckdb.wal")):
                leftover.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(engine, path=path)
        if engine == "spark":
            path = folder / f"spark{suffix}"
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            return cls(engine, path=path, scratch=folder / f"parquet{suffix}")
        database = f"{options.database}{suffix}"
        if not re.fullmatch(r"bench_[a-z0-9_]+", database):
            raise BenchmarkError(f"PostgreSQL database names must match bench_[a-z0-9_]+, "
                                 f"got {database!r}")
        warehouse.create_database(database, replace=True)
        return cls(engine, database=database, scratch=folder / "csv")

    @property
    def env(self) -> dict[str, str | None]:
        """What points profiles.yml (dbt, the Dagster jobs) at this database."""
        return warehouse.dbt_env(self.engine, path=self.path, database=self.database)

    def describe(self) -> str:
        return warehouse.describe(self.engine, path=self.path, database=self.database)

    @contextlib.contextmanager
    def connect(self, **options: Any) -> Iterator[Any]:
        with warehouse.connect(self.engine, path=self.path, database=self.database,
                               **options) as conn:
            yield conn

    @contextlib.contextmanager
    def reader(self) -> Iterator[Any]:
        """A cursor on one open connection, for reads after the jobs finished."""
        read_only = ({"autocommit": True} if self.engine == "postgres"
                     else {"read_only": True})  # Spark: the Parquet reader (DuckDB)
        with self.connect(**read_only) as conn:
            yield conn.cursor()

    def load(self, generated: Path, schema: str) -> None:
        """Creates raw.* with the rows of `schema` (init or gen) of the generated file."""
        if self.engine == "spark":
            with duckdb.connect(str(generated), read_only=True) as con:
                self._declare_spark_raw(con, schema, f"load-{schema}")
            return
        if self.engine == "duckdb":
            with self.connect() as con:
                con.execute(f"attach '{generated}' as generated (read_only)")
                for table, key in PRIMARY_KEYS.items():
                    warehouse.replace_raw_table(con, "duckdb", table)
                    con.execute(f"insert into raw.{table} select {', '.join(RAW_COLUMNS[table])} "
                                f"from generated.{schema}.{table} order by {key}")
                con.execute("checkpoint")
            return
        with self.connect() as conn, conn.cursor() as cursor:
            for table in RAW_TABLES:
                warehouse.replace_raw_table(cursor, "postgres", table)
                self._copy_in(cursor, generated, f"{schema}.{table}", f"raw.{table}", table)
        with self.connect(autocommit=True) as conn, conn.cursor() as cursor:
            for table in RAW_TABLES:
                cursor.execute(f"vacuum analyze raw.{table}")

    def apply_delta(self, generated: Path) -> None:
        """Upserts delta.* of the generated file into raw.*, in one transaction (Spark:
        raw.* declared again over files with the state's rows minus the replaced keys plus
        the delta's; its external Parquet tables take no UPDATE or DELETE)."""
        if self.engine == "spark":
            with duckdb.connect() as con:
                con.execute(f"attach '{generated}' as generated (read_only)")
                con.execute("create schema applied")
                for table, key in PRIMARY_KEYS.items():
                    columns = ", ".join(RAW_COLUMNS[table])
                    con.execute(f"create view applied.{table} as "
                                f"select {columns} from generated.init.{table} "
                                f"where {key} not in (select {key} from generated.delta.{table}) "
                                f"union all select {columns} from generated.delta.{table}")
                self._declare_spark_raw(con, "applied", "apply-delta")
            return
        if self.engine == "duckdb":
            with self.connect() as con:
                con.execute(f"attach '{generated}' as generated (read_only)")
                con.begin()
                for table, key in PRIMARY_KEYS.items():
                    con.execute(f"delete from raw.{table} where {key} in "
                                f"(select {key} from generated.delta.{table})")
                    con.execute(f"insert into raw.{table} select {', '.join(RAW_COLUMNS[table])} "
                                f"from generated.delta.{table} order by {key}")
                con.commit()
                con.execute("checkpoint")
            return
        with self.connect() as conn, conn.cursor() as cursor:
            for table, key in PRIMARY_KEYS.items():
                cursor.execute(f"create temp table delta_{table} ({raw_ddl(table)}) "
                               "on commit drop")
                self._copy_in(cursor, generated, f"delta.{table}", f"delta_{table}", table)
                cursor.execute(f"delete from raw.{table} where {key} in "
                               f"(select {key} from delta_{table})")
                cursor.execute(f"insert into raw.{table} select * from delta_{table}")

    def _declare_spark_raw(self, con: duckdb.DuckDBPyConnection, schema: str,
                           label: str) -> None:
        """The raw tables in `schema` of DuckDB connection `con` become Spark's raw.*:
        exported as Parquet, declared by a child process (spark_raw: the Derby metastore
        admits one JVM at a time, and this process must hold none while a job runs)."""
        assert self.path is not None and self.scratch is not None
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as folder:
            warehouse.export_raw_parquet(con, Path(folder), schema)
            spark_raw.declare_in_subprocess(self.path, Path(folder),
                                            self.scratch / f"spark-raw-{label}.log")

    def _copy_in(self, cursor: Any, generated: Path, source: str, target: str,
                 table: str) -> None:
        """COPY the rows of the generated file's `source` table into `target` via CSV."""
        assert self.scratch is not None
        self.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch) as folder:
            csv_path = Path(folder) / f"{table}.csv"
            with duckdb.connect(str(generated), read_only=True) as con:
                con.execute(f"copy (select {', '.join(RAW_COLUMNS[table])} from {source} "
                            f"order by {PRIMARY_KEYS[table]}) to '{csv_path}' "
                            "(format csv, header true)")
            with csv_path.open(encoding="utf-8") as handle:
                warehouse.copy_csv(cursor, table, handle, into=target)

    def drop(self) -> None:
        if self.engine == "spark":
            for folder in (self.path, self.scratch):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
            return
        if self.path is not None:
            for leftover in (self.path, self.path.with_suffix(".duckdb.wal")):
                leftover.unlink(missing_ok=True)
        if self.database is not None:
            warehouse.drop_databases(self.database)

    def running(self) -> str:
        """The dbt nodes PostgreSQL is busy with (for a dbt command that timed out)."""
        if self.database is None:
            return ""
        with warehouse.admin_cursor() as cursor:
            cursor.execute(
                "select distinct substring(query from '\"node_id\": \"([^\"]+)\"'), "
                "max(now() - query_start) from pg_stat_activity where datname = %s "
                "and state = 'active' and pid <> pg_backend_pid() group by 1",
                (self.database,))
            return ", ".join(f"{node} (active for {age})" for node, age in cursor.fetchall())

    def cancel(self) -> None:
        """Cancels the queries of a dbt command that was stopped."""
        if self.database is None:
            return
        with warehouse.admin_cursor() as cursor:
            cursor.execute("select pg_cancel_backend(pid) from pg_stat_activity "
                           "where datname = %s and pid <> pg_backend_pid()", (self.database,))

    def server(self) -> dict[str, Any]:
        """The PostgreSQL server's version and the settings that matter here."""
        found: dict[str, Any] = {}
        with self.reader() as cursor:
            for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
                         "max_parallel_workers_per_gather", "jit"):
                cursor.execute(f"show {name}")
                found[name] = cursor.fetchone()[0]
        return found
