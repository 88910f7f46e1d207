"""`make bench` (`python -m tools.benchmark`): how fast the KPI engine is, on DuckDB and
PostgreSQL (issue 5), and on Spark's local session (issue 17).

For a scale (``smoke``: 2,000 requests, 20 tenants, 60 days; ``100k``, ``1M``, ``10M``:
that many requests, 200 tenants, 730 days; about 5 events per request, a deployment per
ten requests; tenants spread over eight timezones, with DST zones and a half-hour offset),
it generates demo data with ``itsm_kpi.demo_data`` ending one day after a midnight E,
splits it into the source system as of E and the next day's delta (new and changed rows,
plus about 2 % of the events of the two days before E held back: late events), loads the
state at E into a fresh database and measures, per engine, in a throw-away copy of the
dbt project (``--work-dir``, default ``bench-work/``), running the product's own Dagster
jobs in this process (``orchestration.definitions.build_definitions``):

1. the full build: ``kpi_full_refresh_job``, as_of = E, wall time, peak memory of the dbt
   process it starts (on DuckDB the engine runs inside it; on PostgreSQL the server is not
   included), the slowest dbt nodes from the Dagster event log; also ``dbt parse`` (the
   manifest the definitions load) and dbt's fixed start-up (a command selecting nothing);
2. the daily incremental run after the delta is applied: ``kpi_daily_job`` with the tags
   ``kpi_daily_schedule`` requests at its tick E + 1 day 00:30 (its two daily
   partitions), per Dagster step and in total;
3. the BI read: one tenant's ``kpi_scorecard`` and ``tenant_kpi_status`` over one open
   connection, median and p95 of ``--repeat`` reads cycling over the tenants; on
   PostgreSQL also as tenant 1's own login, where row-level security applies;
4. the physical floor: one hand-written query scanning the raw tables once that computes
   the monthly numerators and denominators of MTTR, FCR and SLA_COMPLIANCE (checked equal
   to ``fct_kpi_values``), median of 3;
5. the original module's way: the 7 queries its ``_calculate_kpi_value`` ran for the five
   KPIs (``/work/shared/reference/original_kpi_api.txt``), for one tenant's current month
   (with a tenant filter the original forgot), median of ``--repeat``.

On Spark (``--engines spark``: a local pyspark session inside each dbt process, tables as
Parquet files under the engine's folder, KPI_SPARK_* settings) only 1. and 2. are measured
(the BI read, the floor and the original module's queries are "not measured on Spark"),
with dbt's start-up run once; the raw tables are declared, and the delta applied (new Parquet
files: the state's rows minus the replaced keys plus the delta's), by short child
processes (``tools.benchmark.spark_raw``), since the embedded Derby metastore admits one
JVM at a time. ``--verify`` is not supported there.

Checks (a failure exits 1): initial load + delta = the generated tables; floor = engine;
with ``--verify``, once the fact tables the daily job leaves to other schedules are
refreshed too (their jobs at the day's ticks), the recomputed ``fct_kpi_values`` periods,
``kpi_scorecard`` and ``tenant_kpi_status`` equal a from-scratch build of the final data
(the full refresh job) in a second database.

Writes ``OUT/<scale>-<engine>.json`` (default ``docs/benchmarks/``) and regenerates the
Markdown report (``docs/benchmarks.md`` beside the folder) from every JSON in ``OUT``.

    .venv/bin/python -m tools.benchmark --scale 100k --engines duckdb,postgres
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg2

from itsm_kpi.paths import PROJECT_DIR, PROJECT_ITEMS, copy_project
from tools.benchmark.config import (
    CUTOFF,
    ENGINES,
    SCALES,
    BenchmarkError,
    Options,
    Progress,
)
from tools.benchmark.data import generate, write_calendar_seeds, write_tenants_seed
from tools.benchmark.engine import benchmark_engine
from tools.benchmark.report import fmt_ms, fmt_s, machine, write_report
from tools.jobs import iso


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tools.benchmark",
        description="How fast the KPI engine is, on DuckDB, PostgreSQL and Spark. Generates "
        "demo "
        "data, runs the product's Dagster jobs (the full refresh, the daily run as its "
        "schedule launches it), the BI read, the floor query and the original module's "
        "queries, and writes a JSON per scale and engine and a Markdown report. Exit "
        "codes: 0 all checks passed, 1 a job or a check failed, 2 bad usage.")
    parser.add_argument("--scale", choices=list(SCALES), default="100k",
                        help="smoke: 2,000 requests, 20 tenants, 60 days; 100k, 1M, 10M: that "
                             "many requests, 200 tenants, 730 days (default 100k)")
    parser.add_argument("--engines", default="duckdb,postgres",
                        help="comma-separated: duckdb, postgres, spark (default "
                             "duckdb,postgres; spark: the builds only, not the reads)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "benchmarks",
                        help="folder of the JSON results (default docs/benchmarks)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="the report rebuilt from every JSON in --out (default: OUT.md "
                             "beside the folder, docs/benchmarks.md)")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "bench-work",
                        help="data, project copies and logs (default bench-work/)")
    parser.add_argument("--repeat", type=int, default=50,
                        help="timed runs of the BI read and of the original request (50)")
    parser.add_argument("--verify", action="store_true",
                        help="compare the incremental result with a from-scratch build")
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases and the work folder")
    parser.add_argument("--pg-database", default="",
                        help="PostgreSQL database to create (default bench_<scale>; the "
                             "from-scratch one gets _verify)")
    parser.add_argument("--variant", default="",
                        help="label of a run under other settings (e.g. PGOPTIONS or "
                             "KPI_DUCKDB_MEMORY_LIMIT set): <scale>-<engine>-<variant>.json, "
                             "its own column in the report")
    parser.add_argument("--no-calendars", action="store_true",
                        help="every SLA policy 24/7 (default: every other tenant's policies "
                             "on a business calendar with holidays), e.g. with --variant "
                             "no-calendars to measure what the business-hours clocks cost")
    parser.add_argument("--builds-only", action="store_true",
                        help="the full build and the daily run only: no BI read, floor nor "
                             "original module (their timed repeats take long at 10M on "
                             "PostgreSQL)")
    parser.add_argument("--dbt-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop a dbt command of a job running longer (reported as a "
                             "failure, with the nodes still running); default: no limit")
    args = parser.parse_args(argv)
    engines = tuple(name.strip() for name in args.engines.split(",") if name.strip())
    if not engines or set(engines) - set(ENGINES):
        parser.error(f"--engines must be among {', '.join(ENGINES)}")
    if args.verify and "spark" in engines:
        parser.error("--verify is not supported on Spark (its marts are read as Parquet "
                     "files, without the fct_kpi_values view the comparison reads)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.variant and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", args.variant):
        parser.error("--variant must be lower-case letters, digits, - and _")
    if args.pg_database and not re.fullmatch(r"bench_[a-z0-9_]+", args.pg_database):
        parser.error("--pg-database must match bench_[a-z0-9_]+")
    if args.dbt_timeout is not None and args.dbt_timeout <= 0:
        parser.error("--dbt-timeout must be positive")
    out = args.out.resolve()
    return Options(scale=SCALES[args.scale], engines=engines, out=out,
                   markdown=(args.markdown or out.with_suffix(".md")).resolve(),
                   work_dir=args.work_dir.resolve(), repeat=args.repeat, keep=args.keep,
                   verify=args.verify, pg_database=args.pg_database,
                   dbt_timeout=args.dbt_timeout, variant=args.variant,
                   calendars=not args.no_calendars, builds_only=args.builds_only)


def progress(message: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {message}", file=sys.stderr, flush=True)


def project_source() -> dict[str, Any]:
    """Which code was measured: the commit, and the working tree's changes to it."""

    def git(*args: str) -> str:
        found = subprocess.run(["git", "-C", str(PROJECT_DIR), *args], capture_output=True,
                               text=True, check=False)
        return found.stdout.rstrip("\n") if found.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", *PROJECT_ITEMS, "orchestration",
                  "itsm_kpi").splitlines()
    return {"commit": git("rev-parse", "HEAD").strip(),
            "uncommitted_changes": [line[3:] for line in changed]}


