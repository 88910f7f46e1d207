"""`kpi build`, a plain `dbt` command and Dagster's dbt runs see one and the same dbt
profile, so they share one partial parse: alternating between them never prints "Unable
to do partial parsing because profile has changed" (nor "... config target have
changed") and never costs a full re-parse.

Runs on a copy of the project (the CLI pointed at it), from another working directory, as
a user would run `kpi` from anywhere; no database is needed beyond the DuckDB file the
seed goes into."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource

from itsm_kpi import cli, warehouse
from itsm_kpi.paths import copy_project
from orchestration.project import dbt_project

DBT = str(Path(sys.prefix) / "bin" / "dbt")
SELECT = ["--select", "kpi_definitions"]  # one seed: quick to build
BUILD = ["build", "--", *SELECT, "--indirect-selection", "cautious"]  # and its own tests
# what a user's shell may hold that would point dbt elsewhere
DBT_SETTINGS = ("DBT_TARGET", "KPI_DUCKDB_PATH", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR",
                "DBT_TARGET_PATH", "DBT_LOG_PATH", "DBT_PROFILE")
REPARSE = "Unable to do partial parsing"


def test_kpi_plain_dbt_and_dagster_share_one_partial_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path / "project")
    (project / "data").mkdir()  # where `kpi generate` puts the raw data
    # the CLI's project folder, and its default DuckDB file relative to it
    monkeypatch.setattr(cli, "PROJECT_DIR", project)
    monkeypatch.setattr(warehouse, "duckdb_path",
                        functools.partial(warehouse.duckdb_path, base=project))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in DBT_SETTINGS:
        monkeypatch.delenv(name, raising=False)

    def plain_dbt() -> str:  # as typed in the project folder
        done = subprocess.run([DBT, "ls", *SELECT], cwd=project, capture_output=True,
                              text=True, check=True)
        return done.stdout

    def dagster_dbt() -> list[str]:  # as the Dagster jobs run it (orchestration.project)
        resource = DbtCliResource(project_dir=dbt_project(project), dbt_executable=DBT)
        invocation = resource.cli(["ls", *SELECT])
        return [str(event.raw_event["info"]["msg"]) for event in invocation.stream_raw_events()]

    assert cli.main(BUILD) == 0  # the first parse: a full one
    assert REPARSE not in plain_dbt()
    assert not [message for message in dagster_dbt() if REPARSE in message]
    assert cli.main(BUILD) == 0
    assert REPARSE not in plain_dbt()

    # dbt.log holds the CLI's and plain dbt's runs (Dagster's log in its own target folder)
    log = (project / "logs" / "dbt.log").read_text()
    reparses = [line.split(REPARSE)[1].strip() for line in log.splitlines() if REPARSE in line]
    assert reparses == ["because saved manifest not found. Starting full parse."]
    # the CLI, run from elsewhere, built into the file plain dbt reads: data/kpi.duckdb of
    # the project folder
    assert (project / "data" / "kpi.duckdb").exists()
    assert not (elsewhere / "data").exists()
