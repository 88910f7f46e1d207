"""The fault drill (issue 4): bad raw rows, killed connections, and the marts still right.

On PostgreSQL, in two fresh databases (``kpi_chaos_<id>`` and ``kpi_chaos_<id>_ref``):

1. generates demo raw data and injects bad rows, a few percent of each table spread over
   every reason code the quarantine knows for typed raw columns, as new rows and as
   corrupted copies of existing ones (older duplicates), plus accepted noise: codes in
   other cases and with spaces (``' done'``) and ``resolved_at`` values that disagree with
   the status history (flagged, not rejected). Every choice comes from ``--seed``;
2. loads everything through the real Dagster jobs: a first full refresh, then, for each
   simulated day D, what the schedules launch at their tick (the daily one by default:
   partitions D-1 and D), all runs of day D with ``as_of`` = D 00:30 UTC (the daily tick).
   A killer thread terminates the drill database's busy PostgreSQL sessions at a random
   moment of a run attempt with probability ``--fault-rate``; the first scheduled run's
   first attempt is always hit (its session is made to wait on a lock, then terminated),
   so every drill has at least one fault. Dagster retries the step when dbt reports the
   connection loss; a run that still fails is rerun by the drill, up to
   ``--max-attempts`` times;
3. checks: the rows of the periods the last runs recomputed equal a clean ``dbt build`` at
   the same ``as_of`` over the accepted rows only, copied into the reference database; and
   after a final full refresh (also exposed to faults) every row of fct_kpi_values,
   kpi_scorecard and tenant_kpi_status does (exact values, ``calculated_at`` aside); the
   accepted rows are the generated rows, codes normalised; raw = accepted + rejected per
   table; each rejection has the reason its injection planned; no duplicate KPI key.
   Values are compared exactly; ``--float-tolerance`` accepts doubles that differ only in
   their last bits (the engine's sums of doubles depend on the order rows are scanned);
4. prints a summary and exits 0 (PASS) or 1 (FAIL); drops both databases unless --keep.

Periods finalised by an earlier run are not recomputed by the later ones (a request
reopened and resolved again days later moves its resolution): they are compared too, and
their differences reported, but only the final full refresh must match them exactly.

    .venv/bin/python -m tools.fault_drill --days 7 --requests 2000 --fault-rate 0.3
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
import psycopg2
import psycopg2.extras
from dagster_dbt import DbtProject

with warnings.catch_warnings():  # importing the definitions builds them: beta APIs
    warnings.simplefilter("ignore", dg.BetaWarning)
    warnings.simplefilter("ignore", dg.PreviewWarning)
    from orchestration.definitions import build_definitions, dbt_executable
from itsm_kpi.demo_data import DemoConfig, generate_postgres
from itsm_kpi.environment import patched_env
from itsm_kpi.paths import PROJECT_DIR
from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_TABLES
from itsm_kpi.warehouse import postgres_params as postgres_params_from_env
from orchestration.schedules import CRONS, RANGE_END, RANGE_START
from orchestration.settings import Settings

REPO_ROOT = PROJECT_DIR
PROJECT_ITEMS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests")
GRAINS = ("daily", "weekly", "monthly")
FUTURE_TOLERANCE = timedelta(hours=1)  # the quarantine's future_tolerance_hours() default
MARTS = {  # mart -> its key
    "fct_kpi_values": ("tenant_id", "kpi_name", "grain", "period_start"),
    "kpi_scorecard": ("tenant_id", "kpi_name"),
    "tenant_kpi_status": ("tenant_id",),
}
MEASURED = ("is_complete", "value", "numerator", "denominator", "target", "achievement_pct",
            "status")
ACCEPTED_MODELS = {table: f"intermediate.int_{table}__accepted" for table in RAW_TABLES}

# reason codes the drill injects, per raw table (TENANT_TIMEZONE_INVALID needs a seed
# change; the *_NOT_NUMERIC and VALUE_NOT_PARSEABLE codes need text raw columns)
REASONS = {
    "service_requests": (
        "KEY_MISSING", "TENANT_MISSING", "UNKNOWN_REQUEST_TYPE", "UNKNOWN_PRIORITY",
        "UNKNOWN_STATUS", "CREATED_AT_MISSING", "CREATED_IN_FUTURE", "RESOLVED_BEFORE_CREATED",
        "DUPLICATE_KEY",
    ),
    "sr_events": (
        "KEY_MISSING", "REQUEST_MISSING", "TENANT_MISSING", "UNKNOWN_EVENT_TYPE",
        "STATUS_MISSING", "UNKNOWN_STATUS", "ASSIGNEE_MISSING", "EVENT_AT_MISSING",
        "EVENT_IN_FUTURE", "UNKNOWN_REQUEST", "REQUEST_REJECTED", "TENANT_MISMATCH",
        "EVENT_BEFORE_CREATION", "DUPLICATE_KEY",
    ),
    "deployments": (
        "KEY_MISSING", "TENANT_MISSING", "UNKNOWN_STATUS", "STARTED_AT_MISSING",
        "STARTED_IN_FUTURE", "FINISHED_BEFORE_STARTED", "FINISHED_AT_MISSING", "DUPLICATE_KEY",
    ),
}
# garbage codes: none of them normalises to a valid one
BAD_CODES = {
    "request_type": ("PROBLEM", "incidents", "TASK", None),
    "priority": ("P0", "P5", "urgent", None),
    "status": ("WAITING", "closed", "RESOLVED", None),
    "event_type": ("COMMENT", "note", "STATUS_CHANGE", None),
    "new_status": ("PAUSED", "closed", "REOPENED"),
    "deployment_status": ("EXPLODED", "success", "ROLLING"),
}

Progress = Callable[[str], None]
Row = dict[str, Any]


# --- configuration and results ---------------------------------------------------------


@dataclass(frozen=True)
class DrillConfig:
    days: int = 7  # simulated days of scheduled runs, ending with last_day
    requests: int = 2000
    history_days: int = 60  # days of demo data before the last day's as_of
    fault_rate: float = 0.3  # probability that a run attempt gets its connections killed
    bad_pct: float = 3.0  # injected bad rows, percent of each raw table
    seed: int = 42
    last_day: date = date(2026, 11, 3)  # a Tuesday: 7 days cross a Monday and a 1st
    schedules: tuple[str, ...] = ("daily",)
    max_attempts: int = 5  # run attempts before the drill gives up on a run
    keep: bool = False  # keep the databases and the work folder
    # accept doubles that differ from the reference only in their last bits
    float_tolerance: bool = False

    def __post_init__(self) -> None:
        if self.days < 1 or self.requests < 1 or self.history_days <= self.days:
            raise ValueError("need days >= 1, requests >= 1 and history-days > days")
        if not 0 <= self.fault_rate <= 1 or not 0 <= self.bad_pct <= 50:
            raise ValueError("fault-rate must be in [0, 1] and bad-pct in [0, 50]")
        if not self.schedules or set(self.schedules) - set(GRAINS):
            raise ValueError(f"schedules must be among {', '.join(GRAINS)}")
        if self.max_attempts < 1:
            raise ValueError("max-attempts must be >= 1")

    @property
    def final_as_of(self) -> datetime:
        return tick_time("daily", self.last_day)

    @property
    def run_days(self) -> list[date]:
        return [self.last_day - timedelta(days=n) for n in range(self.days - 1, -1, -1)]


@dataclass
class Kill:
    planned_after: float  # seconds into the attempt
    gated: bool = False  # the session is made to wait on a lock, then terminated
    at: float | None = None  # when it happened
    # pid, state, dbt node, statement (start)
    sessions: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def happened(self) -> bool:
        return bool(self.sessions)


@dataclass
class Attempt:
    number: int
    success: bool
    seconds: float
    step_retries: int
    kill: Kill | None
    error: str = ""


@dataclass
class RunRecord:
    label: str
    job: str
    as_of: str
    window: tuple[str, date, date] | None  # grain, first day, day after the last period
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].success


def last_bits_only(mine: Any, reference: Any) -> bool:
    """Two rows (dicts or tuples) that differ only in the last bits of some doubles (a
    relative difference below 1e-12): what summing the same numbers in another order gives."""
    if mine is None or reference is None or type(mine) is not type(reference):
        return False
    if isinstance(mine, dict):
        if mine.keys() != reference.keys():
            return False
        mine, reference = list(mine.values()), list(reference.values())
    return all(a == b or (isinstance(a, float) and isinstance(b, float)
                          and math.isclose(a, b, rel_tol=1e-12))
               for a, b in zip(mine, reference, strict=True))


@dataclass
class Comparison:
    name: str
    compared: int = 0
    mismatches: int = 0  # rows that differ (missing, extra or another value)
    last_bits: int = 0  # of those, rows whose doubles differ only in their last bits
    examples: list[str] = field(default_factory=list)
    required: bool = True  # part of the verdict (else informational)

    def add(self, key: tuple, mine: Any, reference: Any) -> None:
        self.compared += 1
        if mine != reference:
            self.mismatches += 1
            self.last_bits += last_bits_only(mine, reference)
            if len(self.examples) < 5:
                self.examples.append(f"{key}: drill {mine} != reference {reference}")

    def failures(self, float_tolerance: bool) -> int:
        return self.mismatches - self.last_bits if float_tolerance else self.mismatches


@dataclass
class DrillResult:
    config: DrillConfig
    databases: tuple[str, str]
    rows_in: dict[str, int] = field(default_factory=dict)
    clean_rows: dict[str, int] = field(default_factory=dict)
    normalised: dict[str, int] = field(default_factory=dict)
    expected_rejections: Counter = field(default_factory=Counter)  # (table, reason)
    found_rejections: Counter = field(default_factory=Counter)
    rejection_key_mismatches: int = 0
    expected_flags: Counter = field(default_factory=Counter)  # table
    found_flags: Counter = field(default_factory=Counter)
    quality: dict[str, Row] = field(default_factory=dict)
    accepted_mismatches: dict[str, int] = field(default_factory=dict)
    runs: list[RunRecord] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    duplicate_keys: dict[str, int] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def attempts(self) -> list[Attempt]:
        return [attempt for run in self.runs for attempt in run.attempts]

    @property
    def faults(self) -> int:
        """Kills that terminated at least one session."""
        return sum(1 for a in self.attempts if a.kill and a.kill.happened)

    @property
    def step_retries(self) -> int:
        return sum(a.step_retries for a in self.attempts)

    @property
    def reruns(self) -> int:
        return sum(len(run.attempts) - 1 for run in self.runs)

    @property
    def retries(self) -> int:
        return self.step_retries + self.reruns

    @property
    def passed(self) -> bool:
        return not self.verdict_problems()

    def verdict_problems(self) -> list[str]:
        problems = list(self.problems)
        problems += [f"run failed {len(r.attempts)} times: {r.label}"
                     for r in self.runs if not r.success]
        tolerant = self.config.float_tolerance
        problems += [f"{c.name}: {c.failures(tolerant)} of {c.compared} rows differ"
                     + (f" ({c.last_bits} only in the last bits of a double)"
                        if c.last_bits and not tolerant else "")
                     for c in self.comparisons if c.required and c.failures(tolerant)]
        if self.expected_rejections != self.found_rejections or self.rejection_key_mismatches:
            problems.append("rejected rows differ from the injected ones")
        if self.expected_flags != self.found_flags:
            problems.append("flagged rows differ from the injected resolved_at mismatches")
        for table, row in self.quality.items():
            if row["raw_rows"] != row["accepted_rows"] + row["rejected_rows"]:
                problems.append(f"{table}: raw rows != accepted + rejected")
            if row["raw_rows"] != self.rows_in.get(table):
                problems.append(
                    f"{table}: {row['raw_rows']} raw rows, {self.rows_in.get(table)} loaded")
        if len(self.quality) != len(RAW_TABLES):
            problems.append("raw_data_quality does not have one row per raw table")
        problems += [f"{table}: {n} accepted rows differ from the generated ones"
                     for table, n in self.accepted_mismatches.items() if n]
        problems += [f"{when}: {n} duplicate (tenant_id, kpi_name, grain, period_start)"
                     for when, n in self.duplicate_keys.items() if n]
        return problems


# --- small helpers ----------------------------------------------------------------------


def tick_time(grain: str, day: date) -> datetime:
    """The UTC moment the schedule of `grain` ticks on `day` (its cron is 'M H * * *')."""
    minute, hour = (int(part) for part in CRONS[grain].split()[:2])
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pg_params(dbname: str) -> dict[str, Any]:
    params = postgres_params_from_env()
    params["dbname"] = dbname
    return params


@contextlib.contextmanager
def connection(dbname: str) -> Iterator[Any]:
    conn = psycopg2.connect(**pg_params(dbname))
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def query(dbname: str, sql: str, params: tuple = ()) -> list[Row]:
    with connection(dbname) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def window_of(grain: str, first: str, last: str) -> tuple[str, date, date]:
    """The UTC recompute window of a partition range: first day, day after the last period."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if grain == "daily":
        end += timedelta(days=1)
    elif grain == "weekly":
        end += timedelta(days=7)
    else:
        end = (end.replace(day=28) + timedelta(days=4)).replace(day=1)
    return grain, start, end