def run(options: Options, say: Progress = progress) -> dict[str, dict[str, Any]]:
    """The benchmark for each engine; returns the results by engine (also written)."""
    scale_dir = options.work_dir / options.scale.slug
    scale_dir.mkdir(parents=True, exist_ok=True)
    generated = scale_dir / "generated.duckdb"
    say(f"generating {options.scale.name}: {options.scale.requests:,} requests, "
        f"{options.scale.tenants} tenants, {options.scale.days} days, E = {iso(CUTOFF)}")
    data = generate(options.scale, generated, say)
    # a copy of the dbt project (own target and logs), the scale's tenants in the seed
    snapshot = copy_project(scale_dir / "project-snapshot")
    write_tenants_seed(snapshot / "seeds" / "tenants.csv", options.scale.tenants)
    data = {**data, "business_calendars": write_calendar_seeds(
        snapshot / "seeds", options.scale.tenants) if options.calendars else None}
    code = project_source()
    host = machine()
    results: dict[str, dict[str, Any]] = {}
    try:
        for engine in options.engines:
            result = benchmark_engine(engine, options, generated, data, snapshot, code, say)
            result["machine"] = host
            options.out.mkdir(parents=True, exist_ok=True)
            variant = f"-{options.variant}" if options.variant else ""
            path = options.out / f"{options.scale.name}-{engine}{variant}.json"
            path.write_text(json.dumps(result, indent=2, default=str) + "\n")
            results[engine] = result
            write_report(options.out, options.markdown)
            say(f"[{engine}] wrote {path} and {options.markdown}")
    finally:
        if not options.keep:
            shutil.rmtree(scale_dir, ignore_errors=True)
    problems = [problem for result in results.values() for problem in result["failures"]]
    if problems:
        raise BenchmarkError("failed (results written, marked):\n" + "\n".join(problems))
    return results


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        results = run(options)
    except BenchmarkError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    except psycopg2.OperationalError as error:
        print(f"benchmark failed: PostgreSQL: {error}", file=sys.stderr)
        return 1
    for engine, result in results.items():
        print(summary(options.scale.name, engine, result))
    return 0


def summary(scale: str, engine: str, result: dict[str, Any]) -> str:
    """One line per engine at the end of a run; a skipped measurement (Spark's reads) says
    so."""
    ratios = result["ratios"]
    line = (f"{scale} {engine}: full build {fmt_s(result['full_build']['seconds'])}, "
            f"incremental {fmt_s(result['incremental']['seconds'])}")
    if "skipped" in result["bi_read"]:
        return (f"{line}; BI read, floor, original: {result['bi_read']['skipped']}; "
                f"incremental/full {ratios['incremental_over_full']}")
    return (f"{line}, BI read {fmt_ms(result['bi_read']['median_ms'])}, floor "
            f"{fmt_s(result['floor']['median_seconds'])}, original "
            f"{fmt_ms(result['original']['median_ms'])}; full/floor "
            f"{ratios['full_build_over_floor']}, incremental/full "
            f"{ratios['incremental_over_full']}, original/read "
            f"{ratios['original_request_over_scorecard_read']}")
