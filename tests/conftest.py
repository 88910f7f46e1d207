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
