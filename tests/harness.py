"""Test harness: a throw-away copy of the dbt project on a real DuckDB file, a real
PostgreSQL database or real Spark tables, raw rows loaded from Python, `dbt build` run
in-process, marts read back as dicts.

PostgreSQL tests skip when the server is unreachable, unless KPI_REQUIRE_POSTGRES=1 (CI),
where they fail instead. Spark tests (the engines of WITH_SPARK) skip when pyspark (the
`spark` extra) or Java is missing, unless KPI_REQUIRE_SPARK=1 (CI).

Spark: one local session per test process (the JVM starts once), on a folder of its own
(its warehouse and embedded Derby metastore), which dbt's in-process runs share. So one
Spark warehouse is alive at a time in a process: a new one drops the previous one's
schemas.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from dbt.cli.main import dbtRunner

from itsm_kpi import warehouse
from itsm_kpi.environment import WITHOUT_DATA_TESTS, patched_env
from itsm_kpi.paths import PROJECT_DIR, copy_project
from itsm_kpi.warehouse import ENGINES, RAW_COLUMNS
from itsm_kpi.warehouse import postgres_params as pg_params

# re-exported for the test modules: the one environment patch, the engines, the raw
# contract's columns and the PostgreSQL parameters of a named database
__all__ = ["ENGINES", "RAW_COLUMNS", "REPO_ROOT", "SPARK_TEST_ENV", "WITH_SPARK",
           "WITHOUT_DATA_TESTS",
           "DbtBuildError", "Warehouse", "from_template",
           "normalise", "patched_env", "pg_params", "require_postgres", "require_spark", "ts"]

REPO_ROOT = PROJECT_DIR
# the engines of the tests that run on Spark too: the hand-worked fixtures, the reference
# comparison and the engine equality (a Spark build takes minutes: the other tests run
# on ENGINES)
WITH_SPARK = (*ENGINES, "spark")


def require_postgres() -> None:
    """Skip (or fail, in CI) when PostgreSQL is not reachable."""
    try:
        with warehouse.admin_cursor(connect_timeout=3):
            pass
    except psycopg2.OperationalError as error:
        server = warehouse.postgres_params(warehouse.ADMIN_DATABASE)
        message = f"PostgreSQL not reachable at {server['host']}:{server['port']}: {error}"
        if os.environ.get("KPI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (KPI_REQUIRE_POSTGRES=1: PostgreSQL tests are mandatory)")
        pytest.skip(f"{message}; set up PostgreSQL to run these tests")


def require_spark() -> None:
    """Skip (or fail, with KPI_REQUIRE_SPARK=1 as in CI) when a local Spark session cannot
    start here: pyspark (the `spark` extra) or Java missing."""
    missing = None
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as error:
        missing = f"the spark extra is not installed ({error}): pip install -e '.[spark]'"
    if missing is None and not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        missing = "Java is not installed (Spark needs Java 17: openjdk-17-jre-headless)"
    if missing:
        if os.environ.get("KPI_REQUIRE_SPARK") == "1":
            pytest.fail(f"{missing} (KPI_REQUIRE_SPARK=1: Spark tests are mandatory)")
        pytest.skip(f"Spark tests skipped: {missing}")


# the test data is tiny: one shuffle partition per stage instead of the profile's 4 (the
# hand-made fixture's models: 58 s against 66 s); and the JVMs (the test process's session,
# those of Dagster's dbt processes) run minutes, not hours: C1 compiles only and one
# garbage-collector thread, which cost less CPU beside the other test workers (Spark's
# JVMs were 25 % of the suite's CPU; test_spark_jobs alone: 447 CPU-seconds of Java
# against 398, 277 s against 270 s). spark-submit passes SPARK_SUBMIT_OPTS to the JVM.
SPARK_TEST_ENV = {"KPI_SPARK_SHUFFLE_PARTITIONS": "1",
                  "SPARK_SUBMIT_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}

# WITHOUT_DATA_TESTS: for a Dagster run whose test asserts the data it leaves, not its
# checks. The jobs' `dbt build` is the product's own, unchanged; about half of a job's
# time on the hand fixture is its 288 data tests and their asset-check events (DuckDB:
# 19.7 s a daily run, 10.7 s without). Every check runs in the runs that assert them
# (test_orchestration's scheduled daily run and failed-test run, the Spark daily run)
# and in each engine's shared builds.


class _SparkProcess:
    """This process's one local Spark session, its folder, and the Spark warehouse that
    owns its schemas now."""

    session: Any = None
    directory: Path | None = None
    owner: Warehouse | None = None

    @classmethod
    def start(cls) -> Any:
        if cls.session is None:
            cls.directory = Path(tempfile.mkdtemp(prefix="kpi-test-spark-"))
            # the machine's name may resolve to a loopback address: say so, not warn
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            with patched_env(SPARK_TEST_ENV):
                cls.session = warehouse.start_spark_session(cls.directory)
            atexit.register(cls.stop)
        return cls.session

    @classmethod
    def stop(cls) -> None:
        if cls.session is not None:
            cls.session.stop()
            cls.session = None
        if cls.directory is not None:
            shutil.rmtree(cls.directory, ignore_errors=True)

    @classmethod
    def reset(cls) -> None:
        """Drops every schema but `default` (tables, views and raw files)."""
        session = cls.start()
        for row in session.sql("show databases").collect():
            name = row[0]
            if name != "default":
                session.sql(f"drop database if exists `{name}` cascade")
        assert cls.directory is not None
        shutil.rmtree(cls.directory / "warehouse", ignore_errors=True)
        for child in cls.directory.iterdir():
            if child.is_dir() and child.name not in ("metastore_db", "warehouse"):
                shutil.rmtree(child, ignore_errors=True)


# the vars read only when dbt executes, also read from these environment variables
# (macros/settings/env_setting.sql): Warehouse.dbt passes them that way
# the dbt commands whose JSON artifacts the tests do not read unless they say so
NO_JSON_COMMANDS = ("build", "run", "seed", "test")
EXECUTION_TIME_VARS = {"min_date": "KPI_MIN_DATE", "max_date": "KPI_MAX_DATE",
                       "kpi_only": "KPI_ONLY"}


class DbtBuildError(AssertionError):
    pass


class Warehouse:
    """A copy of the dbt project bound to one fresh database of one engine."""

    def __init__(self, engine: str, workdir: Path) -> None:
        self.engine = engine
        self.slot: tuple[str, int] | None = None
        self.pg_database = f"kpi_test_{uuid.uuid4().hex[:12]}"
        self.spark_dir: Path | None = None
        self.manifest: Any = None  # a parse's result a fixture keeps for dbt(manifest=)
        if engine == "postgres":
            require_postgres()
        if engine in _Slots.ENGINES and os.environ.get("KPI_TEST_SLOTS") != "0":
            # a folder and database name this process used before: dbt's saved parse
            # state matches them, so the first command parses only what changed
            self.slot, workdir, database = _Slots.acquire(engine)
            self.pg_database = database or self.pg_database
        self.project_dir = copy_project(workdir / "project")
        self.duckdb_path = workdir / "kpi.duckdb"
        _Slots.restore_parse_state(self)
        if engine == "postgres":
            warehouse.create_database(self.pg_database, replace=self.slot is not None)
        if engine == "spark":
            require_spark()
            _SparkProcess.reset()
            _SparkProcess.owner = self
            self.spark_dir = _SparkProcess.directory

    @property
    def spark(self) -> Any:
        """The process's Spark session, while this warehouse owns its schemas."""
        if _SparkProcess.owner is not self:
            raise RuntimeError("a newer Spark warehouse of this process replaced this one "
                               "(one Spark warehouse at a time per test process)")
        return _SparkProcess.session

    # -- project files ---------------------------------------------------------------
    @staticmethod
    def seed_dir() -> Path:
        return REPO_ROOT / "seeds"

    def write_file(self, relative: str, content: str) -> None:
        path = self.project_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    # -- connections (itsm_kpi.warehouse) --------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        """DuckDB or PostgreSQL: a connection; Spark: the read-only reader of its Parquet
        files (warehouse.connect): query() and execute() go through the session."""
        if self.engine == "spark":
            with warehouse.connect("spark", path=self.spark_dir, read_only=True) as conn:
                yield conn
            return
        with warehouse.connect(self.engine, path=self.duckdb_path,
                               database=self.pg_database) as conn:
            yield conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self.engine == "spark":
            assert not params, "Spark statements take no parameters here"
            self.spark.sql(sql)
            return
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(sql, params) if params else cursor.execute(sql)

    def query(self, sql: str) -> list[dict[str, Any]]:
        if self.engine == "spark":
            return warehouse.spark_rows(self.spark, sql)
        with self.connect() as conn:
            return warehouse.query(conn, sql)

    def load_raw(self, tables: dict[str, list[dict[str, Any]]], schema: str = "raw") -> None:
        """Replaces the raw tables' rows (creating the tables with the contract's types
        where missing; dbt's staging views depend on them). Spark: the tables are declared
        again over new Parquet files."""
        if self.engine == "spark":
            assert self.spark_dir is not None
            warehouse.load_spark_raw_rows(self.spark, tables, self.spark_dir, schema)
            return
        with self.connect() as conn:
            warehouse.load_raw_rows(conn, self.engine, tables, schema)

    # -- dbt -------------------------------------------------------------------------
    def dbt(self, *args: str, as_of: str | None = None, expect_success: bool = True,
            variables: dict[str, Any] | None = None, unit_tests: bool = False,
            settings_as_vars: bool = False, write_json: bool | None = None,
            data_tests: bool = True, manifest: Any = None) -> Any:
        """Runs a dbt command in-process against this warehouse; raises with the failing
        nodes' messages when it fails (unless expect_success is False).

        A `build` leaves dbt's unit tests out unless `unit_tests`: they test the SQL of
        models on fixed inputs, whatever the raw data, so test_against_reference's shared
        build runs them once per engine (each costs about a model's time). Without
        `data_tests`, a `build` leaves the data tests out too (seeds and models only): for
        the scenario builds whose test asserts the values they leave, not what a dbt test
        says (every data test runs on DuckDB and PostgreSQL in test_against_reference's
        shared build and in the hand fixture's template build, on Spark in
        test_spark_jobs's daily run, and in the Dagster jobs' runs that assert them; the
        280-odd tests cost about 40 % of a build of the hand fixture).

        The execution-time settings among `variables` (min_date, max_date, kpi_only) go to
        dbt as their environment variables (KPI_MIN_DATE...), as the Dagster jobs pass
        them: a new `--vars` value makes dbt parse the whole project again (seconds per
        command), an environment variable does not. `settings_as_vars` passes them as
        `--vars` (the tests of that path).

        `build`, `run`, `seed` and `test` write no target/manifest.json nor
        run_results.json unless `write_json` (dbt's `--no-write-json`: half a second per
        command; the result comes back in process): a test that reads them asks.

        `manifest` (a `parse` command's result): dbt runs it without parsing the project
        (a second of each command), for commands that change no file dbt parses but the
        seeds' rows, which it reads when it loads them."""
        if write_json is None:
            write_json = not args or args[0] not in NO_JSON_COMMANDS
        if args and args[0] == "build" and not unit_tests:
            args = (*args, "--exclude-resource-type", "unit_test")
        if args and args[0] == "build" and not data_tests:
            args = (*args, "--exclude-resource-type", "test")
        if not write_json:
            args = ("--no-write-json", *args)
        # logs/dbt.log keeps the warnings and errors only: its debug lines (every query,
        # every event) cost about 7 % of a build's CPU, a few hundred builds a run
        args = ("--log-level-file", "warn", *args)
        variables = dict(variables or {})
        settings = {env_name: None for env_name in EXECUTION_TIME_VARS.values()}
        if not settings_as_vars:
            for name, env_name in EXECUTION_TIME_VARS.items():
                if name in variables:
                    settings[env_name] = str(variables.pop(name))
        command = [
            *args,
            "--project-dir", str(self.project_dir),
            "--profiles-dir", str(self.project_dir),
            "--target", self.engine,
            "--target-path", str(self.project_dir / "target"),
            "--log-path", str(self.project_dir / "logs"),
        ]
        if variables:
            import json
            command += ["--vars", json.dumps(variables)]
        env = {
            "KPI_DUCKDB_PATH": str(self.duckdb_path),
            "PGDATABASE": self.pg_database,
            "KPI_SPARK_DIR": str(self.spark_dir) if self.spark_dir else None,
            **(SPARK_TEST_ENV if self.engine == "spark" else {}),
            "KPI_AS_OF": as_of,
            "DBT_TARGET": None,
            **{k: v for k, v in settings.items() if k not in os.environ or v is not None},
        }
        with patched_env(env):
            result = dbtRunner(manifest=manifest).invoke(command)
        _Slots.save_parse_state(self)
        if expect_success and not result.success:
            failures = []
            if result.result is not None and hasattr(result.result, "results"):
                failures = [
                    f"{r.node.unique_id}: {r.status}: {r.message}"
                    for r in result.result.results
                    if str(r.status) in ("error", "fail", "runtime error")
                ]
            raise DbtBuildError(
                f"dbt {' '.join(args)} failed on {self.engine}: {result.exception or ''}\n"
                + "\n".join(failures)
            )
        return result

    def build(self, as_of: str, *extra: str, variables: dict[str, Any] | None = None,
              unit_tests: bool = False, write_json: bool | None = None,
              data_tests: bool = True) -> Any:
        return self.dbt("build", *extra, as_of=as_of, variables=variables,
                        unit_tests=unit_tests, write_json=write_json, data_tests=data_tests)

    # -- a saved state of the database ------------------------------------------------
    @property
    def _saved_database(self) -> str:
        return f"{self.pg_database}_saved"

    def save_state(self) -> None:
        """Keeps a copy of the database as it is now (DuckDB: its file; PostgreSQL: a
        database made from it as template), for restore_state. No session may be open on
        it (PostgreSQL's sessions on it are ended)."""
        if self.engine == "duckdb":
            _release_duckdb()
            for suffix in ("", ".wal"):
                source = self.duckdb_path.with_name(self.duckdb_path.name + suffix)
                saved = source.with_name(source.name + ".saved")
                saved.unlink(missing_ok=True)
                if source.exists():
                    shutil.copyfile(source, saved)
        elif self.engine == "postgres":
            self._copy_database(self.pg_database, self._saved_database)
        else:
            raise NotImplementedError(f"save_state on {self.engine}")

    def restore_state(self) -> None:
        """Puts back the database save_state copied (tables, rows, grants, policies),
        instead of building it again."""
        if self.engine == "duckdb":
            _release_duckdb()
            for suffix in ("", ".wal"):
                target = self.duckdb_path.with_name(self.duckdb_path.name + suffix)
                saved = target.with_name(target.name + ".saved")
                target.unlink(missing_ok=True)
                if saved.exists():
                    shutil.copyfile(saved, target)
        elif self.engine == "postgres":
            self._copy_database(self._saved_database, self.pg_database)
        else:
            raise NotImplementedError(f"restore_state on {self.engine}")

    @staticmethod
    def _copy_database(source: str, target: str) -> None:
        with warehouse.admin_cursor() as cursor:
            cursor.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                           "where datname = %s and pid <> pg_backend_pid()", (source,))
            cursor.execute(f'drop database if exists "{target}" with (force)')
            cursor.execute(f'create database "{target}" template "{source}"')

    def drop(self) -> None:
        if self.engine == "postgres":
            warehouse.drop_databases(self.pg_database, self._saved_database)
        if self.engine == "duckdb":
            _release_duckdb()
        if self.slot is not None:
            _Slots.release(self.slot)
            self.slot = None
        if self.engine == "spark" and _SparkProcess.owner is self:
            _SparkProcess.reset()
            _SparkProcess.owner = None


class _Slots:
    """Where this process's DuckDB and PostgreSQL warehouses live, so that dbt's partial
    parsing works across them.

    dbt keeps its parse state (target/partial_parse.msgpack) only while the profile's
    connection values (the DuckDB path, the PostgreSQL database name) and the project's
    folder stay the same: a warehouse in a new folder on a new database parses the whole
    project (10-20 s), and the suite makes a few hundred. So a warehouse takes the first
    free slot of its engine: a fixed folder (its project copy and DuckDB file) and a fixed
    database name, emptied and created again, with the parse state the slot's last dbt
    command left. Its first command then parses only what differs from that state (the
    project's own files are compared by checksum, as always). A slot is free again when
    its warehouse is dropped; one never dropped keeps it. KPI_TEST_SLOTS=0: a folder and
    database of its own per warehouse, as before."""

    ENGINES = ("duckdb", "postgres")
    STATE = "partial_parse.msgpack"
    directory: Path | None = None
    tag = uuid.uuid4().hex[:8]
    busy: set[tuple[str, int]] = set()

    @classmethod
    def acquire(cls, engine: str) -> tuple[tuple[str, int], Path, str | None]:
        if cls.directory is None:
            cls.directory = Path(tempfile.mkdtemp(prefix="kpi-test-slots-"))
            atexit.register(shutil.rmtree, cls.directory, True)
        number = next(k for k in range(len(cls.busy) + 1) if (engine, k) not in cls.busy)
        slot = (engine, number)
        cls.busy.add(slot)
        folder = cls.directory / f"{engine}{number}"
        folder.mkdir(exist_ok=True)
        if engine == "duckdb":
            _release_duckdb()  # dbt-duckdb reuses its open database when the path is equal
        for entry in folder.iterdir():
            if entry.name == cls.STATE:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        database = f"kpi_test_{cls.tag}_{number}" if engine == "postgres" else None
        return slot, folder, database

    @classmethod
    def release(cls, slot: tuple[str, int]) -> None:
        cls.busy.discard(slot)

    @classmethod
    def restore_parse_state(cls, wh: Warehouse) -> None:
        """Puts the slot's saved parse state into the warehouse's target folder, in place
        of any other (a state made in another folder names that folder's files)."""
        if wh.slot is None:
            return
        saved, state = wh.project_dir.parent / cls.STATE, wh.project_dir / "target" / cls.STATE
        state.unlink(missing_ok=True)
        if saved.exists():
            state.parent.mkdir(exist_ok=True)
            shutil.copyfile(saved, state)

    @classmethod
    def save_parse_state(cls, wh: Warehouse) -> None:
        if wh.slot is None:
            return
        state = wh.project_dir / "target" / cls.STATE
        if state.exists():
            shutil.copyfile(state, wh.project_dir.parent / cls.STATE)


class _Templates:
    """This process's template warehouses, by (engine, key): each made once by its
    `prepare`, in a folder of its own, then copied into the warehouses of the tests that
    start from it (from_template)."""

    built: dict[tuple[str, str], Warehouse] = {}
    directory: Path | None = None

    @classmethod
    def get(cls, engine: str, key: str, prepare: Callable[[Warehouse], None]) -> Warehouse:
        template = cls.built.get((engine, key))
        if template is not None:
            return template
        if cls.directory is None:
            cls.directory = Path(tempfile.mkdtemp(prefix="kpi-test-templates-"))
            atexit.register(cls.drop_all)
        template = Warehouse(engine, Path(tempfile.mkdtemp(dir=cls.directory)))
        try:
            prepare(template)
            if engine == "duckdb":
                _release_duckdb()
            if engine == "postgres":
                # no session may be connected to the source of `create database ... template`
                with warehouse.admin_cursor() as cursor:
                    cursor.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                                   "where datname = %s and pid <> pg_backend_pid()",
                                   (template.pg_database,))
        except BaseException:
            template.drop()
            raise
        cls.built[(engine, key)] = template
        return template

    @classmethod
    def drop_all(cls) -> None:
        for template in cls.built.values():
            with contextlib.suppress(Exception):
                template.drop()
        cls.built.clear()
        if cls.directory is not None:
            shutil.rmtree(cls.directory, ignore_errors=True)
            cls.directory = None


