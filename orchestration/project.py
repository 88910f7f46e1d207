"""The dbt project as Dagster sees it: built once per process, from a manifest prepared
ahead (`make manifest`, or `dagster-dbt project prepare-and-package` in a deployment);
`dagster dev` re-parses it when it changes."""

from __future__ import annotations

import os
from pathlib import Path

from dagster_dbt import DbtProject

PROJECT_DIR = Path(__file__).resolve().parents[1]

kpi_project = DbtProject(
    project_dir=PROJECT_DIR,
    profiles_dir=PROJECT_DIR,
    target=os.environ.get("DBT_TARGET", "duckdb"),
)
kpi_project.prepare_if_dev()
