from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# The test modules, slowest first (minutes of one worker on the 2-core CI machine, from
# `--durations` and the junit times; modules not named run after these). `make test` runs
# `--dist loadscope --no-loadscope-reorder`: xdist then hands whole modules to its two
# workers in this order, so the long ones start first and the short ones fill the end.
# xdist's default order (most tests first) left the README walk, the benchmark and the
# fault drill, with two or three long tests each, to run one after another at the end.
SLOWEST_FIRST = (
    "test_orchestration",  # Dagster jobs, each engine on its own worker: ~18-22 min each
    "test_against_reference",  # the demo data built on three engines
    "test_quarantine",
    "test_late_data",
    "test_alerts",  # the alert scenario on both engines: ~4 min each
    "test_spark_jobs",  # 3 tests: Dagster's full refresh and a daily run on Spark
    "test_readme_walk",  # 3 tests
    "test_windows_and_vars",
    "test_faults",
    "test_security",
    "test_semantic_layer",
    "test_seed_validation",
    "test_kpis_by_hand",
    "test_open_request_aging",
    "test_business_hours",  # one build per engine, Spark's ~5 min
    "test_benchmark",  # 2 tests
    "test_report",
    "test_chaos",  # 2 tests
    "test_dora",
    "test_quiet_output",
    "test_custom_kpi",
    "test_one_profile",
    "test_ui_stop",
    "test_repeated_builds",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Orders the modules as SLOWEST_FIRST says (a stable sort: each module's own order,
    and its module-scoped warehouses, stay as they are)."""
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


# The modules whose engines go to different workers: xdist's `loadscope` hands a worker
# a whole module, and test_orchestration's Dagster jobs on DuckDB and then PostgreSQL took
# one worker about 30 of the suite's minutes while the others had finished. Its
# module-scoped warehouse is parametrized by engine (pytest runs each engine's tests
# together), so each half builds only its own; the engine-free tests keep the module's
# scope.
SPLIT_BY_ENGINE = ("test_orchestration.py",)
ENGINE_ID = re.compile(r"\[(?:.*-)?(duckdb|postgres|spark)(?:-.*)?\]$")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` (`make test`), with SPLIT_BY_ENGINE's engines as scopes."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class EngineScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            match = ENGINE_ID.search(nodeid)
            if match and scope.endswith(SPLIT_BY_ENGINE):
                return f"{scope}[{match.group(1)}]"
            return scope

    return EngineScopes(config, log)
