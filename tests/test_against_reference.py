"""The marts on generated demo data (several thousand requests, five tenants in four
timezones, one tenant not configured) equal what the plain-Python reference
implementation (reference/kpi_reference.py, written from the specification alone)
computes from the same raw rows; and DuckDB and PostgreSQL give identical marts."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from harness import ENGINES, Warehouse, normalise
from reference.kpi_reference import compute, load_seeds

from itsm_kpi import demo_data
from itsm_kpi.warehouse import connect, query

CONFIG = demo_data.DemoConfig(requests=3000, tenants=5, days=120, seed=7,
                              end=datetime(2026, 6, 1))
AS_OF = datetime(2026, 5, 29, 15, 30)  # facts after it exist and must be ignored
FCT_COLUMNS = ("period_end", "is_complete", "value", "numerator", "denominator", "target",
               "direction", "achievement_pct", "status")


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Warehouse]]:
    warehouses: dict[str, Warehouse] = {}
    yield warehouses
    for warehouse in warehouses.values():
        warehouse.drop()


def get_built(built: dict[str, Warehouse], engine: str, tmp_path_factory) -> Warehouse:
    if engine not in built:
        warehouse = Warehouse(engine, tmp_path_factory.mktemp(f"reference_{engine}"))
        if engine == "duckdb":
            demo_data.generate_duckdb(warehouse.duckdb_path, CONFIG)
        else:
            demo_data.generate_postgres(warehouse.pg_database, CONFIG)
        warehouse.build(AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"))
        built[engine] = warehouse
    return built[engine]


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> Any:
    # the raw rows, read back from a DuckDB generation (identical on both engines: the
    # generator's own tests check it)
    path = tmp_path_factory.mktemp("reference_raw") / "generated.duckdb"
    demo_data.generate_duckdb(path, CONFIG)
    with connect("duckdb", path=path, read_only=True) as conn:
        raw = {table: query(conn, f"select * from raw.{table}")
               for table in ("service_requests", "sr_events", "deployments")}
    seeds = load_seeds(Warehouse.seed_dir())
    return compute(raw["service_requests"], raw["sr_events"], raw["deployments"],
                   seeds["tenants"], seeds["kpi_definitions"], seeds["kpi_targets"],
                   seeds["sla_policies"], AS_OF)


def close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.parametrize("engine", ENGINES)
def test_fct_kpi_values_match_reference(engine, built, expected, tmp_path_factory) -> None:
    warehouse = get_built(built, engine, tmp_path_factory)
    actual = {
        (r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]):
            {c: normalise(r[c]) for c in FCT_COLUMNS}
        for r in warehouse.query("select * from marts.fct_kpi_values")
    }
    assert len(expected.kpi_values) > 3000
    assert set(actual) == set(expected.kpi_values)
    mismatches = [
        (key, column, actual[key][column], want[column])
        for key, want in expected.kpi_values.items()
        for column in FCT_COLUMNS
        if not close(actual[key][column], normalise(want[column]))
    ]
    assert mismatches == []
    statuses = {row["status"] for row in expected.kpi_values.values()}
    assert statuses == {"GREEN", "YELLOW", "RED", "NO_DATA"}  # the data exercises every light


@pytest.mark.parametrize("engine", ENGINES)
def test_scorecard_and_status_match_reference(engine, built, expected, tmp_path_factory) -> None:
    warehouse = get_built(built, engine, tmp_path_factory)
    scorecard = {
        (r["tenant_id"], r["kpi_name"]): r
        for r in warehouse.query("select * from marts.kpi_scorecard")
    }
    assert set(scorecard) == set(expected.scorecard)
    for key, want in expected.scorecard.items():
        got = scorecard[key]
        for column in ("grain", "period_start", "value", "target", "achievement_pct", "status",
                       "previous_value", "previous_status"):
            assert close(normalise(got[column]), normalise(want[column])), (key, column)
    status = {r["tenant_id"]: r for r in warehouse.query("select * from marts.tenant_kpi_status")}
    assert set(status) == set(expected.tenant_status)
    for tenant, want in expected.tenant_status.items():
        for column, value in want.items():
            assert status[tenant][column] == value, (tenant, column)


def test_engines_give_identical_marts(built, tmp_path_factory) -> None:
    duck = get_built(built, "duckdb", tmp_path_factory)
    pg = get_built(built, "postgres", tmp_path_factory)
    for table, key in (("fct_kpi_values", "tenant_id, kpi_name, grain, period_start"),
                       ("kpi_scorecard", "tenant_id, kpi_name"),
                       ("tenant_kpi_status", "tenant_id"),
                       ("dim_kpi", "kpi_name")):
        sql = f"select * from marts.{table} order by {key}"
        duck_rows = [{k: normalise(v) for k, v in r.items() if k != "calculated_at"}
                     for r in duck.query(sql)]
        pg_rows = [{k: normalise(v) for k, v in r.items() if k != "calculated_at"}
                   for r in pg.query(sql)]
        assert len(duck_rows) > 0
        assert duck_rows == pg_rows, table
