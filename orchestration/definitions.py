"""The Dagster definitions of the KPI engine: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from orchestration.alerts import build_alert_sensor
from orchestration.assets import build_assets
from orchestration.freshness import build_freshness_schedule, build_source_observations
from orchestration.jobs import build_jobs
from orchestration.partitions import build_partitions
from orchestration.project import kpi_project
from orchestration.schedules import build_daily_schedule
from orchestration.sensors import kpi_run_failure_sensor
from orchestration.settings import Settings


def dbt_executable() -> str:
    """dbt of this environment (the venv may not be on PATH under `dagster dev`)."""
    for folder in (Path(sys.prefix) / "bin", Path(sys.executable).parent):
        if (folder / "dbt").exists():
            return str(folder / "dbt")
    return shutil.which("dbt") or "dbt"


@functools.cache
def dbt_cli_version(executable: str) -> version.Version:
    """The version `executable --version` reports, asked once per process: dagster-dbt
    asks it once per resource instance, and a run gets a new instance, so every run
    started a second dbt process first (2.4 s on a 2-core machine)."""
    output = subprocess.check_output([executable, "--version"]).decode("utf-8")
    match = re.search(r"(\d+\.\d+\.\d+)", output)
    if not match:
        raise ValueError(f"could not read dbt's version from `{executable} --version`: {output}")
    return version.parse(match.group(1))


class KpiDbtCliResource(DbtCliResource):
    """DbtCliResource without two costs every run paid before its dbt command started
    (on a 2-core machine, 4.8 s of a run of about 20 s on a small warehouse):
    - dbt's version is asked once per process (dbt_cli_version), not once per run;
    - no dbt adapter is loaded in Dagster's process (dagster-dbt loads every macro of the
      project for it, 2.4 s): it serves only `fetch_row_counts()` and
      `fetch_column_metadata()` on the event stream, which these definitions do not call
      (without an adapter dagster-dbt would skip that metadata, not fail)."""

    @property
    def _cli_version(self) -> version.Version:  # dagster-dbt's cached_property, per instance
        return dbt_cli_version(self.dbt_executable)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def dbt_cli(project: DbtProject) -> KpiDbtCliResource:
    """dbt as the product's runs call it: this environment's executable."""
    return KpiDbtCliResource(project_dir=project, dbt_executable=dbt_executable())


def build_definitions(
    settings: Settings | None = None, project: DbtProject | None = None
) -> dg.Definitions:
    """All definitions for a dbt project (by default the repository's) and settings (by
    default from the environment)."""
    settings = settings or Settings.from_env()
    project = project or kpi_project
    partitions = build_partitions(settings)
    assets = build_assets(project, partitions)
    jobs = build_jobs(assets, project, partitions)
    observations = build_source_observations(project)
    return dg.Definitions(
        assets=[observations, *assets.all()],
        jobs=list(jobs.values()),
        schedules=[
            build_daily_schedule(jobs["kpi_daily_job"], partitions["daily"],
                                 settings.schedule_timezone),
            build_freshness_schedule(observations, settings.schedule_timezone),
        ],
        sensors=[kpi_run_failure_sensor, build_alert_sensor(project)],
        # the steps of a run are sequential (dbt, then the report): one process is enough
        executor=dg.in_process_executor,
        resources={
            "dbt": dbt_cli(project)
        },
    )


defs = build_definitions()