# --- bad rows ---------------------------------------------------------------------------


@dataclass
class Injection:
    raw: dict[str, list[Row]]  # what is loaded: the generated rows, some noisy, + bad rows
    accepted: dict[str, list[Row]]  # what the quarantine must accept (codes normalised)
    rejections: list[tuple[str, str | None, str]]  # (table, raw key, reason)
    flags: Counter  # table -> rows flagged RESOLVED_AT_MISMATCH
    normalised: dict[str, int]


def noisy(code: str, rng: random.Random) -> str:
    """The same code in another case and/or with spaces around: read as the code."""
    variants = [code.lower(), f" {code}", f"{code} ", f"  {code.lower()} ", code.capitalize()]
    return rng.choice([v for v in variants if v != code])


def inject(generated: dict[str, list[Row]], as_of: datetime, bad_pct: float,
           rng: random.Random) -> Injection:
    """Bad rows for every reason of REASONS (each built so that this reason is the first
    rule it breaks), noise the quarantine must read through, and resolved_at mismatches."""
    raw = copy.deepcopy(generated)
    accepted = copy.deepcopy(generated)
    rejections: list[tuple[str, str | None, str]] = []
    flags: Counter = Counter()
    normalised: dict[str, int] = {}
    added: dict[str, list[Row]] = {table: [] for table in RAW_TABLES}

    def per_kind(table: str) -> int:
        return max(2, round(bad_pct / 100 * len(generated[table]) / len(REASONS[table])))

    # rows changed in place or copied with their key are picked once each
    untouched = {table: rng.sample(range(len(rows)), len(rows))
                 for table, rows in generated.items()}

    def pick(table: str, accept: Callable[[Row], bool]) -> int:
        for position, index in enumerate(untouched[table]):
            if accept(generated[table][index]):
                return untouched[table].pop(position)
        raise RuntimeError(f"no {table} row left to corrupt: lower --bad-pct")

    max_key = {table: max(r[PRIMARY_KEYS[table]] for r in rows)
               for table, rows in generated.items()}
    max_key["service_requests"] = max(max_key["service_requests"],
                                      max(e["sr_id"] for e in generated["sr_events"]))
    next_key = {table: key + 1_000_000 for table, key in max_key.items()}
    unknown_sr_id = max_key["service_requests"] + 5_000_000

    def new_key(table: str) -> int:
        next_key[table] += 1
        return next_key[table]

    def reject(table: str, row: Row, reason: str) -> None:
        added[table].append(row)
        key = row[PRIMARY_KEYS[table]]
        rejections.append((table, None if key is None else str(key), reason))

    def future() -> datetime:
        return as_of + FUTURE_TOLERANCE + timedelta(minutes=rng.randint(30, 3 * 24 * 60))

    def earlier(moment: datetime, most_hours: int = 48) -> datetime:
        return moment - timedelta(minutes=rng.randint(1, most_hours * 60))

    # service requests -------------------------------------------------------------------
    requests = generated["service_requests"]
    rejected_requests: list[Row] = []  # with a key: their events are REQUEST_REJECTED
    for reason in REASONS["service_requests"]:
        for _ in range(per_kind("service_requests")):
            base = dict(rng.choice(requests), sr_id=new_key("service_requests"))
            if reason == "KEY_MISSING":
                base["sr_id"] = None
            elif reason == "TENANT_MISSING":
                base["tenant_id"] = None
            elif reason == "UNKNOWN_REQUEST_TYPE":
                base["request_type"] = rng.choice(BAD_CODES["request_type"])
            elif reason == "UNKNOWN_PRIORITY":
                base["priority"] = rng.choice(BAD_CODES["priority"])
            elif reason == "UNKNOWN_STATUS":
                base["status"] = rng.choice(BAD_CODES["status"])
            elif reason == "CREATED_AT_MISSING":
                base["created_at"] = None
            elif reason == "CREATED_IN_FUTURE":
                base.update(created_at=future(), status="OPEN", resolved_at=None)
                base["updated_at"] = base["created_at"]
            elif reason == "RESOLVED_BEFORE_CREATED":
                base.update(status="DONE", resolved_at=earlier(base["created_at"]))
            elif reason == "DUPLICATE_KEY":
                # an older version of a request: the latest updated_at wins
                index = pick("service_requests",
                             lambda r: r["updated_at"] > r["created_at"])
                base = dict(requests[index], status="OPEN", resolved_at=None, assignee_id=None,
                            updated_at=requests[index]["created_at"])
            reject("service_requests", base, reason)
            if base["sr_id"] is not None and reason != "DUPLICATE_KEY":
                rejected_requests.append(base)

    with_history = {e["sr_id"] for e in generated["sr_events"] if e["event_type"] == "STATUS"}
    for n in range(per_kind("service_requests")):
        # the row's resolved_at disagrees with its status history (which wins): flagged
        index = pick("service_requests", lambda r: r["status"] == "DONE"
                     and r["resolved_at"] is not None and r["sr_id"] in with_history)
        resolved = (None if n % 3 == 2 else
                    requests[index]["resolved_at"] + timedelta(minutes=rng.randint(5, 600)))
        raw["service_requests"][index]["resolved_at"] = resolved
        accepted["service_requests"][index]["resolved_at"] = resolved
        flags["service_requests"] += 1

    # events -----------------------------------------------------------------------------
    events = generated["sr_events"]
    by_sr_id = {r["sr_id"]: r for r in requests}
    for reason in REASONS["sr_events"]:
        for _ in range(per_kind("sr_events")):
            base = dict(rng.choice(events), event_id=new_key("sr_events"))
            if reason == "KEY_MISSING":
                base["event_id"] = None
            elif reason == "REQUEST_MISSING":
                base["sr_id"] = None
            elif reason == "TENANT_MISSING":
                base["tenant_id"] = None
            elif reason == "UNKNOWN_EVENT_TYPE":
                base["event_type"] = rng.choice(BAD_CODES["event_type"])
            elif reason == "STATUS_MISSING":
                base.update(event_type="STATUS", new_status=None)
            elif reason == "UNKNOWN_STATUS":
                base.update(event_type="STATUS", new_status=rng.choice(BAD_CODES["new_status"]))
            elif reason == "ASSIGNEE_MISSING":
                base.update(event_type="ASSIGNMENT", new_status=None, new_assignee_id=None)
            elif reason == "EVENT_AT_MISSING":
                base["event_at"] = None
            elif reason == "EVENT_IN_FUTURE":
                base["event_at"] = future()
            elif reason == "UNKNOWN_REQUEST":
                unknown_sr_id += 1
                base["sr_id"] = unknown_sr_id
            elif reason == "REQUEST_REJECTED":
                request = rng.choice(rejected_requests)
                base.update(sr_id=request["sr_id"], tenant_id=request["tenant_id"] or 1)
            elif reason == "TENANT_MISMATCH":
                tenant = by_sr_id[base["sr_id"]]["tenant_id"]
                others = sorted({r["tenant_id"] for r in requests} - {tenant})
                base["tenant_id"] = rng.choice(others)
            elif reason == "EVENT_BEFORE_CREATION":
                base["event_at"] = earlier(by_sr_id[base["sr_id"]]["created_at"])
            elif reason == "DUPLICATE_KEY":
                # the same event delivered twice: one copy is kept
                base = dict(events[pick("sr_events", lambda r: True)])
            reject("sr_events", base, reason)

    # deployments ------------------------------------------------------------------------
    deployments = generated["deployments"]
    for reason in REASONS["deployments"]:
        for _ in range(per_kind("deployments")):
            base = dict(rng.choice(deployments), deployment_id=new_key("deployments"))
            if reason == "KEY_MISSING":
                base["deployment_id"] = None
            elif reason == "TENANT_MISSING":
                base["tenant_id"] = None
            elif reason == "UNKNOWN_STATUS":
                base["status"] = rng.choice(BAD_CODES["deployment_status"])
            elif reason == "STARTED_AT_MISSING":
                base["started_at"] = None
            elif reason == "STARTED_IN_FUTURE":
                base.update(started_at=future(), finished_at=None, status="IN_PROGRESS")
            elif reason == "FINISHED_BEFORE_STARTED":
                base.update(status="DEPLOYED", finished_at=earlier(base["started_at"], 5))
            elif reason == "FINISHED_AT_MISSING":
                base.update(status=rng.choice(("DEPLOYED", "FAILED", "ROLLED_BACK")),
                            finished_at=None)
            elif reason == "DUPLICATE_KEY":
                # a running copy of a finished deployment: the latest finished_at wins
                index = pick("deployments", lambda r: r["finished_at"] is not None)
                base = dict(deployments[index], status="IN_PROGRESS", finished_at=None)
            reject("deployments", base, reason)

    # noise: codes in other cases and with spaces, accepted as the clean codes -----------
    code_columns = {"service_requests": ("request_type", "priority", "status"),
                    "sr_events": ("event_type", "new_status"), "deployments": ("status",)}
    for table, columns in code_columns.items():
        normalised[table] = per_kind(table)
        for _ in range(normalised[table]):
            row = raw[table][pick(table, lambda r: True)]
            for column in columns:
                if row[column] is not None:
                    row[column] = noisy(row[column], rng)

    for table in RAW_TABLES:
        raw[table] += added[table]
    return Injection(raw=raw, accepted=accepted, rejections=rejections, flags=flags,
                     normalised=normalised)


