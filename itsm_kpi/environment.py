"""Environment variables (and the working directory) set for the length of a block: how
run settings reach dbt (env vars keep dbt's partial parsing; `--vars` does not)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

# the environment of a dbt command (or a Dagster run's) whose `build` leaves the data
# tests out: dbt's --resource-type from its environment variable, seeds and models (the
# on-run hooks still run). For the builds whose result is compared, not tested: the
# benchmark's from-scratch reference build (--verify), the test runs that assert data.
WITHOUT_DATA_TESTS = {"DBT_RESOURCE_TYPES": "seed model"}


@contextlib.contextmanager
def patched_env(values: Mapping[str, str | None]) -> Iterator[None]:
    """Sets each variable of `values` (None removes it) inside the block, then restores
    what was there before, also when the block raises."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Runs the block from `path` (as contextlib.chdir of Python 3.11), then goes back."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)
