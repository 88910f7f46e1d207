"""Test harness: a throw-away copy of the dbt project on a real DuckDB file or a real
PostgreSQL database, raw rows loaded from Python, `dbt build` run in-process, marts read
back as dicts.

PostgreSQL tests skip when the server is unreachable, unless KPI_REQUIRE_POSTGRES=1 (CI),
where they fail instead.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from dbt.cli.main import dbtRunner

from itsm_kpi import warehouse
from itsm_kpi.environment import patched_env
from itsm_kpi.paths import PROJECT_DIR, copy_project
from itsm_kpi.warehouse import ENGINES, RAW_COLUMNS
from itsm_kpi.warehouse import postgres_params as pg_params

# re-exported for the test modules: the one environment patch, the engines, the raw
# contract's columns and the PostgreSQL parameters of a named database
__all__ = ["ENGINES", "RAW_COLUMNS", "REPO_ROOT", "DbtBuildError", "Warehouse", "normalise",
           "patched_env", "pg_params", "require_postgres", "ts"]

REPO_ROOT = PROJECT_DIR


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


class DbtBuildError(AssertionError):
    pass


class Warehouse:
    """A copy of the dbt project bound to one fresh database of one engine."""

    def __init__(self, engine: str, workdir: Path) -> None:
        self.engine = engine
        self.project_dir = copy_project(workdir / "project")
        self.duckdb_path = workdir / "kpi.duckdb"
        self.pg_database = f"kpi_test_{uuid.uuid4().hex[:12]}"
        if engine == "postgres":
            require_postgres()
            warehouse.create_database(self.pg_database)

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
        with warehouse.connect(self.engine, path=self.duckdb_path,
                               database=self.pg_database) as conn:
            yield conn

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self.connect() as conn:
            cursor = conn.cursor()
            cursor.execute(sql, params) if params else cursor.execute(sql)

    def query(self, sql: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return warehouse.query(conn, sql)

    def load_raw(self, tables: dict[str, list[dict[str, Any]]], schema: str = "raw") -> None:
        """Replaces the raw tables' rows (creating the tables with the contract's types
        where missing; dbt's staging views depend on them)."""
        with self.connect() as conn:
            warehouse.load_raw_rows(conn, self.engine, tables, schema)

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
            warehouse.drop_databases(self.pg_database)


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