def read_raw(dbname: str) -> dict[str, list[Row]]:
    return {
        table: query(dbname, f"select {', '.join(c for c, _ in columns)} from raw.{table} "
                             f"order by {PRIMARY_KEYS[table]}")
        for table, columns in RAW_TABLES.items()
    }


def write_raw(dbname: str, raw: Mapping[str, list[Row]]) -> None:
    """Replaces the rows of the raw tables (created with the contract's types if needed)."""
    with connection(dbname) as conn, conn.cursor() as cursor:
        cursor.execute("create schema if not exists raw")
        for table, columns in RAW_TABLES.items():
            names = [name for name, _ in columns]
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
            cursor.execute(f"create table if not exists raw.{table} ({ddl})")
            cursor.execute(f"delete from raw.{table}")
            psycopg2.extras.execute_values(
                cursor, f"insert into raw.{table} ({', '.join(names)}) values %s",
                [[row[name] for name in names] for row in raw.get(table, [])], page_size=2000)
            cursor.execute(f"analyze raw.{table}")


def copy_accepted(source: str, target: str) -> dict[str, int]:
    """The accepted rows of `source` (its intermediate.int_*__accepted models) as the raw
    tables of `target`, with the raw contract's columns."""
    counts = {}
    with connection(source) as src, connection(target) as dst:
        with dst.cursor() as cursor:
            cursor.execute("create schema if not exists raw")
        for table, columns in RAW_TABLES.items():
            names = ", ".join(name for name, _ in columns)
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
            buffer = io.StringIO()
            with src.cursor() as cursor:
                cursor.copy_expert(f"copy (select {names} from {ACCEPTED_MODELS[table]}) "
                                   "to stdout", buffer)
            buffer.seek(0)
            with dst.cursor() as cursor:
                cursor.execute(f"create table raw.{table} ({ddl})")
                cursor.copy_expert(f"copy raw.{table} ({names}) from stdin", buffer)
                cursor.execute(f"select count(*) from raw.{table}")
                counts[table] = cursor.fetchone()[0]
    return counts


