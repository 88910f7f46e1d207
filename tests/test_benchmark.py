"""The benchmark (tools/benchmark, `make bench`) at its smallest scale, on DuckDB and
PostgreSQL, as a smoke test: it exits 0, its JSON holds every measurement for both
engines, its own checks passed (the split of the data at E, the floor query equal to
fct_kpi_values, the incremental run equal to a from-scratch build) and the original
module's 7 queries agree with a plain-Python computation of its formulas
(/work/shared/reference/original_kpi_api.txt) over the raw rows. No time assertions.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from harness import ENGINES, require_postgres

from itsm_kpi.warehouse import connect, drop_databases
from tools.benchmark.cli import main as run_benchmark
from tools.benchmark.cli import parse_args
from tools.benchmark.config import SPARK_SKIPPED, BenchmarkError
from tools.benchmark.engine import failures, ratios
from tools.benchmark.reads import original_values, run_original_request
from tools.benchmark.report import render_markdown
from tools.benchmark.spark_raw import parquet_files

MEASUREMENTS = ("parse", "fixed_startup", "full_build", "incremental", "bi_read", "floor",
                "original", "ratios", "verify", "machine", "data")
RATIOS = ("full_build_over_floor", "incremental_over_full",
          "original_request_over_scorecard_read")
MONTH_START = datetime(2026, 10, 1)


def original_by_hand(requests: list[tuple], deployments: list[tuple], tenant_id: int,
                     month_start: datetime) -> list[Any]:
    """The original `_calculate_kpi_value` queries, in Python over the raw rows
    (requests: tenant_id, status, created_at, updated_at; deployments: tenant_id, status,
    started_at), with the tenant filter."""
    done = [(created, updated) for tenant, status, created, updated in requests
            if tenant == tenant_id and status == "DONE" and updated >= month_start]
    hours = [(updated - created).total_seconds() / 3600 for created, updated in done]
    started = [status for tenant, status, started_at in deployments
               if tenant == tenant_id and started_at >= month_start]
    return [
        sum(hours) / len(hours) if hours else None,
        len(done),
        len(done),
        sum(1 for created, updated in done if (updated - created).total_seconds() <= 14400),
        sum(1 for tenant, status, _, _ in requests
            if tenant == tenant_id and status in ("OPEN", "IN_PROGRESS")),
        len(started),
        sum(1 for status in started if status == "DEPLOYED"),
    ]


REQUESTS_SQL = "select tenant_id, status, created_at, updated_at from {schema}.service_requests"
DEPLOYMENTS_SQL = "select tenant_id, status, started_at from {schema}.deployments"


def assert_same(found: list[Any], expected: list[Any], where: str) -> None:
    assert found[1:] == expected[1:], where
    if expected[0] is None:
        assert found[0] is None, where
    else:
        assert found[0] == pytest.approx(expected[0], rel=1e-9), where


@contextlib.contextmanager
def cursor_on(engine: str, result: dict[str, Any], database: str) -> Iterator[Any]:
    path = Path(result["config"]["database"]) if engine == "duckdb" else None
    with connect(engine, path=path, database=database, read_only=True) as conn:
        yield conn.cursor()


@pytest.mark.postgres
def test_benchmark_smoke_on_both_engines(tmp_path: Path) -> None:
    require_postgres()
    database = f"bench_test_{uuid.uuid4().hex[:10]}"
    out = tmp_path / "results"
    work = tmp_path / "work"
    try:
        code = run_benchmark(["--scale", "smoke", "--engines", ",".join(ENGINES), "--verify",
                           "--repeat", "5", "--out", str(out), "--work-dir", str(work),
                           "--pg-database", database, "--keep"])
        assert code == 0

        results = {engine: json.loads((out / f"smoke-{engine}.json").read_text())
                   for engine in ENGINES}
        report = (tmp_path / "results.md").read_text()
        for engine, result in results.items():
            assert set(MEASUREMENTS) <= set(result), engine
            assert f"smoke {engine}" in report
            assert "DORA nodes: " in report
            assert result["data"]["split_check"]["ok"]
            assert result["data"]["late_events"] > 0
            assert result["data"]["rows"]["delta"]["service_requests"] > 0
            full = result["full_build"]
            assert full["seconds"] > 0 and full["peak_rss_mb"] > 0 and full["top_nodes"]
            # the DORA nodes apart: the nine models (production deployments, attribution,
            # recoveries, the five measurements, dora_scorecard) and their data tests
            dora = full["groups"]["DORA"]
            assert dora["node_count"] > 9 and 0 < dora["node_seconds_sum"] < full[
                "node_seconds_sum"]
            assert result["incremental"]["groups"]["DORA"]["node_count"] > 0
            # one day's scheduled work: kpi_daily_job's one dbt build (then the report)
            assert [step["label"] for step in result["incremental"]["steps"]] == [
                "incremental: dbt build window"]
            assert result["incremental"]["steps"][0]["window"] == ["2026-10-31", "2026-11-02"]
            assert result["bi_read"]["runs"] == 5 and result["bi_read"]["median_ms"] > 0
            assert all(result["bi_read"]["rows_tenant_1"])
            # the README's breakdown read, for the month before as_of's (the smoke data
            # end on 31 October 2026: September)
            breakdown_read = result["breakdown_read"]
            assert breakdown_read["month_start"] == "2026-09-01"
            assert breakdown_read["runs"] == 5 and breakdown_read["median_ms"] > 0
            assert breakdown_read["rows_tenant_1"] >= 1
            if engine == "postgres":  # as tenant 1's login: the same rows, one tenant
                as_tenant = result["bi_read_tenant_login"]
                assert as_tenant["rows_tenant_1"] == result["bi_read"]["rows_tenant_1"]
                assert as_tenant["tenants_visible"] == 1 and as_tenant["median_ms"] > 0
            assert result["floor"]["check"]["differences"] == 0
            assert result["floor"]["check"]["compared"] > 0
            assert result["original"]["runs"] == 5 and len(result["original"]["queries"]) == 7
            assert all(result["ratios"][name] > 0 for name in RATIOS)
            verified = result["verify"]
            assert verified["enabled"] and verified["differences"] == 0
            assert all(part["compared"] > 0 for part in verified["comparison"].values())

        # the recorded original-module results (state as of E) against Python over the
        # initial rows the benchmark loaded (kept in the generated file)
        generated = work / "smoke" / "generated.duckdb"
        with connect("duckdb", path=generated, read_only=True) as con:
            requests = con.execute(REQUESTS_SQL.format(schema="init")).fetchall()
            deployments = con.execute(DEPLOYMENTS_SQL.format(schema="init")).fetchall()
        expected = original_by_hand(requests, deployments, 1, MONTH_START)
        assert expected[1] > 0 and expected[5] > 0  # tenant 1 has data this month
        for engine, result in results.items():
            sample = result["original"]["sample"]
            assert sample["tenant_id"] == 1 and result["original"]["month_start"] == "2026-10-01"
            assert_same(list(sample["results"].values()), expected, f"{engine} sample")
            assert sample["values"] == original_values(expected)

        # the 7 queries on each engine's database (final state) against Python over the
        # rows read from it with its own driver, for several tenants
        for engine, result in results.items():
            with cursor_on(engine, result, database) as cursor:
                cursor.execute(REQUESTS_SQL.format(schema="raw"))
                requests = cursor.fetchall()
                cursor.execute(DEPLOYMENTS_SQL.format(schema="raw"))
                deployments = cursor.fetchall()
                for tenant_id in (1, 2, 7):
                    found = run_original_request(cursor, engine, tenant_id, MONTH_START)
                    assert_same(found, original_by_hand(requests, deployments, tenant_id,
                                                        MONTH_START), f"{engine} {tenant_id}")
    finally:
        drop_databases(database, f"{database}_verify")


# --- Spark's branch of the benchmark, without Spark (the builds are run by hand: `make
# bench ENGINES=spark`, not in CI) ------------------------------------------------------


def spark_result() -> dict[str, Any]:
    """A Spark result as the benchmark writes it, reduced to what the report reads."""
    skipped = {"skipped": SPARK_SKIPPED}
    run = {"seconds": 100.0, "execution_seconds": 80.0, "peak_rss_mb": 150.0,
           "peak_tree_rss_mb": 2500.0, "node_count": 2, "node_seconds_sum": 90.0,
           "load_average_before": [1.0, 1.0, 1.0],
           "top_nodes": [{"node": "model.kpi_engine.fct_kpi_values_daily", "seconds": 9.0}]}
    return {
        "scale": "smoke", "engine": "spark", "variant": "",
        "config": {"tenants": 20, "days": 60, "env": {}},
        "data": {"rows": {"gen": {"service_requests": 1, "sr_events": 2, "deployments": 3}},
                 "load_seconds": 1.0},
        "spark": {"master": "local[*]", "threads": 2, "driver_memory": "3g",
                  "shuffle_partitions": "4", "java": "openjdk 17"},
        "full_build": run,
        "incremental": {**run, "steps": [], "report_seconds": 0.1,
                        "top_nodes": [{**run["top_nodes"][0], "step": "dbt build window"}]},
        "bi_read": skipped, "floor": skipped, "original": skipped,
        "verify": {"enabled": False},
        "machine": {"cpu": "cpu", "cores": 2, "memory_gb": 1.0, "os": "os", "python": "3.11",
                    "packages": {}, "date": "2026-12-06"},
    }


def test_spark_report_says_what_was_not_measured() -> None:
    result = spark_result()
    result["ratios"] = ratios(result)
    assert result["ratios"] == {"full_build_over_floor": None, "incremental_over_full": 1.0,
                                "original_request_over_scorecard_read": None}
    assert failures(result) == []
    report = render_markdown([result])
    for label in ("**3. BI read**", "**4. floor**", "**5. original module**",
                  "ratio full build / floor", "ratio original request / scorecard read",
                  "check: floor = fct_kpi_values"):
        line = next(line for line in report.splitlines() if line.startswith(f"| {label}"))
        assert line.endswith(f"| {SPARK_SKIPPED} |"), line
    assert "150 MB (dbt); 2,500 MB with its Spark JVM" in report
    assert "threads 2, driver memory 3g, shuffle partitions 4" in report


def test_spark_engine_options(tmp_path: Path) -> None:
    assert parse_args(["--engines", "spark"]).engines == ("spark",)
    assert parse_args(["--builds-only"]).builds_only and not parse_args([]).builds_only
    with pytest.raises(SystemExit):
        parse_args(["--engines", "duckdb,spark", "--verify"])
    with pytest.raises(BenchmarkError, match="missing Parquet files"):
        parquet_files(tmp_path)
