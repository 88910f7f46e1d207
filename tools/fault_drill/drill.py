"""The fault drill itself: two PostgreSQL databases, the demo data with bad rows, the
product's Dagster jobs run in process (a first full refresh, each simulated day's
scheduled runs with faults, a final full refresh), the reference built by the same full
refresh job over the accepted rows only, and the comparisons."""

from __future__ import annotations

import contextlib
import random
import shutil
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from itsm_kpi import warehouse
from itsm_kpi.demo_data import DemoConfig, generate_postgres
from itsm_kpi.environment import patched_env
from itsm_kpi.paths import copy_project
from tools import jobs
from tools.fault_drill.inject import Injection, inject
from tools.fault_drill.killer import Killer
from tools.fault_drill.raw import ACCEPTED_MODELS, copy_accepted, query, read_raw, write_raw
from tools.fault_drill.results import (
    GRAINS,
    Attempt,
    Comparison,
    DrillConfig,
    DrillResult,
    Row,
    RunRecord,
)
from tools.fault_drill.summary import describe, details

Progress = Callable[[str], None]
MARTS = {  # mart -> its key
    "fct_kpi_values": ("tenant_id", "kpi_name", "grain", "period_start"),
    "kpi_scorecard": ("tenant_id", "kpi_name"),
    "tenant_kpi_status": ("tenant_id",),
}
MEASURED = ("is_complete", "value", "numerator", "denominator", "target", "achievement_pct",
            "status")


