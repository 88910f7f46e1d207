"""Rebuilding an existing DuckDB database, as `make demo` does on its second run: with the
shipped two dbt threads, two marts are swapped in at once (dbt-duckdb renames the old
table to <name>__dbt_backup inside the model's transaction). DuckDB's duckdb_indexes(),
which dbt-duckdb lists around every swap, failed in one thread while the other thread's
swap of an indexed table was uncommitted ("Table with name
fct_kpi_values_monthly__dbt_backup does not exist!"). DuckDB tables now get no secondary
index, and those older builds left are dropped before any model runs (macros/adapters)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import yaml
from harness import Warehouse

from itsm_kpi.demo_data import DemoConfig, generate_duckdb

AS_OF = "2026-10-28T12:00:00Z"
# small: the race is between dbt's threads, not in the queries
DATA = DemoConfig(requests=200, tenants=2, days=35, end=datetime(2026, 10, 28, 12))
# before the fix, 16 of 21 such rebuilds failed (this test failed 17 runs out of 17, 13
# times at its first rebuild): passing 4 in a row is no accident
REBUILDS = 4


def _leave_indexes_as_older_builds_did(warehouse: Warehouse) -> int:
    """Creates the secondary indexes dbt-duckdb built from the marts' `indexes` config
    before the fix, as a database built then still has them."""
    manifest = json.loads((warehouse.project_dir / "target" / "manifest.json").read_text())
    statements = [
        f'create index "legacy_{node["alias"]}_{number}" on "{node["schema"]}"."{node["alias"]}" '
        f'({", ".join(index["columns"])})'
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        for number, index in enumerate(node["config"].get("indexes") or [])
    ]
    for statement in statements:
        warehouse.execute(statement)
    return len(statements)


def _indexes(warehouse: Warehouse) -> list[dict[str, str]]:
    return warehouse.query(
        "select schema_name, table_name, index_name from duckdb_indexes() order by all")


def test_rebuilds_of_an_existing_duckdb_database_with_two_threads(tmp_path: Path) -> None:
    warehouse = Warehouse("duckdb", tmp_path)
    profile = yaml.safe_load((warehouse.project_dir / "profiles.yml").read_text())
    assert profile["kpi_engine"]["outputs"]["duckdb"]["threads"] == 2, \
        "the race needs dbt's threads as shipped"
    generate_duckdb(warehouse.duckdb_path, DATA)
    warehouse.build(AS_OF, "--exclude-resource-type", "test", write_json=True)
    # the six marts' indexes of the time of the fix, and those of the marts added since
    assert _leave_indexes_as_older_builds_did(warehouse) >= 6

    for rebuild in range(1, REBUILDS + 1):
        result = warehouse.dbt("run", "--full-refresh", "--select", "marts", as_of=AS_OF,
                               expect_success=False)
        results = result.result.results if result.result else []
        failures = [f"{r.node.name}: {r.message}" for r in results if str(r.status) == "error"]
        assert result.success, \
            f"rebuild {rebuild} of {REBUILDS} failed: {failures or result.exception}"
    # the on-run-start hook dropped the older builds' indexes, and none came back
    assert _indexes(warehouse) == []
    assert warehouse.query("select count(*) as n from marts.kpi_scorecard_trend")[0]["n"] > 0
