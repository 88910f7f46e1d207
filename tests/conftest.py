from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ENGINES, Warehouse


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def warehouse(engine: str, tmp_path: Path) -> Iterator[Warehouse]:
    """A fresh copy of the project on a fresh database of each engine."""
    wh = Warehouse(engine, tmp_path)
    yield wh
    wh.drop()



def pytest_configure(config: pytest.Config) -> None:
    """Prepares the repository's target/manifest.json (what `make manifest` does) before
    test modules import the Dagster definitions, which load it."""
    from harness import REPO_ROOT

    if not (REPO_ROOT / "target" / "manifest.json").exists():
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(["parse", "--project-dir", str(REPO_ROOT),
                                     "--profiles-dir", str(REPO_ROOT), "--quiet"])
        if not result.success:
            raise pytest.UsageError(f"dbt parse failed: {result.exception}")
