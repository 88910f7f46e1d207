"""The Dagster definitions of the KPI engine: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

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
            "dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())
        },
    )


defs = build_definitions()
