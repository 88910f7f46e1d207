"""`make chaos` (`python -m tools.fault_drill`), the fault drill (issue 4): bad raw rows,
killed connections, and the marts still right.

On PostgreSQL, in two fresh databases (``kpi_chaos_<id>`` and ``kpi_chaos_<id>_ref``):

1. generates demo raw data and injects bad rows, a few percent of each table spread over
   every reason code the quarantine knows for typed raw columns, as new rows and as
   corrupted copies of existing ones (older duplicates), plus accepted noise: codes in
   other cases and with spaces (``' done'``) and ``resolved_at`` values that disagree with
   the status history (flagged, not rejected). Every choice comes from ``--seed``;
2. loads everything through the product's Dagster jobs, run in this process
   (``orchestration.definitions.build_definitions`` on a copy of the dbt project): a
   first full refresh, then, for each simulated day D, what the schedules launch at their
   tick (the daily one by default: partitions D-1 and D), all runs of day D with
   ``as_of`` = D 00:30 UTC (the daily tick).
   A killer thread terminates the drill database's busy PostgreSQL sessions at a random
   moment of a run attempt with probability ``--fault-rate``; the first scheduled run's
   first attempt is always hit (its session is made to wait on a lock, then terminated),
   so every drill has at least one fault. Dagster retries the step when dbt reports the
   connection loss; a run that still fails is rerun by the drill, up to
   ``--max-attempts`` times;
3. checks: the rows of the periods the last runs recomputed equal a clean build (the same
   full refresh job, no faults) at the same ``as_of`` over the accepted rows only, copied
   into the reference database; and
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
import sys
import time
import warnings
from datetime import date

import dagster as dg
import psycopg2

from itsm_kpi import warehouse
from tools.fault_drill.drill import run_drill
from tools.fault_drill.results import DrillConfig
from tools.fault_drill.summary import details, summary


def parse_args(argv: list[str] | None) -> DrillConfig:
    defaults = DrillConfig()
    parser = argparse.ArgumentParser(
        prog="python -m tools.fault_drill",
        description="Fault drill on PostgreSQL: demo data with injected bad rows, the "
                    "schedules' runs with connections killed at random and retried, then "
                    "the marts compared with a clean build over the accepted rows. Uses the "
                    "PG* variables for the server; creates and drops kpi_chaos_* databases. "
                    "Exit codes: 0 PASS, 1 FAIL, 2 bad usage or PostgreSQL unreachable.",
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
                        help="schedules to run each day, among daily,weekly,monthly, those "
                             "the definitions have (default %(default)s)")
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
        with warehouse.admin_cursor(connect_timeout=5):
            pass
    except psycopg2.OperationalError as error:
        print(f"fault drill: PostgreSQL is not reachable: {error}".strip(), file=stderr)
        return 2
    result = run_drill(config, progress)
    if details(result, required_only=True):
        print(details(result, required_only=True), file=stderr)
    print(summary(result))
    return 0 if result.passed else 1
