"""The `kpi` command line as a user types it: `kpi build` passing what it does not know to
dbt (a real dbt build on DuckDB), and `kpi generate --target postgres` creating a missing
database or saying what to run (real PostgreSQL, real logins)."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import uuid
from pathlib import Path

import pytest
from harness import REPO_ROOT, patched_env, require_postgres
from psycopg2 import sql

from itsm_kpi import cli, warehouse

AS_OF = "2026-10-28T12:00:00Z"


def _readme_section(title: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index(f"\n## {title}\n"):]
    return section[:section.index("\n## ", 1)]


# --- kpi build: arguments it does not know go to dbt ------------------------------------

@pytest.mark.parametrize(("argv", "as_of", "dbt_args"), [
    (["--full-refresh"], None, ["--full-refresh"]),
    (["--select", "dim_kpi"], None, ["--select", "dim_kpi"]),
    # kpi's own options anywhere among dbt's; dbt's keep their order
    (["-s", "dim_kpi+", "--as-of", AS_OF, "--full-refresh", "--threads", "1"], AS_OF,
     ["-s", "dim_kpi+", "--full-refresh", "--threads", "1"]),
    # the separator, as before: what follows goes to dbt as it is, even --as-of
    (["--", "--full-refresh"], None, ["--full-refresh"]),
    (["--as-of", AS_OF, "--", "--select", "dim_kpi", "--as-of", "x"], AS_OF,
     ["--select", "dim_kpi", "--as-of", "x"]),
    # no abbreviation of kpi's options: `--tar` is dbt's business, not --target
    (["--tar", "x"], None, ["--tar", "x"]),
    ([], None, []),
])
def test_build_passes_what_it_does_not_know_to_dbt(argv: list[str], as_of: str | None,
                                                   dbt_args: list[str]) -> None:
    with patched_env({"DBT_TARGET": None}):
        args = cli.parse(["build", *argv])
    assert (args.dbt_args, args.as_of, args.target) == (dbt_args, as_of, "duckdb")


def test_other_commands_still_refuse_unknown_arguments(capsys: pytest.CaptureFixture[str],
                                                       ) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse(["scorecard", "--full-refresh"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --full-refresh" in capsys.readouterr().err


def test_build_help_says_where_arguments_go(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse(["build", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Every argument kpi build does not know goes to dbt" in text
    assert "`kpi build --full-refresh`" in text and "After `--`" in text


def test_readme_build_commands_reach_dbt() -> None:
    """The README's `kpi build` commands (its sh lines and its examples), parsed as
    written: their dbt arguments reach dbt."""
    quick_start = _readme_section("Quick start")
    commands = [line.split("#")[0].split() for line in quick_start.splitlines()
                if line.startswith("kpi build")]
    commands += [span.split() for span in re.findall(r"`(kpi build[^`]*)`",
                                                     " ".join(quick_start.split()))]
    assert ["kpi", "build", "--full-refresh"] in commands
    assert ["kpi", "build", "--select", "dim_kpi+"] in commands
    assert ["kpi", "build", "--", "--help"] in commands
    for words in commands:
        expected = words[2:]
        if "--" in expected:
            expected.remove("--")
        assert cli.parse(words[1:]).dbt_args == expected, words
    assert "passes every argument it does not know" in " ".join(quick_start.split())


def test_build_runs_dbt_with_those_arguments(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`kpi build --full-refresh --select ...` on a fresh DuckDB file: dbt receives the
    selection and the flag (its run_results.json records them), builds the two selected
    nodes and nothing else."""
    database = tmp_path / "kpi.duckdb"
    target = tmp_path / "target"
    code = cli.main(["build", "--target", "duckdb", "--path", str(database), "--full-refresh",
                     "--select", "kpi_definitions", "dim_kpi", "--as-of", AS_OF,
                     "--indirect-selection", "cautious", "--target-path", str(target),
                     "--log-path", str(tmp_path / "logs"), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert "dbt build succeeded" in capsys.readouterr().out
    results = json.loads((target / "run_results.json").read_text())
    assert results["args"]["full_refresh"] is True
    assert results["args"]["select"] == ["kpi_definitions", "dim_kpi"]
    built = {r["unique_id"] for r in results["results"]
             if r["unique_id"].split(".")[0] in ("seed", "model")}
    assert built == {"seed.kpi_engine.kpi_definitions", "model.kpi_engine.dim_kpi"}
    with (REPO_ROOT / "seeds" / "kpi_definitions.csv").open(encoding="utf-8") as seed:
        names = sorted(row["kpi_name"] for row in csv.DictReader(seed))
    # through itsm_kpi.warehouse: dbt-duckdb, which ran in this process, still holds the file
    with warehouse.connect("duckdb", path=database, read_only=True) as conn:
        kpis = warehouse.query(conn, "select kpi_name from marts.dim_kpi order by kpi_name")
        marts = warehouse.query(conn, "select table_name from information_schema.tables "
                                      "where table_schema = 'marts'")
    assert [row["kpi_name"] for row in kpis] == names
    assert [row["table_name"] for row in marts] == ["dim_kpi"]


# --- kpi generate --target postgres: a missing database ---------------------------------

GENERATE = ["generate", "--target", "postgres", "--requests", "30", "--tenants", "2",
            "--days", "10"]


def _unique(prefix: str) -> str:
    return f"{prefix}{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _database_exists(name: str) -> bool:
    with warehouse.admin_cursor() as cursor:
        cursor.execute("select count(*) from pg_database where datname = %s", (name,))
        return cursor.fetchone()[0] == 1


def _drop(database: str, role: str | None = None) -> None:
    with warehouse.admin_cursor() as cursor:
        cursor.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(database)))
        if role:
            cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def _request_count(database: str, user: str | None = None) -> int:
    with warehouse.connect("postgres", database=database, user=user) as conn:
        return warehouse.query(conn, "select count(*) as n from raw.service_requests")[0]["n"]


