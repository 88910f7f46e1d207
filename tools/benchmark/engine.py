"""The benchmark on one engine: the state as of E loaded, the product's full refresh job,
dbt's parse and start-up, the BI read, the floor and the original module's queries, the
delta applied and the daily job as its schedule launches it; with --verify, the day's
other grains refreshed and the marts compared with a from-scratch build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from itsm_kpi import warehouse
from tools import jobs
from tools.benchmark import reads
from tools.benchmark.config import (
    BUILDS_ONLY_SKIPPED,
    CUTOFF,
    FLOOR_RUNS,
    LOOKBACK_DAYS,
    METHOD,
    SPARK_SKIPPED,
    TIMEZONES,
    TOP_NODES,
    BenchmarkError,
    Options,
    Progress,
    Row,
)
from tools.benchmark.data import BenchDatabase
from tools.benchmark.runs import Runner
from tools.jobs import iso

MART_KEYS = {
    "fct_kpi_values": ("tenant_id", "kpi_name", "grain", "period_start"),
    "kpi_scorecard": ("tenant_id", "kpi_name"),
    "tenant_kpi_status": ("tenant_id",),
}
BUILD_TIMESTAMPS = ("calculated_at",)
GRAINS = tuple(jobs.FACT_MODELS)  # the fact tables, one per grain


def benchmark_engine(engine: str, options: Options, generated: Path, data: dict[str, Any],
                     snapshot: Path, code: dict[str, Any], say: Progress) -> dict[str, Any]:
    scale = options.scale
    folder = options.work_dir / scale.slug / engine
    project_dir = folder / "project"
    if project_dir.exists():
        shutil.rmtree(project_dir)
    shutil.copytree(snapshot, project_dir)  # every engine measures the same project files
    as_of_full = CUTOFF
    tick_day = (CUTOFF + timedelta(days=1)).date()
    database = BenchDatabase.create(engine, options, folder)
    reference: BenchDatabase | None = None
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=engine)
    runner = Runner(project, database, folder / "logs", folder / "reports", options.dbt_timeout)
    result: dict[str, Any] = {
        "scale": scale.name,
        "engine": engine,
        "variant": options.variant,
        "started_at": iso(datetime.now(timezone.utc)),
        "config": {
            "requests": scale.requests, "tenants": scale.tenants, "days": scale.days,
            "timezones": list(TIMEZONES), "cutoff_E": iso(CUTOFF),
            "as_of_full_build": iso(as_of_full),
            "lookback_days_default": LOOKBACK_DAYS, "repeat": options.repeat,
            "verify": options.verify, "database": database.describe(),
            "method": METHOD, "full_build_job": jobs.FULL_REFRESH_JOB,
            "env": {key: value for key, value in os.environ.items()
                    if key.startswith(("KPI_DUCKDB_", "KPI_SPARK_")) or key == "PGOPTIONS"},
        },
        "code": code,
        "data": data,
    }
    try:
        say(f"[{engine}] loading the state as of E ({database.describe()})")
        started = time.perf_counter()
        database.load(generated, "init")
        result["data"] = {**data, "load_seconds": round(time.perf_counter() - started, 3)}
        if engine == "postgres":
            result["postgres_server"] = database.server()
        if engine == "spark":
            result["spark"] = spark_settings(database)

        say(f"[{engine}] dbt parse (the project's manifest, as Dagster prepares it)")
        result["parse"] = runner.dbt("parse", ["parse"], as_of_full)
        runner.defs = jobs.definitions(project, first_day(scale.days))
        daily = jobs.scheduled_run(runner.defs, jobs.DAILY_SCHEDULE, tick_day)
        if daily is None or daily.window is None:
            raise BenchmarkError(f"{jobs.DAILY_SCHEDULE} requested no partitioned run on "
                                 f"{tick_day}")
        as_of_daily = daily.tick.replace(tzinfo=None)
        result["config"].update(as_of_incremental=iso(as_of_daily),
                                daily_window=[day.isoformat() for day in daily.window],
                                incremental_job=daily.job_name, daily_tags=daily.tags)

        say(f"[{engine}] full build ({jobs.FULL_REFRESH_JOB}, as_of {iso(as_of_full)})")
        full, _ = runner.job("full build", jobs.FULL_REFRESH_JOB, as_of_full)
        result["full_build"] = full
        say(f"[{engine}] full build: {full['seconds']:.1f} s, peak RSS {full['peak_rss_mb']} MB")
        # Spark: once (its runs are long: the time goes to the builds)
        runs = 3 if options.repeat >= 10 and engine != "spark" else 1
        startups = [runner.dbt("no-op", ["run", "--select", "bench_selects_nothing"],
                               as_of_full) for _ in range(runs)]
        result["fixed_startup"] = {
            "command": startups[0]["command"], "runs": len(startups),
            "median_seconds": round(reads.median([r["seconds"] for r in startups]), 3),
            "seconds": [r["seconds"] for r in startups], "parse": startups[-1]["parse"]}

        if engine == "spark" or options.builds_only:
            reason = SPARK_SKIPPED if engine == "spark" else BUILDS_ONLY_SKIPPED
            say(f"[{engine}] BI read, floor and original module: {reason}")
            result.update(dict.fromkeys(("bi_read", "breakdown_read", "floor", "original"),
                                        {"skipped": reason}))
        else:
            measure_reads(engine, database, options, as_of_full, result, say)

        say(f"[{engine}] applying the delta")
        started = time.perf_counter()
        database.apply_delta(generated)
        result["data"]["delta_load_seconds"] = round(time.perf_counter() - started, 3)
        say(f"[{engine}] daily run ({daily.job_name}, tags {daily.tags})")
        measured, _ = runner.job("daily run", daily.job_name, as_of_daily, daily)
        result["incremental"] = incremental(measured, daily)
        step_times = ", ".join(f"{step['label'].split(': ')[1]} {step['seconds']:.1f}"
                               for step in result["incremental"]["steps"])
        say(f"[{engine}] daily run: {measured['seconds']:.1f} s ({step_times})")

        if options.verify:
            reference = BenchDatabase.create(engine, options, folder, "_verify")
            result["verify"] = verify(runner, reference, generated, folder, daily, say)
        else:
            result["verify"] = {"enabled": False}
        # failed checks: the result is still written (marked), then the run exits 1
        result["failures"] = failures(result)

        result["ratios"] = ratios(result)
        result["memory_note"] = MEMORY_NOTES[engine]
    except BenchmarkError as error:  # a job failed or timed out: keep what we have
        say(f"[{engine}] FAILED: {error}")
        result["error"] = str(error)[-4000:]
        result["error_finished_nodes"] = error.nodes[:TOP_NODES]
        result["failures"] = [f"{engine}: {str(error)[:1000]}"]
    finally:
        result["finished_at"] = iso(datetime.now(timezone.utc))
        if not options.keep:
            database.drop()
            if reference is not None:
                reference.drop()
    return result


MEMORY_NOTES = {
    "duckdb": "peak RSS of the dbt processes the jobs start: DuckDB runs inside them, so "
              "this is the build's memory",
    "postgres": "peak RSS of the dbt client processes only; the PostgreSQL server's memory "
                "is not included",
    "spark": "peak_rss_mb: the dbt processes the jobs start (Python side); "
             "peak_tree_rss_mb: the largest sum of the resident memory of a dbt process and "
             "its descendants, the local session's JVM (Spark driver and executors) "
             "included",
}


def measure_reads(engine: str, database: BenchDatabase, options: Options, as_of: datetime,
                  result: dict[str, Any], say: Progress) -> None:
    """The BI read (also as tenant 1's login on PostgreSQL), the floor and the original
    module's queries, after the full build, into `result`."""
    say(f"[{engine}] BI read x {options.repeat}")
    result["bi_read"] = reads.measure_bi_read(database, options)
    say(f"[{engine}] breakdown read (one tenant's MTTR of a month by team) x {options.repeat}")
    result["breakdown_read"] = reads.measure_breakdown_read(database, options, as_of)
    if engine == "postgres":
        say(f"[{engine}] BI read as tenant 1's login (row-level security) x {options.repeat}")
        result["bi_read_tenant_login"] = reads.measure_tenant_read(database, options,
                                                                   result["bi_read"])
    say(f"[{engine}] floor query x {FLOOR_RUNS}")
    result["floor"] = reads.measure_floor(database, options, as_of)
    say(f"[{engine}] floor {result['floor']['median_seconds']:.3f} s, equal to the engine "
        f"on {result['floor']['check']['compared']:,} monthly values")
    say(f"[{engine}] original module x {options.repeat}")
    result["original"] = reads.measure_original(database, options, as_of)


def ratios(result: dict[str, Any]) -> dict[str, float | None]:
    """The report's ratios; None where a measurement was skipped (Spark's reads)."""
    full_s = result["full_build"]["seconds"]
    floor, original, bi_read = (result[key] for key in ("floor", "original", "bi_read"))
    return {
        "full_build_over_floor": (None if "skipped" in floor
                                  else round(full_s / floor["median_seconds"], 1)),
        "incremental_over_full": round(result["incremental"]["seconds"] / full_s, 3),
        "original_request_over_scorecard_read": (
            None if "skipped" in original or "skipped" in bi_read
            else round(original["median_ms"] / bi_read["median_ms"], 2)),
    }


def spark_settings(database: BenchDatabase) -> dict[str, Any]:
    """How the Spark runs were set up: a local session inside each dbt process, dbt's
    threads, the session's driver memory and shuffle partitions (the KPI_SPARK_*
    variables, else the profile's defaults), and the Java version."""
    assert database.path is not None
    conf = warehouse.spark_conf(database.path)
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return {
        "method": os.environ.get("SPARK_METHOD", "session"),
        "master": "local[*] (pyspark session inside each dbt process)",
        "threads": warehouse.spark_threads(),
        "driver_memory": conf["spark.driver.memory"],
        "shuffle_partitions": conf["spark.sql.shuffle.partitions"],
        "java": (java.stderr or java.stdout).splitlines()[0] if java.returncode == 0 else None,
        "directory": str(database.path),
    }


def first_day(days: int) -> date:
    """The first UTC day of the generated data: where the partitions start."""
    return (CUTOFF + timedelta(days=1) - timedelta(days=days)).date()


def step_name(step_key: str) -> str:
    """kpi_daily_facts -> daily facts."""
    return step_key.removeprefix("kpi_").replace("_", " ")


def incremental(measured: dict[str, Any], daily: jobs.ScheduledRun) -> dict[str, Any]:
    """The daily job's measurement: its dbt steps labelled, the report step apart."""
    dbt_steps = [step for step in measured["steps"] if not step["report"]]
    steps = [{**step, "label": f"incremental: {step_name(step['step'])}"} for step in dbt_steps]
    nodes = sorted(({"step": step_name(step["step"]), **node}
                    for step in dbt_steps for node in step["top_nodes"]),
                   key=lambda node: -node["seconds"])
    return {
        **{key: value for key, value in measured.items() if key not in ("steps", "top_nodes")},
        "job": daily.job_name,
        "schedule": daily.schedule,
        "tick": iso(daily.tick),
        "tags": daily.tags,
        "steps": steps,
        "report_seconds": round(sum(step["seconds"] for step in measured["steps"]
                                    if step["report"]), 3),
        "outside_steps_seconds": round(measured["seconds"] - sum(
            step["seconds"] for step in measured["steps"]), 3),
        "top_nodes": nodes[:TOP_NODES],
    }


def failures(result: dict[str, Any]) -> list[str]:
    found = []
    floor = result["floor"].get("check", {"differences": 0})  # none when skipped (Spark)
    if floor["differences"]:
        found.append(f"{result['engine']}: the floor query disagrees with fct_kpi_values "
                     f"(MONTHLY) on {floor['differences']} values, e.g. {floor['examples']}")
    if result["verify"].get("differences"):
        found.append(f"{result['engine']}: verify: the incremental run differs from a "
                     f"from-scratch build in {result['verify']['differences']} rows: "
                     + json.dumps(result["verify"]["comparison"], default=str)[:3000])
    return found


def verify(runner: Runner, reference: BenchDatabase, generated: Path, folder: Path,
           daily: jobs.ScheduledRun, say: Progress) -> dict[str, Any]:
    """Refreshes the fact tables the daily job left to other schedules (the day's ticks of
    the jobs that recompute them, same as_of), builds the final data from scratch with
    the full refresh job in a second database, and compares exactly the periods each
    grain's last run recomputed and the whole scorecard and tenant status."""
    assert runner.defs is not None and daily.window is not None
    as_of = daily.tick.replace(tzinfo=None)
    windows = dict.fromkeys(jobs.fact_grains(runner.defs.resolve_job_def(daily.job_name)),
                            daily.window)
    rest = [grain for grain in GRAINS if grain not in windows]
    rest_of_day = []
    for name in jobs.schedules_for_grains(runner.defs, rest):
        scheduled = jobs.scheduled_run(runner.defs, name, daily.tick.date())
        if scheduled is None or scheduled.window is None:
            continue
        say(f"verify: {scheduled.job_name} {scheduled.partitions}")
        measured, _ = runner.job(f"verify: {scheduled.job_name}", scheduled.job_name, as_of,
                                 scheduled)
        rest_of_day.append(measured)
        job = runner.defs.resolve_job_def(scheduled.job_name)
        windows.update(dict.fromkeys(jobs.fact_grains(job), scheduled.window))
    if set(windows) != set(GRAINS):
        raise BenchmarkError(f"verify: no scheduled run recomputes the "
                             f"{', '.join(sorted(set(GRAINS) - set(windows)))} facts")
    say(f"verify: from-scratch build of the final data ({reference.describe()})")
    reference.load(generated, "gen")
    reference_runner = Runner(runner.project, reference, folder / "logs-verify",
                              folder / "reports-verify", runner.timeout, defs=runner.defs)
    # without the data tests: the build is compared, row for row, not tested (the
    # measured full build ran them)
    build, _ = reference_runner.job("verify: from scratch", jobs.FULL_REFRESH_JOB, as_of,
                                    data_tests=False)
    lookback = timedelta(days=LOOKBACK_DAYS)

    def instants(window: tuple[date, date]) -> tuple[datetime, datetime]:
        start, end = (datetime(day.year, day.month, day.day) for day in window)
        return start - lookback, end

    compared = {grain.upper(): instants(window) for grain, window in windows.items()}
    comparison = compare_marts(read_marts(runner.database, compared),
                               read_marts(reference, compared))
    differences = sum(part["differences"] for part in comparison.values())
    if not differences:
        say(f"verify: 0 differences in "
            f"{sum(part['compared'] for part in comparison.values()):,} rows")
    return {
        "enabled": True,
        "rest_of_day": rest_of_day,
        "reference_build": build,
        "compared_windows": {grain: [iso(a), iso(b)] for grain, (a, b) in compared.items()},
        "comparison": comparison,
        "differences": differences,
    }


def read_marts(database: BenchDatabase,
               windows: dict[str, tuple[datetime, datetime]]) -> dict[str, dict[tuple, Row]]:
    """fct_kpi_values rows of the periods each grain's window recomputed (the fact models'
    own rule, on int_tenants__periods), the whole scorecard and tenant status."""
    found: dict[str, dict[tuple, Row]] = {}
    p = warehouse.placeholder(database.engine)
    with database.reader() as cursor:
        fact_rows: list[Row] = []
        for grain, (start, end) in windows.items():
            cursor.execute(
                "select facts.* from marts.fct_kpi_values as facts "
                "inner join intermediate.int_tenants__periods as periods "
                "on facts.tenant_id = periods.tenant_id and facts.grain = periods.grain "
                "and facts.period_start = periods.period_start "
                f"where facts.grain = {p} and periods.period_end_at > {p} "
                f"and periods.period_start_at < {p}", (grain, start, end))
            fact_rows += warehouse.rows(cursor)
        tables = {"fct_kpi_values": fact_rows}
        for mart in ("kpi_scorecard", "tenant_kpi_status"):
            cursor.execute(f"select * from marts.{mart}")
            tables[mart] = warehouse.rows(cursor)
    for mart, rows in tables.items():
        key = MART_KEYS[mart]
        found[mart] = {tuple(row[c] for c in key):
                       {c: v for c, v in row.items() if c not in BUILD_TIMESTAMPS}
                       for row in rows}
    return found


def compare_marts(mine: dict[str, dict[tuple, Row]],
                  reference: dict[str, dict[tuple, Row]]) -> dict[str, Any]:
    """Exact comparison, row by row (build timestamps aside)."""
    found: dict[str, Any] = {}
    for mart in MART_KEYS:
        differences = []
        keys = set(mine[mart]) | set(reference[mart])
        for key in sorted(keys, key=str):
            if mine[mart].get(key) != reference[mart].get(key):
                differences.append({"key": str(key), "incremental": mine[mart].get(key),
                                    "from_scratch": reference[mart].get(key)})
        found[mart] = {"compared": len(keys), "differences": len(differences),
                       "examples": json.loads(json.dumps(differences[:3], default=str))}
    return found
