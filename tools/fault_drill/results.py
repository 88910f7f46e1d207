"""The fault drill's configuration and what it records: run attempts, faults, comparisons
with the reference build, and the verdict."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from itsm_kpi.warehouse import RAW_TABLES

# grains whose schedule a drill may run each day (kpi_<grain>_schedule), if the product's
# definitions have it (today only kpi_daily_schedule, whose job recomputes every grain)
GRAINS = ("daily", "weekly", "monthly")

Row = dict[str, Any]


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
    window: tuple[date, date] | None  # first partition's day, the day after the last one's
    grains: tuple[str, ...] = ()  # the fact tables its window recomputes
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
