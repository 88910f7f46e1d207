"""Test harness: a throw-away copy of the dbt project on a real DuckDB file or a real
PostgreSQL database, raw rows loaded from Python, `dbt build` run in-process, marts read
back as dicts.

PostgreSQL tests skip when the server is unreachable, unless KPI_REQUIRE_POSTGRES=1 (CI),
where they fail instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import psycopg2
import pytest
from dbt.cli.main import dbtRunner

from itsm_kpi.environment import patched_env

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_ITEMS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests")
ENGINES = ("duckdb", "postgres")

RAW_DDL = {
    "service_requests": """(
        sr_id bigint, tenant_id bigint, request_type text, priority text, status text,
        service text, team text, assignee_id bigint, created_at timestamp,
        updated_at timestamp, resolved_at timestamp, caused_by_deployment_id bigint)""",
    "sr_events": """(
        event_id bigint, sr_id bigint, tenant_id bigint, event_at timestamp,
        event_type text, new_status text, new_assignee_id bigint)""",
    "deployments": """(
        deployment_id bigint, tenant_id bigint, service text, environment text, status text,
        started_at timestamp, finished_at timestamp, commit_at timestamp)""",
}
RAW_COLUMNS = {
    table: [line.split()[0] for line in ddl.strip("()").replace("\n", " ").split(",")]
    for table, ddl in RAW_DDL.items()
}


def pg_params(dbname: str = "postgres") -> dict[str, Any]:
    return {
        "host": os.environ.get("PGHOST", "127.0.0.1"),
        "port": int(os.environ.get("PGPORT", "5432")),
        "user": os.environ.get("PGUSER", "postgres"),
        "password": os.environ.get("PGPASSWORD", ""),
        "dbname": dbname,
    }


def require_postgres() -> None:
    """Skip (or fail, in CI) when PostgreSQL is not reachable."""
    try:
        psycopg2.connect(connect_timeout=3, **pg_params()).close()
    except psycopg2.OperationalError as error:
        message = f"PostgreSQL not reachable at {pg_params()['host']}:{pg_params()['port']}: {error}"
        if os.environ.get("KPI_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{message} (KPI_REQUIRE_POSTGRES=1: PostgreSQL tests are mandatory)")
        pytest.skip(f"{message}; set up PostgreSQL to run these tests")


class DbtBuildError(AssertionError):
    pass


class Warehouse:
    """A copy of the dbt project bound to one fresh database of one engine."""

    def __init__(self, engine: str, workdir: Path) -> None:
        self.engine = engine
        self.project_dir = workdir / "project"
        shutil.copytree(
            REPO_ROOT, self.project_dir,
            ignore=lambda folder, names: [
                n for n in names
                if Path(folder) == REPO_ROOT and n not in PROJECT_ITEMS
            ],
        )
        self.duckdb_path = workdir / "kpi.duckdb"
        self.pg_database = f"kpi_test_{uuid.uuid4().hex[:12]}"
        if engine == "postgres":
            require_postgres()
            with contextlib.closing(psycopg2.connect(**pg_params())) as conn:
                conn.autocommit = True
                conn.cursor().execute(f'create database "{self.pg_database}"')

    # -- project files ---------------------------------------------------------------
    @staticmethod
    def seed_dir() -> Path:
        return REPO_ROOT / "seeds"

    def write_file(self, relative: str, content: str) -> None:
        path = self.project_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    # -- connections -----------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        if self.engine == "duckdb":
            conn = duckdb.connect(str(self.duckdb_path))
            try:
                yield conn
            finally:
                conn.close()
        else:
            conn = psycopg2.connect(**pg_params(self.pg_database))
            try:
                yield conn
                conn.commit()
            finally:
                conn.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(sql, params) if params else cursor.execute(sql)

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def load_raw(self, tables: dict[str, list[dict[str, Any]]], schema: str = "raw") -> None:
        """(Re)creates the raw tables with the contract's types and inserts the rows."""
        placeholder = "?" if self.engine == "duckdb" else "%s"
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(f"create schema if not exists {schema}")
            for table, ddl in RAW_DDL.items():
                columns = RAW_COLUMNS[table]
                # replace the rows, keep the table: dbt's staging views depend on it
                cursor.execute(f"create table if not exists {schema}.{table} {ddl}")
                cursor.execute(f"delete from {schema}.{table}")
                rows = [[row.get(c) for c in columns] for row in tables.get(table, [])]
                if rows:
                    cursor.executemany(
                        f"insert into {schema}.{table} ({', '.join(columns)}) "
                        f"values ({', '.join([placeholder] * len(columns))})",
                        rows,
                    )

    # -- dbt -------------------------------------------------------------------------
    def dbt(self, *args: str, as_of: str | None = None, expect_success: bool = True,
            variables: dict[str, Any] | None = None) -> Any:
        """Runs a dbt command in-process against this warehouse; raises with the failing
        nodes' messages when it fails (unless expect_success is False)."""
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
            "KPI_AS_OF": as_of,
            "DBT_TARGET": None,
        }
        with patched_env(env):
            result = dbtRunner().invoke(command)
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

    def build(self, as_of: str, *extra: str, variables: dict[str, Any] | None = None) -> Any:
        return self.dbt("build", *extra, as_of=as_of, variables=variables)

    def drop(self) -> None:
        if self.engine == "postgres":
            with contextlib.closing(psycopg2.connect(**pg_params())) as conn:
                conn.autocommit = True
                conn.cursor().execute(
                    f'drop database if exists "{self.pg_database}" with (force)'
                )


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


def load_script(name: str) -> ModuleType:
    """A script of scripts/ (benchmark, chaos_drill) imported as a module, for its tests."""
    path = REPO_ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