@pytest.mark.postgres
def test_generate_creates_the_missing_database(capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    # upper case and a hyphen: the name only survives CREATE DATABASE quoted
    name = _unique("kpi-Generate-")
    assert not _database_exists(name)
    try:
        with patched_env({"PGDATABASE": name, "DBT_TARGET": None}):
            assert cli.main(GENERATE) == 0
        assert _database_exists(name)
        assert _request_count(name) == 30
        captured = capsys.readouterr()
        assert f"created PostgreSQL database {name}" in captured.err
        # a second run finds it and only replaces the rows
        with patched_env({"PGDATABASE": name, "DBT_TARGET": None}):
            assert cli.main(GENERATE) == 0
        assert "created" not in capsys.readouterr().err
        assert _request_count(name) == 30
    finally:
        _drop(name)


@pytest.mark.postgres
def test_generate_says_what_to_run_when_the_login_may_not_create(
        capsys: pytest.CaptureFixture[str]) -> None:
    require_postgres()
    role = _unique("kpi_nocreatedb_")
    suffix = _unique("")
    name = f"kpi-Can't-{suffix}"  # a quote for the shell, a hyphen and capitals for SQL
    with warehouse.admin_cursor() as cursor:
        cursor.execute(sql.SQL("create role {} login nocreatedb").format(sql.Identifier(role)))
    try:
        as_role = {"PGUSER": role, "PGPASSWORD": None, "PGDATABASE": name, "DBT_TARGET": None}
        with patched_env(as_role):
            assert cli.main(GENERATE) == 1
        message = " ".join(capsys.readouterr().err.split())
        assert not _database_exists(name)
        params = warehouse.postgres_params()
        assert (f'PostgreSQL database "{name}" does not exist and login "{role}" may not '
                "create it. Ask a superuser to run, e.g.: ") in message
        # the statement in single quotes for the shell, its own quote closed and escaped
        assert (f"psql -h {params['host']} -p {params['port']} -U postgres -d postgres -c "
                f"""'create database "kpi-Can'"'"'t-{suffix}" owner "{role}"'""") in message
        statement = f'create database "{name}" owner "{role}"'
        # the printed command, split as a shell splits it, is the statement; run by a
        # superuser it lets the same generate succeed
        printed = message[message.index("psql -h"):message.index(" (or set PGDATABASE")]
        words = shlex.split(printed)
        assert words[-2:] == ["-c", statement]
        with warehouse.admin_cursor() as cursor:
            cursor.execute(words[-1])
        with patched_env(as_role):
            assert cli.main(GENERATE) == 0
        assert _request_count(name, user=role) == 30
    finally:
        _drop(name, role)
