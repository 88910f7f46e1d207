"""The one way to reach the project's warehouse, and the raw contract's tables.

A connection goes where profiles.yml sends dbt, from the same environment variables:
DBT_TARGET (duckdb, the default, postgres or spark); for DuckDB the file KPI_DUCKDB_PATH
(default data/kpi.duckdb, relative to the dbt project); for PostgreSQL PGHOST (127.0.0.1),
PGPORT (5432), PGUSER (postgres), PGPASSWORD and PGDATABASE (kpi), or a database named by
the caller; for Spark a local pyspark session on the warehouse and metastore under
KPI_SPARK_DIR (default data/spark), configured as profiles.yml configures dbt's. The raw
tables (schema raw) have one definition of their columns here, with the ways to create
them and load rows into them.

Used by the `kpi` command line, the report, the test harness, the benchmark and the fault
drill.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import duckdb
import psycopg2
import psycopg2.errors
import psycopg2.extras
from psycopg2 import sql

from itsm_kpi.paths import PROJECT_DIR

# every target profiles.yml has; ENGINES, those the whole test suite, the benchmark and
# the fault drill run on by default (Spark builds take minutes: the tests that run on it
# too use tests/harness.py's WITH_SPARK)
TARGETS = ("duckdb", "postgres", "spark")
ENGINES = ("duckdb", "postgres")
DEFAULT_TARGET = "duckdb"
DEFAULT_DUCKDB_PATH = "data/kpi.duckdb"
DEFAULT_SPARK_DIR = "data/spark"
DEFAULT_DATABASE = "kpi"
ADMIN_DATABASE = "postgres"  # where databases are created and dropped from
RAW_SCHEMA = "raw"

# The raw contract (README): table -> ordered (column, type); the type names are valid on
# both engines.
RAW_TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "deployments": (
        ("deployment_id", "bigint"),
        ("tenant_id", "bigint"),
        ("service", "text"),
        ("environment", "text"),
        ("status", "text"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("commit_at", "timestamp"),
        # optional in a loader's table (staging reads a missing column as null)
        ("fixes_sr_id", "bigint"),
    ),
    "service_requests": (
        ("sr_id", "bigint"),
        ("tenant_id", "bigint"),
        ("request_type", "text"),
        ("priority", "text"),
        ("status", "text"),
        ("service", "text"),
        ("team", "text"),
        ("assignee_id", "bigint"),
        ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
        ("resolved_at", "timestamp"),
        ("caused_by_deployment_id", "bigint"),
    ),
    "sr_events": (
        ("event_id", "bigint"),
        ("sr_id", "bigint"),
        ("tenant_id", "bigint"),
        ("event_at", "timestamp"),
        ("event_type", "text"),
        ("new_status", "text"),
        ("new_assignee_id", "bigint"),
    ),
}
RAW_COLUMNS: dict[str, list[str]] = {
    table: [name for name, _ in columns] for table, columns in RAW_TABLES.items()
}
PRIMARY_KEYS = {
    "deployments": "deployment_id",
    "service_requests": "sr_id",
    "sr_events": "event_id",
}
# what information_schema calls the contract's types on PostgreSQL
POSTGRES_TYPES = {"bigint": "bigint", "text": "text", "timestamp": "timestamp without time zone"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Row = dict[str, Any]


# --- where -----------------------------------------------------------------------------


def target(explicit: str | None = None) -> str:
    """The engine: `explicit`, else DBT_TARGET, else duckdb."""
    engine = explicit or os.environ.get("DBT_TARGET") or DEFAULT_TARGET
    if engine not in TARGETS:
        raise ValueError(f"unknown target {engine!r} (duckdb, postgres or spark)")
    return engine


def duckdb_path(explicit: str | Path | None = None, base: Path = PROJECT_DIR) -> Path:
    """The DuckDB file: `explicit`, else KPI_DUCKDB_PATH, else data/kpi.duckdb; a relative
    path is relative to `base`, the dbt project folder (where dbt runs)."""
    path = Path(explicit or os.environ.get("KPI_DUCKDB_PATH") or DEFAULT_DUCKDB_PATH)
    return path if path.is_absolute() else base / path


def spark_dir(explicit: str | Path | None = None, base: Path = PROJECT_DIR) -> Path:
    """The local Spark session's folder (warehouse/, metastore_db/, raw/): `explicit`, else
    KPI_SPARK_DIR, else data/spark; a relative path is relative to `base`, the dbt project
    folder (where dbt runs, so where profiles.yml's relative default points)."""
    path = Path(explicit or os.environ.get("KPI_SPARK_DIR") or DEFAULT_SPARK_DIR)
    return path if path.is_absolute() else base / path


def spark_threads() -> int:
    """dbt's threads on Spark: KPI_SPARK_THREADS, else profiles.yml's default, 4."""
    return int(os.environ.get("KPI_SPARK_THREADS") or 4)


def spark_conf(directory: Path) -> dict[str, str]:
    """The settings of a local Spark session on `directory`: those profiles.yml gives dbt's
    session (server_side_parameters), so both see the same metastore and tables."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",  # as dbt-spark sets it
        "spark.sql.warehouse.dir": str(directory / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={directory / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={directory}",
        "spark.driver.memory": os.environ.get("KPI_SPARK_DRIVER_MEMORY", "3g"),
        "spark.sql.shuffle.partitions": os.environ.get("KPI_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def start_spark_session(directory: Path) -> Any:
    """A local SparkSession (pyspark, the `spark` extra) with Hive support on the metastore
    and warehouse of `directory`; the caller stops it. A session this process already
    runs is returned as it is (its warehouse and metastore cannot change). The metastore is
    an embedded Derby database: one process at a time (not while dbt runs on Spark)."""
    from pyspark.sql import SparkSession  # the optional `spark` extra

    directory.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master("local[*]").appName("itsm-kpi").enableHiveSupport()
    for key, value in spark_conf(directory).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def spark_session(directory: Path | None = None) -> Iterator[Any]:
    """start_spark_session() on `directory` (default spark_dir()), stopped on exit."""
    session = start_spark_session(directory or spark_dir())
    try:
        yield session
    finally:
        session.stop()


def spark_rows(session: Any, statement: str) -> list[Row]:
    """The rows of a Spark SQL query as dicts; timestamps as naive UTC datetimes, as the
    other engines return them (pyspark converts to the Python process's local time)."""
    from datetime import UTC, datetime

    def value(item: Any) -> Any:
        if isinstance(item, datetime) and item.tzinfo is None:
            return item.astimezone(UTC).replace(tzinfo=None)
        return item

    return [{name: value(item) for name, item in row.asDict().items()}
            for row in session.sql(statement).collect()]


def postgres_params(dbname: str | None = None, user: str | None = None) -> dict[str, Any]:
    """psycopg2 parameters from the PG* variables, for database `dbname` (default
    PGDATABASE, else kpi), as `user` when given (another login: PGPASSWORD is not its
    password, so none is sent)."""
    params: dict[str, Any] = {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": user or os.environ.get("PGUSER", "postgres"),
        "dbname": dbname or os.environ.get("PGDATABASE") or DEFAULT_DATABASE,
    }
    if os.environ.get("PGPASSWORD") and not user:
        params["password"] = os.environ["PGPASSWORD"]
    return params


def dbt_env(engine: str, *, path: Path | None = None,
            database: str | None = None) -> dict[str, str | None]:
    """The variables that point profiles.yml (so dbt, and the Dagster jobs that run it)
    at one warehouse, for `patched_env`."""
    if target(engine) == "duckdb":
        return {"DBT_TARGET": "duckdb", "KPI_DUCKDB_PATH": str(duckdb_path(path))}
    if target(engine) == "spark":
        return {"DBT_TARGET": "spark", "KPI_SPARK_DIR": str(spark_dir(path))}
    return {"DBT_TARGET": "postgres", "PGDATABASE": database}


def describe(engine: str, *, path: Path | None = None, database: str | None = None) -> str:
    if target(engine) == "duckdb":
        return str(duckdb_path(path))
    if target(engine) == "spark":
        return f"Spark warehouse {spark_dir(path)}"
    return f"PostgreSQL database {postgres_params(database)['dbname']}"


# --- connections -----------------------------------------------------------------------


@contextlib.contextmanager
def connect(engine: str | None = None, *, path: Path | None = None,
            database: str | None = None, user: str | None = None, read_only: bool = False,
            autocommit: bool = False, base: Path = PROJECT_DIR) -> Iterator[Any]:
    """A connection to the warehouse of `engine` (default DBT_TARGET), closed on exit.

    DuckDB: the file (`path`, else KPI_DUCKDB_PATH); `read_only` needs it to exist.
    PostgreSQL: database `database` (else PGDATABASE), as `user` (else PGUSER); committed
    on a normal exit unless `autocommit`; `read_only` reads one snapshot (repeatable
    read).
    Spark (`read_only` only): an in-memory DuckDB connection whose views <schema>.<table>
    read the Parquet files of the local session's tables (`path`, else KPI_SPARK_DIR), so
    the report and the scorecards read the marts without a JVM, and while dbt holds the
    session's metastore. Spark views (fct_kpi_values) are not there: read their tables.
    """
    if target(engine) == "spark":
        if not read_only:
            raise NotImplementedError("writing to Spark goes through spark_session()")
        con = _spark_parquet_reader(spark_dir(path, base))
        try:
            yield con
        finally:
            con.close()
        return
    if target(engine) == "duckdb":
        file = duckdb_path(path, base)
        if read_only and not file.exists():
            raise FileNotFoundError(f"{file} does not exist: build the warehouse first "
                                    "(`make demo` or `kpi build`)")
        con = _duckdb_connect(file, read_only)
        try:
            yield con
        finally:
            con.close()
        return
    conn = psycopg2.connect(**postgres_params(database, user))
    try:
        if read_only:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        conn.autocommit = autocommit
        yield conn
        if not autocommit:
            conn.commit()
    finally:
        conn.close()


def _duckdb_connect(file: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        return duckdb.connect(str(file))
    try:
        return duckdb.connect(str(file), read_only=True)
    except duckdb.ConnectionException:
        # this process already holds the file open read-write (dbt-duckdb ran in-process,
        # as in `kpi build`): DuckDB then only allows a connection of the same configuration
        return duckdb.connect(str(file))


def _spark_parquet_reader(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per table of the Spark warehouse in `directory`
    (<warehouse>/<schema>.db/<table>/*.parquet)."""
    tables = sorted(path.parent for path in (directory / "warehouse").glob("*.db/*/*.parquet"))
    if not any(table.parent.name == "marts.db" for table in tables):
        raise FileNotFoundError(f"no Spark marts under {directory}: build them first "
                                "(`make demo-spark` or `DBT_TARGET=spark dbt build`)")
    con = duckdb.connect()
    for table in dict.fromkeys(tables):
        schema = table.parent.name.removesuffix(".db")
        check_identifier(schema)
        check_identifier(table.name)
        location = str(table / "*.parquet").replace("'", "''")
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create view {schema}.{table.name} as "
                    f"select * from read_parquet('{location}')")
    return con


@contextlib.contextmanager
def admin_cursor(connect_timeout: int | None = None) -> Iterator[Any]:
    """An autocommit cursor on the PostgreSQL server's maintenance database (postgres), to
    create and drop databases and roles."""
    extra = {"connect_timeout": connect_timeout} if connect_timeout else {}
    with contextlib.closing(psycopg2.connect(**postgres_params(ADMIN_DATABASE), **extra)) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            yield cursor


def create_database(name: str, replace: bool = False) -> None:
    """Creates PostgreSQL database `name` (dropped first when `replace`)."""
    check_identifier(name)
    with admin_cursor() as cursor:
        if replace:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        cursor.execute(f'create database "{name}"')


class DatabaseMissing(RuntimeError):
    """The PostgreSQL database does not exist and this login may not create it."""


def ensure_database(database: str | None = None) -> bool:
    """Creates PostgreSQL database `database` (default PGDATABASE, else kpi) when it does not
    exist and the login may (CREATEDB or superuser), from the maintenance database; True
    when it created it. Any name works: it is quoted as an identifier. DatabaseMissing,
    saying what to run, when the login may not; the connection error itself when the
    database exists but refuses the login, or the server cannot be reached."""
    params = postgres_params(database)
    name = params["dbname"]
    try:
        psycopg2.connect(**params).close()
        return False
    except psycopg2.OperationalError as error:
        refused = error
    try:
        admin = psycopg2.connect(**postgres_params(ADMIN_DATABASE))
    except psycopg2.OperationalError:  # the maintenance database is out of reach too
        raise refused from None
    with contextlib.closing(admin), admin.cursor() as cursor:
        admin.autocommit = True
        cursor.execute("select exists (select from pg_database where datname = %s), "
                       "current_user", (name,))
        exists, login = cursor.fetchone()
        if exists:  # the connection failed for another reason
            raise refused
        try:
            cursor.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg2.errors.DuplicateDatabase:  # created meanwhile by someone else
            return False
        except psycopg2.errors.InsufficientPrivilege as error:
            quoted_name, quoted_login = (sql.Identifier(text).as_string(cursor)
                                         for text in (name, login))
            statement = f"create database {quoted_name} owner {quoted_login}"
            command = (f"psql -h {params['host']} -p {params['port']} -U postgres "
                       f"-d {ADMIN_DATABASE} -c {shlex.quote(statement)}")
            raise DatabaseMissing(
                f"PostgreSQL database {quoted_name} does not exist and login {quoted_login} "
                f"may not create it. Ask a superuser to run, e.g.: {command} (or set "
                "PGDATABASE to a database that exists)."
            ) from error
    return True


def drop_databases(*names: str) -> None:
    """Drops the PostgreSQL databases that exist among `names`, sessions and all."""
    with admin_cursor() as cursor:
        for name in names:
            check_identifier(name)
            cursor.execute(f'drop database if exists "{name}" with (force)')


def rows(cursor: Any) -> list[Row]:
    """The rows of an executed cursor (DuckDB or psycopg2) as dicts."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query(conn: Any, sql: str, params: Sequence[Any] | None = None) -> list[Row]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return rows(cursor)
    finally:
        # DuckDB: a cursor is a connection of its own, keeping the database file open (and
        # locked against a writer in another process) until it is closed or collected
        cursor.close()


def placeholder(engine: str) -> str:
    """The parameter marker of the engine's driver."""
    return "%s" if target(engine) == "postgres" else "?"


# --- the raw tables --------------------------------------------------------------------


def raw_ddl(table: str) -> str:
    """`name type, ...` of a raw table, valid on both engines."""
    return ", ".join(f"{name} {kind}" for name, kind in RAW_TABLES[table])


def create_raw_tables(cursor: Any, schema: str = RAW_SCHEMA) -> None:
    """The schema and the raw tables with the contract's columns, where missing (a table
    that exists is left as it is, e.g. text columns as some loaders write them)."""
    check_identifier(schema)
    cursor.execute(f"create schema if not exists {schema}")
    for table in RAW_TABLES:
        cursor.execute(f"create table if not exists {schema}.{table} ({raw_ddl(table)})")


def replace_raw_table(cursor: Any, engine: str, table: str, schema: str = RAW_SCHEMA) -> None:
    """An empty raw table with the contract's columns, for a bulk load. PostgreSQL: emptied
    when its columns are already the contract's (views built on it, dbt's staging, stay),
    else recreated; DuckDB: recreated."""
    check_identifier(schema)
    cursor.execute(f"create schema if not exists {schema}")
    if target(engine) == "duckdb":
        cursor.execute(f"create or replace table {schema}.{table} ({raw_ddl(table)})")
        return
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    expected = [(name, POSTGRES_TYPES[kind]) for name, kind in RAW_TABLES[table]]
    if [tuple(found) for found in cursor.fetchall()] == expected:
        cursor.execute(f"truncate table {schema}.{table}")
        return
    cursor.execute(f"drop table if exists {schema}.{table} cascade")
    cursor.execute(f"create table {schema}.{table} ({raw_ddl(table)})")


def copy_csv(cursor: Any, table: str, csv_file: TextIO, into: str | None = None) -> None:
    """PostgreSQL COPY of a CSV file (header line, the contract's columns of `table`) into
    `into` (default raw.<table>)."""
    names = ", ".join(RAW_COLUMNS[table])
    cursor.copy_expert(f"copy {into or f'{RAW_SCHEMA}.{table}'} ({names}) from stdin "
                       "with (format csv, header true)", csv_file)


def load_raw_rows(conn: Any, engine: str, tables: Mapping[str, Sequence[Mapping[str, Any]]],
                  schema: str = RAW_SCHEMA) -> None:
    """Replaces the rows of every raw table with `tables` (table -> rows as dicts; a
    missing table or column is empty), creating the tables the contract's way when
    missing. The tables themselves stay: dbt's staging views depend on them."""
    engine = target(engine)
    cursor = conn.cursor()
    create_raw_tables(cursor, schema)
    for table, columns in RAW_COLUMNS.items():
        cursor.execute(f"delete from {schema}.{table}")
        values = [[row.get(column) for column in columns] for row in tables.get(table, [])]
        insert = f"insert into {schema}.{table} ({', '.join(columns)})"
        if values and engine == "duckdb":
            cursor.executemany(f"{insert} values ({', '.join(['?'] * len(columns))})", values)
        elif values:
            psycopg2.extras.execute_values(cursor, f"{insert} values %s", values,
                                           page_size=2000)
        if engine == "postgres":
            cursor.execute(f"analyze {schema}.{table}")


# Spark's names for the contract's types
SPARK_TYPES = {"bigint": "bigint", "text": "string", "timestamp": "timestamp"}


def load_spark_raw_tables(session: Any, files: Mapping[str, Path], directory: Path,
                          schema: str = RAW_SCHEMA) -> None:
    """Makes each Parquet file of `files` (table -> file with the contract's columns) the
    Spark table <schema>.<table>: copied to <directory>/<schema>/<table>/ and declared an
    external Parquet table there with the contract's columns (plain Parquet: no Delta Lake
    in a local session). A table that exists is dropped and declared again; views on it,
    dbt's staging, read it by name and stay."""
    import shutil

    check_identifier(schema)
    session.sql(f"create schema if not exists {schema}")
    for table, file in files.items():
        location = directory / schema / table
        session.sql(f"drop table if exists {schema}.{table}")
        shutil.rmtree(location, ignore_errors=True)
        location.mkdir(parents=True)
        shutil.copy(file, location / "part-0.parquet")
        columns = ", ".join(f"{name} {SPARK_TYPES[kind]}" for name, kind in RAW_TABLES[table])
        session.sql(f"create table {schema}.{table} ({columns}) using parquet "
                    f"location '{location.as_posix()}'")


def export_raw_parquet(con: duckdb.DuckDBPyConnection, folder: Path,
                       schema: str = RAW_SCHEMA) -> dict[str, Path]:
    """The raw tables in `schema` of DuckDB connection `con` as one Parquet file each in
    `folder` (table -> file), rows in key order, timestamps as UTC instants (what Spark's
    timestamp type reads back unchanged in its UTC session)."""
    check_identifier(schema)
    con.execute("set TimeZone = 'UTC'")
    files = {}
    for table, columns in RAW_TABLES.items():
        files[table] = folder / f"{table}.parquet"
        names = ", ".join(
            f"cast({name} as timestamptz) as {name}" if kind == "timestamp" else name
            for name, kind in columns
        )
        location = str(files[table]).replace("'", "''")
        con.execute(f"copy (select {names} from {schema}.{table} "
                    f"order by {PRIMARY_KEYS[table]}) to '{location}' (format parquet)")
    return files


def load_spark_raw_rows(session: Any, tables: Mapping[str, Sequence[Mapping[str, Any]]],
                        directory: Path, schema: str = RAW_SCHEMA) -> None:
    """load_raw_rows() for Spark: the rows of `tables` (table -> rows as dicts; a missing
    table or column is empty) become the Spark tables <schema>.<table> of the session on
    `directory`, through Parquet (load_spark_raw_tables)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kpi-raw-") as tmp, duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        load_raw_rows(con, "duckdb", tables, schema)
        files = export_raw_parquet(con, Path(tmp), schema)
        load_spark_raw_tables(session, files, directory, schema)


def check_identifier(name: str) -> None:
    """A plain SQL identifier, safe to write into a statement, or ValueError."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid schema or database name: {name!r}")
