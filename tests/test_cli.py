"""The `kpi` command line as a user types it: `kpi build` passing what it does not know to
dbt (a real dbt build on DuckDB), `kpi generate --target postgres` creating a missing
database or saying what to run (real PostgreSQL, real logins), and `kpi scorecard` in
English and Korean over marts made by hand with the contract's columns."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from harness import REPO_ROOT, patched_env, require_postgres
from psycopg2 import sql

from itsm_kpi import cli, warehouse

D = date.fromisoformat
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


# --- kpi scorecard in English and Korean ------------------------------------------------

def _contract(model: str) -> list[tuple[str, str]]:
    """A mart's columns and types, as its enforced contract declares them."""
    spec = yaml.safe_load((REPO_ROOT / "models/marts/kpi/_kpi__models.yml").read_text())
    (found,) = [m for m in spec["models"] if m["name"] == model]
    return [(column["name"], column["data_type"]) for column in found["columns"]]


STAMP = datetime(2026, 10, 28, 12, 0)
TENANT = {"tenant_id": 1, "tenant_name": "Seoul Metro IT", "green_count": 1,
          "yellow_count": 1, "red_count": 1, "no_data_count": 1, "overall_status": "RED",
          "as_of": STAMP}


def _card(kpi: str, ko: str, en: str, unit: str, grain: str, start: str, value: float | None,
          target: float, achievement: float | None, status: str,
          previous: tuple[str, float, str] | None = None) -> dict[str, Any]:
    return {"tenant_id": 1, "kpi_name": kpi, "tenant_name": "Seoul Metro IT",
            "display_name": ko, "display_name_en": en, "unit": unit, "grain": grain,
            "period_start": D(start), "value": value, "target": target,
            "achievement_pct": achievement, "status": status,
            "previous_period_start": D(previous[0]) if previous else None,
            "previous_value": previous[1] if previous else None,
            "previous_status": previous[2] if previous else None, "as_of": STAMP}


CARDS = [
    _card("MTTR", "평균 복구 시간", "Mean time to recover", "hours", "MONTHLY", "2026-10-01",
          5.5, 4.0, 72.7, "RED", previous=("2026-09-01", 3.25, "GREEN")),
    _card("FCR", "첫 번째 해결율", "First-contact resolution", "%", "WEEKLY", "2026-10-26",
          84.2, 80.0, 105.3, "GREEN"),
    _card("SR_BACKLOG", "SR 적체 건수", "Open request backlog", "count", "DAILY",
          "2026-10-28", 11.0, 10.0, 90.9, "YELLOW", previous=("2026-10-27", 12.0, "RED")),
    _card("DEPLOY_SUCCESS_RATE", "배포 성공률", "Deployment success rate", "%", "MONTHLY",
          "2026-10-01", None, 95.0, None, "NO_DATA"),
]


@pytest.fixture
def marts_file(tmp_path: Path) -> Iterator[Path]:
    """A DuckDB file with marts.tenant_kpi_status and marts.kpi_scorecard as their contracts
    declare them, holding one tenant's four KPIs, one per light."""
    path = tmp_path / "kpi.duckdb"  # not marts.duckdb: its catalog would shadow the schema
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for table, rows in (("tenant_kpi_status", [TENANT]), ("kpi_scorecard", CARDS)):
            columns = _contract(table)
            con.execute(f"create table marts.{table} "
                        f"({', '.join(f'{name} {kind}' for name, kind in columns)})")
            con.executemany(
                f"insert into marts.{table} values ({', '.join('?' * len(columns))})",
                [[row.get(name) for name, _ in columns] for row in rows])
    yield path