def _release_duckdb() -> None:
    """Closes the DuckDB database dbt-duckdb keeps open in this process after an
    in-process run (so its file is checkpointed, complete, before it is copied); the next
    dbt run opens it again."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()


def from_template(target: Warehouse, key: str, prepare: Callable[[Warehouse], None]) -> None:
    """Makes `target`, a new Warehouse nothing has run in yet, what `prepare(target)` would
    make it, by copying this process's template of (its engine, `key`): a Warehouse of the
    same engine that `prepare` made once (e.g. seeds written, raw rows loaded, `dbt build`
    run). Copied: the project copy (seeds, target and logs folders), then the DuckDB file,
    or the PostgreSQL database (`create database ... template ...`). `target` keeps its
    own paths and database name, and the parse state its slot saved (_Slots): its next dbt
    command parses what differs from that state.

    `key` names everything `prepare` does (data, as_of, variables): two different
    preparations under one key would share the first one's result. Spark, or
    KPI_TEST_TEMPLATES=0: `prepare(target)` itself."""
    if target.engine not in ("duckdb", "postgres") or os.environ.get("KPI_TEST_TEMPLATES") == "0":
        prepare(target)
        return
    template = _Templates.get(target.engine, key, prepare)
    shutil.rmtree(target.project_dir)
    shutil.copytree(template.project_dir, target.project_dir, symlinks=True)
    _Slots.restore_parse_state(target)  # the template's state names its own folder
    if target.engine == "duckdb":
        for suffix in ("", ".wal"):
            source = template.duckdb_path.with_name(template.duckdb_path.name + suffix)
            destination = target.duckdb_path.with_name(target.duckdb_path.name + suffix)
            destination.unlink(missing_ok=True)
            if source.exists():
                shutil.copyfile(source, destination)
    else:
        with warehouse.admin_cursor() as cursor:
            cursor.execute(f'drop database if exists "{target.pg_database}" with (force)')
            cursor.execute(f'create database "{target.pg_database}" '
                           f'template "{template.pg_database}"')


def normalise(value: Any) -> Any:
    """Comparable form of a database value (dates, floats rounded to 9 decimals)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return value
    if hasattr(value, "as_integer_ratio") and not isinstance(value, int):
        return round(float(value), 9)
    return value


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)
