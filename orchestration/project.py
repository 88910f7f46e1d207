"""The dbt project as Dagster sees it: built once per process, from a manifest prepared
ahead (`make manifest`, or `dagster-dbt project prepare-and-package` in a deployment);
`dagster dev` re-parses it when it changes."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

PROJECT_DIR = Path(__file__).resolve().parents[1]


def dbt_project(project_dir: Path) -> DbtProject:
    """The dbt project in `project_dir`, run as a plain `dbt` command there would be: no
    `--target` unless DBT_TARGET names one (dbt reads DBT_TARGET as `--target` too), so
    `make manifest`'s parse, `kpi build` and Dagster's runs share one partial parse
    instead of each re-parsing the whole project when another ran last."""
    return DbtProject(
        project_dir=project_dir,
        profiles_dir=project_dir,
        target=os.environ.get("DBT_TARGET") or None,
    )


kpi_project = dbt_project(PROJECT_DIR)
kpi_project.prepare_if_dev()