def _scorecard(path: Path, language: str, capsys: pytest.CaptureFixture[str],
               ) -> tuple[list[str], dict[str, list[str]]]:
    """The printed lines, and each KPI row's cells by the row's first cell."""
    with patched_env({"DBT_TARGET": None}):
        assert cli.main(["scorecard", "--path", str(path), "--language", language]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    rows = {}
    for line in lines:
        cells = [cell.strip() for cell in re.split(r"[│┃]", line)[1:-1]]
        if cells:
            rows[cells[0]] = cells[1:]
    return lines, rows


def test_scorecard_in_korean_says_everything_in_korean(
        marts_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines, rows = _scorecard(marts_file, "ko", capsys)
    assert lines[0] == "Seoul Metro IT (테넌트 1) — 종합 ● 위험"
    assert rows["KPI"] == ["기간", "실적", "목표", "달성률", "상태", "직전 기간"]
    assert rows["평균 복구 시간"] == ["2026년 10월", "5.5시간", "4시간", "72.7%", "● 위험",
                                 "3.25시간 ●"]
    assert rows["첫 번째 해결율"] == ["2026-10-26 주", "84.2%", "80%", "105.3%", "● 정상", "—"]
    assert rows["SR 적체 건수"] == ["2026-10-28", "11건", "10건", "90.9%", "● 주의", "12건 ●"]
    assert rows["배포 성공률"] == ["2026년 10월", "—", "95%", "—", "○ 데이터 없음", "—"]
    assert lines[-1] == "기준 시각 2026-10-28 12:00 UTC"
    # no English word left: the only Latin letters are names and abbreviations
    latin = set(re.findall(r"[A-Za-z]+", "\n".join(lines)))
    assert latin <= {"Seoul", "Metro", "IT", "KPI", "SR", "UTC"}, latin


def test_scorecard_in_english_keeps_its_words(
        marts_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """English as before: the lights as codes, `(tenant 1) — overall`, `month 2026-10`
    (tests/test_readme_walk.py and scripts read them)."""
    lines, rows = _scorecard(marts_file, "en", capsys)
    assert lines[0] == "Seoul Metro IT (tenant 1) — overall ● RED"
    assert rows["KPI"] == ["Period", "Value", "Target", "Achiev.", "Status", "Previous"]
    assert rows["Mean time to recover"] == ["month 2026-10", "5.5 h", "4 h", "72.7%", "● RED",
                                            "3.25 h ●"]
    assert rows["First-contact resolution"] == ["week 2026-10-26", "84.2%", "80%", "105.3%",
                                                "● GREEN", "—"]
    assert rows["Open request backlog"] == ["day 2026-10-28", "11", "10", "90.9%", "● YELLOW",
                                            "12 ●"]
    assert rows["Deployment success rate"] == ["month 2026-10", "—", "95%", "—", "○ NO_DATA",
                                               "—"]
    assert lines[-1] == "as of 2026-10-28 12:00 UTC"
    assert not re.search("[가-힣]", "\n".join(lines))


def test_scorecard_of_a_tenant_without_rows_says_why_it_may_be(
        marts_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A tenant in tenant_kpi_status without scorecard rows (facts not computed yet for the
    current period, or no KPI enabled): its title and the message naming both causes, not
    an empty table nor the claim that no KPI is enabled."""
    with duckdb.connect(str(marts_file)) as con:
        columns = [name for name, _ in _contract("tenant_kpi_status")]
        empty = {**TENANT, "tenant_id": 2, "tenant_name": "New York Ops", "green_count": 0,
                 "yellow_count": 0, "red_count": 0, "no_data_count": 0,
                 "overall_status": "NO_DATA"}
        con.execute(f"insert into marts.tenant_kpi_status values "
                    f"({', '.join('?' * len(columns))})", [empty[name] for name in columns])
    lines, _rows = _scorecard(marts_file, "en", capsys)
    at = lines.index("New York Ops (tenant 2) — overall ○ NO_DATA")
    text = " ".join(line.strip() for line in lines[at + 1:-1])
    assert text.startswith("No KPI value for the current period.")
    assert "no KPI is enabled for this tenant (kpi_targets.csv)" in text
    assert "run kpi_daily_job" in text
    assert not any(line.startswith(("┏", "│")) for line in lines[at + 1:-1])


def _slice(kpi: str, grain: str, start: str, breakdown: str, value_of: str,
           value: float, target: float, achievement: float, status: str) -> dict[str, Any]:
    return {"tenant_id": 1, "kpi_name": kpi, "grain": grain, "period_start": D(start),
            "breakdown": breakdown, "breakdown_value": value_of, "value": value,
            "target": target, "achievement_pct": achievement, "status": status}


def test_scorecard_by_team_lists_the_current_periods_slices(
        marts_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--by team`: for each scorecard KPI, its slices of that breakdown in the card's own
    period (marts.fct_kpi_breakdowns), by value; other periods and breakdowns left out."""
    slices = [
        _slice("MTTR", "MONTHLY", "2026-10-01", "TEAM", "network", 9.0, 4.0, 44.4, "RED"),
        _slice("MTTR", "MONTHLY", "2026-10-01", "TEAM", "(none)", 2.5, 4.0, 100.0, "GREEN"),
        _slice("MTTR", "MONTHLY", "2026-09-01", "TEAM", "network", 1.0, 4.0, 100.0, "GREEN"),
        _slice("MTTR", "MONTHLY", "2026-10-01", "SERVICE", "email", 7.0, 4.0, 57.1, "RED"),
        _slice("FCR", "WEEKLY", "2026-10-26", "TEAM", "desk", 90.0, 80.0, 112.5, "GREEN"),
    ]
    with duckdb.connect(str(marts_file)) as con:
        columns = _contract("fct_kpi_breakdowns")
        con.execute(f"create table marts.fct_kpi_breakdowns "
                    f"({', '.join(f'{name} {kind}' for name, kind in columns)})")
        con.executemany(
            f"insert into marts.fct_kpi_breakdowns values ({', '.join('?' * len(columns))})",
            [[row.get(name) for name, _ in columns] for row in slices])
    with patched_env({"DBT_TARGET": None}):
        assert cli.main(["scorecard", "--path", str(marts_file), "--by", "team"]) == 0
    lines = [line.rstrip() for line in capsys.readouterr().out.splitlines()]
    at = lines.index("by team")
    rows = [[cell.strip() for cell in re.split(r"[│┃]", line)[1:-1]]
            for line in lines[at:] if line.startswith(("│", "┃"))]
    assert rows == [
        ["KPI", "team", "Value", "Target", "Achiev.", "Status"],
        ["First-contact resolution", "desk", "90%", "80%", "112.5%", "● GREEN"],
        ["Mean time to recover", "(none)", "2.5 h", "4 h", "100.0%", "● GREEN"],
        ["Mean time to recover", "network", "9 h", "4 h", "44.4%", "● RED"],
    ]
