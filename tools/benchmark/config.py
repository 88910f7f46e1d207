"""The benchmark's scales, options and fixed moments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from itsm_kpi.demo_data import DEFAULT_END

ENGINES = ("duckdb", "postgres", "spark")
# Spark (a local session, tables as Parquet files): the BI read, the floor and the original
# module's queries are not run there (the report says so); its builds are measured
SPARK_SKIPPED = "not measured on Spark"
BUILDS_ONLY_SKIPPED = "not measured (--builds-only)"
TIMEZONES = (
    "Asia/Seoul",
    "America/New_York",
    "Europe/London",
    "UTC",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Europe/Berlin",
)
# E: the initial load is the source system as of E, the delta the day after it
CUTOFF = DEFAULT_END - timedelta(days=1)
LATE_EVENT_DAYS = 2  # late events: held back from the last days before E
LATE_EVENT_MODULO = 50  # one event in 50 of those days (2 %) arrives late
TOP_NODES = 15
# named groups of nodes whose cost a run reports apart (summed seconds, count, slowest):
# a node belongs to a group when its unique id matches the pattern
COST_GROUPS = {
    # the models' names appear in their data tests' ids too (unique_dora_scorecard_...)
    "DORA": (r"(int_deployments__production|int_incidents__deployment_"
             r"|int_kpi__(deployment_frequency|change_lead_time|change_failure_rate"
             r"|failed_deployment_recovery_time|deployment_rework_rate)|dora_scorecard)"),
    # the models whose work the business-hours clocks add to or change (the whole of
    # each: compare with a --no-calendars run for what the clocks themselves cost)
    "BUSINESS_HOURS": (r"(int_business_calendars__intervals|int_service_requests__sla_outcomes"
                       r"|open_request_aging)"),
    # what the breakdowns and the drill-down add (issue: at most 50 % of the build)
    "BREAKDOWNS_AND_DRILL_DOWN": r"(fct_kpi_breakdowns|fct_kpi_contributions|open_request_aging)",
}
FLOOR_RUNS = 3
FLOAT_TOLERANCE = 1e-9  # relative, floor vs. engine
# the periods a windowed run recomputes start `lookback_days` before its window: the
# default of that var (macros/lookback_days.sql), which the benchmark does not change
LOOKBACK_DAYS = 3
METHOD = "Dagster jobs in process"  # how the builds are run (older JSON: dbt commands)

Progress = Callable[[str], None]
Row = dict[str, Any]


class BenchmarkError(RuntimeError):
    """A failed job or correctness check: the run stops, exit code 1."""

    def __init__(self, message: str, nodes: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.nodes = nodes or []  # a failed job: the dbt nodes that finished, slowest first


@dataclass(frozen=True)
class Scale:
    name: str
    requests: int
    tenants: int
    days: int

    @property
    def slug(self) -> str:
        return self.name.lower()


SCALES = {
    scale.name: scale
    for scale in (
        Scale("smoke", 2_000, 20, 60),
        Scale("100k", 100_000, 200, 730),
        Scale("1M", 1_000_000, 200, 730),
        Scale("10M", 10_000_000, 200, 730),
    )
}
SMALL_SCALES = ("smoke", "100k")  # the floor gets a warm-up run only here


@dataclass(frozen=True)
class Options:
    scale: Scale
    engines: tuple[str, ...]
    out: Path
    markdown: Path
    work_dir: Path
    repeat: int = 50
    keep: bool = False
    verify: bool = False
    pg_database: str = ""
    dbt_timeout: float | None = None  # seconds a dbt command of a job may run
    variant: str = ""  # a label for a run under other settings (file name and column)
    calendars: bool = True  # business-hours SLA calendars for every other tenant
    builds_only: bool = False  # the builds only: no BI read, floor nor original module

    @property
    def database(self) -> str:
        return self.pg_database or f"bench_{self.scale.slug}"