# --- faults -----------------------------------------------------------------------------

# the busy sessions of a database, all terminated at once, when at least one is running a
# statement (so a kill always hits work in progress)
KILL_SQL = """
with busy as (
    select pid, state, query from pg_stat_activity
    where datname = %s and pid <> pg_backend_pid() and backend_type = 'client backend'
        and state is not null and state <> 'idle'
)
select pid, state, query, pg_terminate_backend(pid) from busy
where exists (select 1 from busy where state = 'active')
"""
# the sessions waiting for a lock the gate holds, terminated
GATE_KILL_SQL = """
select pid, state, query, pg_terminate_backend(pid) from pg_stat_activity
where %s = any(pg_blocking_pids(pid)) and backend_type = 'client backend'
"""
GATE_TABLE = "raw.service_requests"
NODE_ID = re.compile(r'"(?:node_id|connection_name)":\s*"([^"]+)"')


class Killer:
    """Decides which run attempts get a fault, and kills. A planned kill waits a random
    time, then terminates the database's busy sessions as soon as one runs a statement. A
    forced kill is gated instead, so it always hits a statement: the killer locks
    raw.service_requests before the attempt starts, waits for a session to block on it,
    terminates that session and releases the lock."""

    def __init__(self, database: str, rate: float, rng: random.Random) -> None:
        self.database = database
        self.rate = rate
        self.rng = rng

    def plan(self, expected_seconds: float | None, forced: bool = False) -> Kill | None:
        """A kill at a random moment of an attempt expected to last `expected_seconds`
        (unknown: the first seconds), with probability `rate`; a gated one when forced."""
        if forced:
            return Kill(planned_after=0.0, gated=True)
        if self.rng.random() >= self.rate:
            return None
        if expected_seconds is None:
            return Kill(planned_after=self.rng.uniform(1.0, 8.0))
        return Kill(planned_after=self.rng.uniform(0.03, 0.97) * expected_seconds)

    @contextlib.contextmanager
    def armed(self, kill: Kill | None) -> Iterator[None]:
        if kill is None:
            yield
            return
        gate = None
        if kill.gated:  # locked before the attempt starts: its first touch of the table waits
            gate = psycopg2.connect(**pg_params(self.database))
            with gate.cursor() as cursor:
                cursor.execute(f"lock table {GATE_TABLE} in access exclusive mode")
        stop = threading.Event()
        thread = threading.Thread(target=self._hunt, args=(kill, stop, time.monotonic(), gate),
                                  name="chaos-killer", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            if gate is not None:
                gate.close()  # rolls back: releases the lock if the attempt never waited

    def _hunt(self, kill: Kill, stop: threading.Event, started: float, gate: Any) -> None:
        if stop.wait(kill.planned_after):
            return  # the attempt ended first
        with contextlib.closing(psycopg2.connect(**pg_params(self.database))) as conn:
            conn.autocommit = True
            while not stop.is_set():
                with conn.cursor() as cursor:
                    if gate is not None:
                        cursor.execute(GATE_KILL_SQL, (gate.get_backend_pid(),))
                    else:
                        cursor.execute(KILL_SQL, (self.database,))
                    rows = cursor.fetchall()
                if rows:
                    kill.at = time.monotonic() - started
                    kill.sessions = [
                        (pid, state, (NODE_ID.search(sql or "") or [None, "?"])[1],
                         " ".join((sql or "").split())[:160])
                        for pid, state, sql, _ in rows
                    ]
                    if gate is not None:
                        gate.rollback()  # open the gate: the other sessions go on
                    return
                stop.wait(0.05)


# --- the drill --------------------------------------------------------------------------


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

    # -- databases and project --------------------------------------------------------
    def create_database(self, name: str) -> None:
        with contextlib.closing(psycopg2.connect(**pg_params("postgres"))) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(f'create database "{name}"')

    def drop_databases(self) -> None:
        with contextlib.closing(psycopg2.connect(**pg_params("postgres"))) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                for name in (self.database, self.reference):
                    cursor.execute(f'drop database if exists "{name}" with (force)')

    @contextlib.contextmanager
    def quiet(self) -> Iterator[TextIO]:
        """dbt's and Dagster's output goes to the drill's log file."""
        with self.log_path.open("a") as log, contextlib.redirect_stdout(log), \
                contextlib.redirect_stderr(log):
            yield log

    def dbt(self, *args: str, database: str, as_of: str, target: str) -> None:
        command = [dbt_executable(), *args, "--project-dir", str(self.project_dir),
                   "--profiles-dir", str(self.project_dir), "--target", "postgres",
                   "--target-path", str(self.project_dir / target),
                   "--log-path", str(self.workdir / "logs")]
        env = {**os.environ, "PGDATABASE": database, "KPI_AS_OF": as_of,
               "DBT_TARGET": "postgres"}
        for name in ("KPI_MIN_DATE", "KPI_MAX_DATE", "KPI_ONLY"):
            env.pop(name, None)
        with self.log_path.open("a") as log:
            log.write(f"\n$ {' '.join(command)}\n")
            log.flush()
            code = subprocess.call(command, cwd=self.project_dir, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        if code != 0:
            raise RuntimeError(f"dbt {' '.join(args)} failed (exit {code}); see {self.log_path}")

    def prepare_project(self) -> None:
        """A copy of the dbt project (own target and logs folders), parsed for Dagster."""
        self.project_dir.mkdir()
        for item in PROJECT_ITEMS:
            source = REPO_ROOT / item
            if source.is_dir():
                shutil.copytree(source, self.project_dir / item)
            else:
                shutil.copy2(source, self.project_dir / item)
        self.dbt("parse", database=self.database, as_of=iso(self.config.final_as_of),
                 target="target")
        project = DbtProject(project_dir=self.project_dir, profiles_dir=self.project_dir,
                             target="postgres")
        start = (self.config.final_as_of - timedelta(days=self.config.history_days)).date()
        self.defs = build_definitions(Settings(partitions_start=start.isoformat()), project)

    # -- runs -------------------------------------------------------------------------
    def execute(self, job_name: str, label: str, as_of: str, tags: dict[str, str] | None,
                window: tuple[str, date, date] | None) -> RunRecord:
        """One run of a job, rerun while it fails (up to max_attempts), each attempt exposed
        to the killer."""
        assert self.defs is not None
        job = self.defs.resolve_job_def(job_name)
        record = RunRecord(label=label, job=job_name, as_of=as_of, window=window)
        self.result.runs.append(record)
        env = {"PGDATABASE": self.database, "DBT_TARGET": "postgres", "KPI_AS_OF": as_of,
               "KPI_MIN_DATE": None, "KPI_MAX_DATE": None, "KPI_ONLY": None}
        # the first attempt of the first scheduled run always gets a (gated) kill
        force = window is not None and not any(run.window for run in self.result.runs[:-1])
        for number in range(1, self.config.max_attempts + 1):
            kill = self.killer.plan(self.durations.get(job_name), forced=force and number == 1)
            started = time.monotonic()
            error = ""
            with patched_env(env), self.quiet() as log, self.killer.armed(kill):
                log.write(f"\n=== {label}, attempt {number}, as_of {as_of}, tags {tags}\n")
                try:
                    outcome = job.execute_in_process(
                        tags=tags, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
                    events = outcome.all_events
                    success = outcome.success
                except Exception as exc:  # the run machinery itself broke: a failed attempt
                    events, success, error = [], False, f"{type(exc).__name__}: {exc}"
            seconds = time.monotonic() - started
            if kill and kill.happened:
                with self.log_path.open("a") as log:
                    log.writelines(f"=== killed pid {pid} ({state}, {node}) at {kill.at:.1f} s: "
                                   f"{sql}\n" for pid, state, node, sql in kill.sessions)
            retries = sum(1 for e in events if e.event_type_value == "STEP_UP_FOR_RETRY")
            if not success and not error:
                failures = [e for e in events if e.event_type_value == "STEP_FAILURE"]
                error = (failures[0].message if failures else "run failed") or "run failed"
            attempt = Attempt(number=number, success=success, seconds=seconds,
                              step_retries=retries, kill=kill, error=error[:300])
            record.attempts.append(attempt)
            self.say(f"{label}: attempt {number} {describe(attempt)}")
            if success:
                self.durations[job_name] = seconds
                break
        return record

    def scheduled_runs(self) -> None:
        """For each simulated day, what each selected schedule launches at its tick."""
        assert self.defs is not None
        for day in self.config.run_days:
            as_of = iso(tick_time("daily", day))
            for grain in GRAINS:
                if grain not in self.config.schedules:
                    continue
                schedule = self.defs.resolve_schedule_def(f"kpi_{grain}_schedule")
                context = dg.build_schedule_context(scheduled_execution_time=tick_time(grain, day))
                requests = schedule.evaluate_tick(context).run_requests or []
                if not requests:
                    self.say(f"{day} {schedule.name}: skipped")
                    continue
                tags = dict(requests[0].tags)
                first, last = tags[RANGE_START], tags[RANGE_END]
                self.execute(schedule.job_name, f"{day} {schedule.job_name} [{first}..{last}]",
                             as_of, tags, window_of(grain, first, last))
                if not self.result.runs[-1].success:
                    return

    # -- checks -----------------------------------------------------------------------
    def marts(self, dbname: str) -> dict[str, dict[tuple, Row]]:
        found = {}
        for mart, key in MARTS.items():
            rows = query(dbname, f"select * from marts.{mart}")
            found[mart] = {tuple(r[c] for c in key):
                           {c: v for c, v in r.items() if c != "calculated_at"} for r in rows}
        return found

    def periods(self, dbname: str, window: tuple[str, date, date]) -> set[tuple]:
        """(tenant, grain, period_start) of the tenant periods a run's window recomputes:
        those whose UTC span overlaps it (the fact models' own rule)."""
        grain, start, end = window
        rows = query(dbname, "select tenant_id, grain, period_start "
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
        result.found_flags = Counter(
            r["source_table"] for r in query(self.database, "select source_table, flag_reason "
                                                            "from marts.flagged_raw_rows"))
        for table, columns in RAW_TABLES.items():
            names = [name for name, _ in columns]
            accepted = Counter(tuple(r.values()) for r in query(
                self.database, f"select {', '.join(names)} from {ACCEPTED_MODELS[table]}"))
            expected = Counter(tuple(r[n] for n in names) for r in injection.accepted[table])
            result.accepted_mismatches[table] = sum(((accepted - expected)
                                                     + (expected - accepted)).values())

    def compare_scheduled(self, mine: dict[str, dict[tuple, Row]],
                          reference: dict[str, dict[tuple, Row]]) -> None:
        """The rows of the periods the last run of each grain recomputed must equal the
        reference exactly; those only earlier runs recomputed are compared on their
        values, for information."""
        facts, ref_facts = mine["fct_kpi_values"], reference["fct_kpi_values"]
        scheduled = [run for run in self.result.runs if run.window]
        for grain in self.config.schedules:
            runs = [run for run in scheduled if run.window and run.window[0] == grain]
            if not runs:
                continue
            last = self.periods(self.reference, runs[-1].window) | self.periods(
                self.database, runs[-1].window)
            earlier = set().union(*(self.periods(self.reference, r.window)
                                    for r in runs[:-1])) - last
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
        self.create_database(self.database)
        demo = DemoConfig(requests=config.requests, days=config.history_days,
                          end=config.final_as_of.replace(tzinfo=None), seed=config.seed)
        counts = generate_postgres(self.database, demo)
        generated = read_raw(self.database)
        injection = inject(generated, config.final_as_of.replace(tzinfo=None), config.bad_pct,
                           random.Random(f"{config.seed}-rows"))
        write_raw(self.database, injection.raw)
        result.clean_rows = dict(counts)
        result.rows_in = {table: len(rows) for table, rows in injection.raw.items()}
        result.normalised = injection.normalised
        result.expected_rejections = Counter((t, reason) for t, _, reason in injection.rejections)
        result.expected_flags = injection.flags
        self.say(f"raw data: {counts} generated, {len(injection.rejections)} bad rows injected")
        self.prepare_project()
        lap("data and project")

        first_as_of = iso(tick_time("daily", config.run_days[0]) - timedelta(days=1))
        self.execute("kpi_full_refresh_job", "first load: kpi_full_refresh_job", first_as_of,
                     None, None)
        if result.runs[-1].success:
            self.scheduled_runs()
        lap("scheduled runs")
        if not all(run.success for run in result.runs):
            return result

        self.check_quality(injection)
        result.duplicate_keys["after the scheduled runs"] = self.duplicates()
        result.leftovers = self.leftovers()
        scheduled = self.marts(self.database)
        self.create_database(self.reference)
        copied = copy_accepted(self.database, self.reference)
        self.say(f"reference: accepted rows copied {copied}; "
                 f"dbt build at {iso(config.final_as_of)}")
        self.dbt("build", database=self.reference, as_of=iso(config.final_as_of),
                 target="target-reference")
        reference = self.marts(self.reference)
        self.compare_scheduled(scheduled, reference)
        lap("reference build")

        self.execute("kpi_full_refresh_job", "final: kpi_full_refresh_job",
                     iso(config.final_as_of), None, None)
        if result.runs[-1].success:
            result.duplicate_keys["after the final full refresh"] = self.duplicates()
            self.compare_all(self.marts(self.database), reference)
        lap("final full refresh")
        return result


def measured(row: Row | None) -> tuple | None:
    return None if row is None else tuple(row[c] for c in MEASURED)


def describe(attempt: Attempt) -> str:
    parts = ["ok" if attempt.success else "FAILED", f"in {attempt.seconds:.0f} s"]
    kill = attempt.kill
    if kill and kill.happened:
        nodes = sorted({node.split(".")[-1] for _, _, node, _ in kill.sessions})
        parts.append(f"- killed {len(kill.sessions)} session(s) at {kill.at:.1f} s "
                     f"({', '.join(nodes)})")
    elif kill:
        parts.append(f"- kill planned at {kill.planned_after:.1f} s, the run ended first")
    if attempt.step_retries:
        parts.append(f"- Dagster retried the step {attempt.step_retries} time(s)")
    if not attempt.success:
        parts.append(f"- {attempt.error.splitlines()[0] if attempt.error else ''}")
    return " ".join(parts)


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
            drill.drop_databases()
            if drill.result.passed:
                shutil.rmtree(drill.workdir, ignore_errors=True)
                drill.result.log_path = None
    return drill.result


# --- the summary ------------------------------------------------------------------------


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def summary(result: DrillResult) -> str:
    config = result.config
    tables = list(RAW_TABLES)
    lines = [
        f"Fault drill on PostgreSQL: {config.days} day(s) of {', '.join(config.schedules)} "
        f"runs ({config.run_days[0]} .. {config.last_day}, as_of D 00:30 UTC), "
        f"{config.requests:,} requests, {config.history_days} days of history, seed "
        f"{config.seed}, fault rate {config.fault_rate:.2f}, bad rows {config.bad_pct:g} %",
        "",
        f"{'raw table':<22}" + "".join(f"{t:>18}" for t in tables),
    ]

    def table_row(name: str, values: list[str]) -> None:
        lines.append(f"{name:<22}" + "".join(f"{v:>18}" for v in values))

    def pair(found: Any, expected: Any) -> str:
        return f"{found:,} / {expected:,}" if found is not None else f"? / {expected:,}"

    quality = result.quality
    table_row("rows in", [f"{result.rows_in.get(t, 0):,}" for t in tables])
    table_row("accepted (found/exp.)", [pair(quality.get(t, {}).get("accepted_rows"),
                                             result.clean_rows.get(t, 0)) for t in tables])
    table_row("rejected (found/exp.)", [pair(quality.get(t, {}).get("rejected_rows"),
                                             sum(n for (tt, _), n in
                                                 result.expected_rejections.items() if tt == t))
                                        for t in tables])
    table_row("flagged (found/exp.)", [pair(result.found_flags.get(t, 0),
                                            result.expected_flags.get(t, 0)) for t in tables])
    table_row("noisy codes, accepted", [f"{result.normalised.get(t, 0):,}" for t in tables])
    table_row("raw = acc. + rej.", [
        "?" if t not in quality else
        "yes" if quality[t]["raw_rows"] == quality[t]["accepted_rows"] + quality[t]["rejected_rows"]
        else "NO" for t in tables])
    table_row("accepted = generated", [
        "?" if t not in result.accepted_mismatches else
        "yes" if not result.accepted_mismatches[t] else f"NO ({result.accepted_mismatches[t]})"
        for t in tables])

    lines += ["", f"{'rejected by reason':<42}{'expected':>10}{'found':>8}"]
    reasons = sorted(set(result.expected_rejections) | set(result.found_rejections),
                     key=lambda k: (tables.index(k[0]) if k[0] in tables else 9, k[1]))
    for table, reason in reasons:
        expected, found = result.expected_rejections[(table, reason)], result.found_rejections[
            (table, reason)]
        mark = "" if expected == found else "   <-- differs"
        lines.append(f"  {table:<17}{reason:<23}{expected:>10}{found:>8}{mark}")
    lines.append(f"  rejections with another key or reason than injected: "
                 f"{result.rejection_key_mismatches}")

    lines += ["", f"{'runs':<54}{'attempts':>9}{'kills':>7}{'step retries':>14}{'time':>9}"]
    for run in result.runs:
        kills = sum(1 for a in run.attempts if a.kill and a.kill.happened)
        retries = sum(a.step_retries for a in run.attempts)
        seconds = sum(a.seconds for a in run.attempts)
        status = "" if run.success else "  FAILED"
        lines.append(f"  {run.label:<52}{len(run.attempts):>9}{kills:>7}{retries:>14}"
                     f"{seconds:>8.0f}s{status}")
    planned = sum(1 for a in result.attempts if a.kill)
    sessions = sum(len(a.kill.sessions) for a in result.attempts if a.kill)
    hits = [a for a in result.attempts if a.kill and a.kill.happened]
    failed = sum(1 for a in hits if not a.success)
    recovered = sum(1 for a in hits if a.success and a.step_retries)
    lines.append(
        f"  faults injected: {result.faults} kill(s), {sessions} sessions terminated: "
        f"{failed} failed their attempt (rerun by the drill), {recovered} recovered by "
        f"Dagster's step retry, {len(hits) - failed - recovered} without effect; "
        f"{planned - result.faults} planned kill(s) came after the attempt ended")
    lines.append(
        f"  runs: {len(result.runs)}, attempts: {len(result.attempts)}, failed attempts: "
        f"{sum(1 for a in result.attempts if not a.success)}; retries: {result.retries} "
        f"({result.step_retries} step retries by Dagster, {result.reruns} reruns by the drill)")

    lines += ["", f"{'comparison with the clean reference build':<66}{'rows':>8}{'differ':>8}"
                  f"{'last bits':>11}"]
    for comparison in result.comparisons:
        note = "" if comparison.required else "  (informational)"
        lines.append(f"  {comparison.name:<64}{comparison.compared:>8,}"
                     f"{comparison.mismatches:>8,}{comparison.last_bits:>11,}{note}")
    lines.append("  (differ: rows missing, extra or with another value; last bits: of those, "
                 "rows whose doubles differ only")
    lines.append(f"  in their last bits, a relative 1e-12: "
                 f"{'accepted (--float-tolerance)' if config.float_tolerance else 'failures'})")
    for when, n in result.duplicate_keys.items():
        lines.append(f"  duplicate KPI keys {when}: {n}")
    lines.append(f"  dbt leftovers (__dbt_tmp/__dbt_backup) after the scheduled runs: "
                 f"{len(result.leftovers)}")
    timings = ", ".join(f"{name} {minutes(s)}" for name, s in result.timings.items())
    lines += ["", f"timings: {timings}"]
    problems = result.verdict_problems()
    lines += [f"  problem: {problem}" for problem in problems]
    if result.log_path:
        lines.append(f"log: {result.log_path}")
    lines.append(f"RESULT: {'PASS' if not problems else 'FAIL'}")
    return "\n".join(lines)


def details(result: DrillResult, required_only: bool = False) -> str:
    """Examples of differing rows (of the comparisons that decide the result, or all)."""
    lines = []
    for comparison in result.comparisons:
        if comparison.required or not required_only:
            lines += [f"{comparison.name}: {example}" for example in comparison.examples]
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> DrillConfig:
    defaults = DrillConfig()
    parser = argparse.ArgumentParser(
        prog="python -m tools.fault_drill",
        description="Fault drill on PostgreSQL: demo data with injected bad rows, the "
                    "schedules' runs with connections killed at random and retried, then "
                    "the marts compared with a clean build over the accepted rows. Uses the "
                    "PG* variables for the server; creates and drops kpi_chaos_* databases.",
    )
    parser.add_argument("--days", type=int, default=defaults.days,
                        help="simulated days of scheduled runs (default %(default)s)")
    parser.add_argument("--requests", type=int, default=defaults.requests,
                        help="demo service requests (default %(default)s)")
    parser.add_argument("--history-days", type=int, default=defaults.history_days,
                        help="days of demo data up to the last run (default %(default)s)")
    parser.add_argument("--fault-rate", type=float, default=defaults.fault_rate,
                        help="probability that a run attempt has its PostgreSQL sessions "
                             "terminated (default %(default)s; the first scheduled run's "
                             "first attempt always is)")
    parser.add_argument("--bad-pct", type=float, default=defaults.bad_pct,
                        help="injected bad rows, %% of each raw table (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="seed of the data, the bad rows and the faults (default %(default)s)")
    parser.add_argument("--last-day", type=date.fromisoformat, default=defaults.last_day,
                        help="UTC day of the last scheduled runs (default %(default)s)")
    parser.add_argument("--schedules", default=",".join(defaults.schedules),
                        help="schedules to run each day, among daily,weekly,monthly "
                             "(default %(default)s)")
    parser.add_argument("--max-attempts", type=int, default=defaults.max_attempts,
                        help="attempts per run before giving up (default %(default)s)")
    parser.add_argument("--float-tolerance", action="store_true",
                        help="accept values that differ from the reference only in the last "
                             "bits of a double (relative 1e-12), e.g. sums in another order")
    parser.add_argument("--keep", action="store_true",
                        help="keep the two databases and the work folder")
    args = parser.parse_args(argv)
    try:
        return DrillConfig(
            days=args.days, requests=args.requests, history_days=args.history_days,
            fault_rate=args.fault_rate, bad_pct=args.bad_pct, seed=args.seed,
            last_day=args.last_day, schedules=tuple(s.strip() for s in args.schedules.split(",")),
            max_attempts=args.max_attempts, keep=args.keep,
            float_tolerance=args.float_tolerance,
        )
    except ValueError as error:
        parser.error(str(error))
        raise  # unreachable: parser.error exits


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    for category in (dg.BetaWarning, dg.PreviewWarning):
        warnings.filterwarnings("ignore", category=category)
    started = time.monotonic()
    stderr = sys.stderr

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.0f} s] {message}", file=stderr, flush=True)

    try:
        psycopg2.connect(connect_timeout=5, **pg_params("postgres")).close()
    except psycopg2.OperationalError as error:
        print(f"fault drill: PostgreSQL is not reachable: {error}".strip(), file=stderr)
        return 2
    result = run_drill(config, progress)
    if details(result, required_only=True):
        print(details(result, required_only=True), file=stderr)
    print(summary(result))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