class Drill:
    def __init__(self, config: DrillConfig, progress: Progress) -> None:
        self.config = config
        self.say = progress
        token = uuid.uuid4().hex[:10]
        self.database = f"kpi_chaos_{token}"
        self.reference = f"kpi_chaos_{token}_ref"
        self.workdir = Path(tempfile.mkdtemp(prefix="kpi-chaos-"))
        self.project_dir = self.workdir / "project"
        self.log_path = self.workdir / "drill.log"
        self.result = DrillResult(config=config, databases=(self.database, self.reference),
                                  log_path=self.log_path)
        self.killer = Killer(self.database, config.fault_rate,
                             random.Random(f"{config.seed}-faults"))
        self.durations: dict[str, float] = {}
        self.defs: dg.Definitions | None = None
        self.final_as_of = datetime.min  # the last day's daily tick, once defs are built

    # -- project and definitions --------------------------------------------------------
    def env(self, database: str, as_of: str) -> dict[str, str | None]:
        """What the jobs read: the warehouse (profiles.yml), as_of, where reports go."""
        return {**warehouse.dbt_env("postgres", database=database), "KPI_AS_OF": as_of,
                "KPI_REPORT_DIR": str(self.workdir / "reports")}

    def prepare_project(self) -> None:
        """A copy of the dbt project parsed for Dagster, the product's definitions built
        from it, and the schedules the drill runs checked."""
        copy_project(self.project_dir)
        start = self.config.last_day - timedelta(days=self.config.history_days)
        with self.log_path.open("a") as log, jobs.redirected(log), \
                patched_env(warehouse.dbt_env("postgres", database=self.database)):
            project = jobs.prepare_project(self.project_dir, "postgres")
        self.defs = jobs.definitions(project, start)
        names = {schedule.name for schedule in self.defs.get_repository_def().schedule_defs}
        missing = [f"kpi_{grain}_schedule" for grain in self.config.schedules
                   if f"kpi_{grain}_schedule" not in names]
        if missing:
            raise ValueError(f"no {', '.join(missing)} in the definitions "
                             f"(they have {', '.join(sorted(names))})")
        daily = self.defs.resolve_schedule_def(jobs.DAILY_SCHEDULE)
        self.final_as_of = jobs.tick_time(daily, self.config.last_day)

    # -- runs -------------------------------------------------------------------------
    def execute(self, job_name: str, label: str, as_of: str,
                scheduled: jobs.ScheduledRun | None = None) -> RunRecord:
        """One run of a job, rerun while it fails (up to max_attempts), each attempt exposed
        to the killer."""
        assert self.defs is not None
        grains = tuple(jobs.fact_grains(self.defs.resolve_job_def(job_name))) if scheduled else ()
        record = RunRecord(label=label, job=job_name, as_of=as_of,
                           window=scheduled.window if scheduled else None, grains=grains)
        self.result.runs.append(record)
        tags = scheduled.tags if scheduled else None
        # the first attempt of the first scheduled run always gets a (gated) kill
        force = scheduled is not None and not any(run.window for run in self.result.runs[:-1])
        for number in range(1, self.config.max_attempts + 1):
            kill = self.killer.plan(self.durations.get(job_name), forced=force and number == 1)
            with self.log_path.open("a") as log:
                log.write(f"\n=== {label}, attempt {number}, as_of {as_of}, tags {tags}\n")
                log.flush()
                with self.killer.armed(kill):
                    run = jobs.execute(self.defs, job_name, self.env(self.database, as_of),
                                       tags=tags, log=log)
                if kill and kill.happened:
                    log.writelines(f"=== killed pid {pid} ({state}, {node}) at {kill.at:.1f} s: "
                                   f"{sql}\n" for pid, state, node, sql in kill.sessions)
            attempt = Attempt(number=number, success=run.success, seconds=run.seconds,
                              step_retries=run.step_retries, kill=kill, error=run.error[:300])
            record.attempts.append(attempt)
            self.say(f"{label}: attempt {number} {describe(attempt)}")
            if run.success:
                self.durations[job_name] = run.seconds
                break
        return record

    def scheduled_runs(self) -> None:
        """For each simulated day, what each selected schedule launches at its tick, all
        with as_of = the daily tick."""
        assert self.defs is not None
        daily = self.defs.resolve_schedule_def(jobs.DAILY_SCHEDULE)
        for day in self.config.run_days:
            as_of = jobs.iso(jobs.tick_time(daily, day))
            for grain in GRAINS:
                if grain not in self.config.schedules:
                    continue
                scheduled = jobs.scheduled_run(self.defs, f"kpi_{grain}_schedule", day)
                if scheduled is None:
                    self.say(f"{day} kpi_{grain}_schedule: skipped")
                    continue
                first, last = scheduled.partitions
                self.execute(scheduled.job_name,
                             f"{day} {scheduled.job_name} [{first}..{last}]", as_of, scheduled)
                if not self.result.runs[-1].success:
                    return

    def build_reference(self, as_of: str) -> None:
        """The reference: the full refresh job over the accepted rows only, no faults."""
        assert self.defs is not None
        with self.log_path.open("a") as log:
            log.write(f"\n=== reference: {jobs.FULL_REFRESH_JOB}, as_of {as_of}\n")
            run = jobs.execute(self.defs, jobs.FULL_REFRESH_JOB,
                               self.env(self.reference, as_of), log=log)
        if not run.success:
            raise RuntimeError(f"the reference build failed: {run.error}; see {self.log_path}")

    # -- checks -----------------------------------------------------------------------
    def marts(self, database: str) -> dict[str, dict[tuple, Row]]:
        found = {}
        for mart, key in MARTS.items():
            rows = query(database, f"select * from marts.{mart}")
            found[mart] = {tuple(r[c] for c in key):
                           {c: v for c, v in r.items() if c != "calculated_at"} for r in rows}
        return found

    def periods(self, database: str, grain: str, window: tuple[date, date]) -> set[tuple]:
        """(tenant, grain, period_start) of the tenant periods of `grain` a run's window
        recomputes: those whose UTC span overlaps it (the fact models' own rule)."""
        start, end = window
        rows = query(database, "select tenant_id, grain, period_start "
                               "from intermediate.int_tenants__periods "
                               "where grain = %s and period_end_at > %s and period_start_at < %s",
                     (grain.upper(), start, end))
        return {(r["tenant_id"], r["grain"], r["period_start"]) for r in rows}

    def duplicates(self) -> int:
        return query(self.database, "select count(*) as n from (select 1 from marts.fct_kpi_values "
                                    "group by tenant_id, kpi_name, grain, period_start "
                                    "having count(*) > 1) as duplicated")[0]["n"]

    def check_quality(self, injection: Injection) -> None:
        result = self.result
        result.quality = {r["source_table"]: r
                          for r in query(self.database, "select * from marts.raw_data_quality")}
        found = query(self.database, "select source_table, raw_key, rejection_reason "
                                     "from marts.rejected_raw_rows")
        result.found_rejections = Counter((r["source_table"], r["rejection_reason"]) for r in found)
        expected_keys = Counter(injection.rejections)
        found_keys = Counter((r["source_table"], r["raw_key"], r["rejection_reason"])
                             for r in found)
        result.rejection_key_mismatches = sum(((expected_keys - found_keys)
                                               + (found_keys - expected_keys)).values())
        # the drill injects resolved_at mismatches; the demo data's own DORA flags (an
        # incident resolved before its deployment finished...) are not injected faults
        result.found_flags = Counter(
            r["source_table"] for r in query(self.database, "select source_table, flag_reason "
                                                            "from marts.flagged_raw_rows "
                                                            "where flag_reason = "
                                                            "'RESOLVED_AT_MISMATCH'"))
        for table, names in warehouse.RAW_COLUMNS.items():
            accepted = Counter(tuple(r.values()) for r in query(
                self.database, f"select {', '.join(names)} from {ACCEPTED_MODELS[table]}"))
            expected = Counter(tuple(r[n] for n in names) for r in injection.accepted[table])
            result.accepted_mismatches[table] = sum(((accepted - expected)
                                                     + (expected - accepted)).values())

    def compare_scheduled(self, mine: dict[str, dict[tuple, Row]],
                          reference: dict[str, dict[tuple, Row]]) -> None:
        """The rows of the periods the last run recomputing each grain's facts recomputed
        must equal the reference exactly; those only earlier runs recomputed are compared
        on their values, for information."""
        facts, ref_facts = mine["fct_kpi_values"], reference["fct_kpi_values"]
        scheduled = [run for run in self.result.runs if run.window]
        for grain in GRAINS:
            runs = [run for run in scheduled if grain in run.grains]
            if not runs:
                continue
            window = runs[-1].window
            assert window is not None
            last = (self.periods(self.reference, grain, window)
                    | self.periods(self.database, grain, window))
            earlier = set().union(*(self.periods(self.reference, grain, run.window)
                                    for run in runs[:-1] if run.window)) - last
            exact = Comparison(f"{grain} runs vs reference, periods of the last run")
            drift = Comparison(f"{grain} runs vs reference, periods of earlier runs only",
                               required=False)
            for key in sorted(set(facts) | set(ref_facts), key=str):
                period = (key[0], key[2], key[3])
                if period in last:
                    exact.add(key, facts.get(key), ref_facts.get(key))
                elif period in earlier:
                    drift.add(key, measured(facts.get(key)), measured(ref_facts.get(key)))
            self.result.comparisons += [exact, drift]
        for mart in ("kpi_scorecard", "tenant_kpi_status"):
            info = Comparison(f"{mart} after the scheduled runs", required=False)
            for key in sorted(set(mine[mart]) | set(reference[mart]), key=str):
                info.add(key, mine[mart].get(key), reference[mart].get(key))
            self.result.comparisons.append(info)

    def compare_all(self, mine: dict[str, dict[tuple, Row]],
                    reference: dict[str, dict[tuple, Row]]) -> None:
        for mart in MARTS:
            comparison = Comparison(f"{mart} after the final full refresh")
            for key in sorted(set(mine[mart]) | set(reference[mart]), key=str):
                comparison.add(key, mine[mart].get(key), reference[mart].get(key))
            self.result.comparisons.append(comparison)

    def leftovers(self) -> list[str]:
        rows = query(self.database,
                     "select n.nspname || '.' || c.relname as name from pg_class c "
                     "join pg_namespace n on n.oid = c.relnamespace "
                     "where c.relname like '%%\\_\\_dbt\\_%%' and n.nspname not like 'pg\\_%%'")
        return sorted(r["name"] for r in rows)

    # -- the whole drill --------------------------------------------------------------
    def run(self) -> DrillResult:
        config, result = self.config, self.result
        clock = time.monotonic()

        def lap(name: str) -> None:
            nonlocal clock
            result.timings[name] = time.monotonic() - clock
            clock = time.monotonic()

        self.say(f"databases {self.database} and {self.reference}; log {self.log_path}")
        warehouse.create_database(self.database)
        self.prepare_project()
        final_as_of = self.final_as_of.replace(tzinfo=None)
        demo = DemoConfig(requests=config.requests, days=config.history_days,
                          end=final_as_of, seed=config.seed)
        counts = generate_postgres(self.database, demo)
        generated = read_raw(self.database)
        injection = inject(generated, final_as_of, config.bad_pct,
                           random.Random(f"{config.seed}-rows"))
        write_raw(self.database, injection.raw)
        result.clean_rows = dict(counts)
        result.rows_in = {table: len(rows) for table, rows in injection.raw.items()}
        result.normalised = injection.normalised
        result.expected_rejections = Counter((t, reason) for t, _, reason in injection.rejections)
        result.expected_flags = injection.flags
        self.say(f"raw data: {counts} generated, {len(injection.rejections)} bad rows injected")
        lap("data and project")

        first_as_of = jobs.iso(self.final_as_of - timedelta(days=config.days))
        self.execute(jobs.FULL_REFRESH_JOB, f"first load: {jobs.FULL_REFRESH_JOB}", first_as_of)
        if result.runs[-1].success:
            self.scheduled_runs()
        lap("scheduled runs")
        if not all(run.success for run in result.runs):
            return result

        self.check_quality(injection)
        result.duplicate_keys["after the scheduled runs"] = self.duplicates()
        result.leftovers = self.leftovers()
        scheduled = self.marts(self.database)
        warehouse.create_database(self.reference)
        copied = copy_accepted(self.database, self.reference)
        self.say(f"reference: accepted rows copied {copied}; {jobs.FULL_REFRESH_JOB} at "
                 f"{jobs.iso(self.final_as_of)}")
        self.build_reference(jobs.iso(self.final_as_of))
        reference = self.marts(self.reference)
        self.compare_scheduled(scheduled, reference)
        lap("reference build")

        self.execute(jobs.FULL_REFRESH_JOB, f"final: {jobs.FULL_REFRESH_JOB}",
                     jobs.iso(self.final_as_of))
        if result.runs[-1].success:
            result.duplicate_keys["after the final full refresh"] = self.duplicates()
            self.compare_all(self.marts(self.database), reference)
        lap("final full refresh")
        return result


def measured(row: Row | None) -> tuple | None:
    return None if row is None else tuple(row[c] for c in MEASURED)


def run_drill(config: DrillConfig, progress: Progress | None = None) -> DrillResult:
    """Runs the drill; the databases are dropped (unless config.keep) and, when it passed,
    the work folder with the log too."""
    say = progress or (lambda message: None)
    drill = Drill(config, say)
    started = time.monotonic()
    try:
        drill.run()
    except Exception as exc:
        drill.result.problems.append(f"the drill broke: {type(exc).__name__}: {exc}")
        with drill.log_path.open("a") as log:
            log.write(traceback.format_exc())
    finally:
        drill.result.timings["total"] = time.monotonic() - started
        with contextlib.suppress(OSError), drill.log_path.open("a") as log:
            log.write(f"\n{details(drill.result)}\n")
        if not config.keep:
            warehouse.drop_databases(drill.database, drill.reference)
            if drill.result.passed:
                shutil.rmtree(drill.workdir, ignore_errors=True)
                drill.result.log_path = None
    return drill.result
