"""Where the dbt project is, and what makes it up (for the copies tests and tools build in)."""

from __future__ import annotations

import shutil
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
# the files and folders dbt reads: a copy of them is a complete project
PROJECT_ITEMS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests")


def copy_project(destination: Path, source: Path = PROJECT_DIR) -> Path:
    """A copy of the dbt project in `destination` (replaced if it exists), with its own
    target and logs folders once dbt runs there."""
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    for item in PROJECT_ITEMS:
        origin = source / item
        if origin.is_dir():
            shutil.copytree(origin, destination / item,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, destination / item)
    return destination
