"""`kpi`: command line of the KPI engine.

    kpi generate   write deterministic demo raw data (DuckDB file, PostgreSQL or Spark)
    kpi build      run `dbt build` on the project (arguments it does not know go to dbt)
    kpi scorecard  print every tenant's scorecard from the marts

`make demo` strings them together with the product's Dagster job (see the README).

Exit codes: 0 success, 1 dbt or database failure, 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from itsm_kpi import demo_data, report, warehouse
from itsm_kpi.environment import patched_env, working_directory
from itsm_kpi.paths import PROJECT_DIR
from itsm_kpi.warehouse import DEFAULT_DUCKDB_PATH

STATUS_STYLE = {"GREEN": "bold green", "YELLOW": "bold yellow", "RED": "bold red",
                "NO_DATA": "dim"}
STATUS_ICON = {"GREEN": "●", "YELLOW": "●", "RED": "●", "NO_DATA": "○"}

# a scorecard needs ~100 columns; pipes and CI logs get that instead of rich's 80
out = Console(width=None if sys.stdout.isatty() else 110)
err = Console(stderr=True)


def _duckdb_path(args: argparse.Namespace) -> Path:
    return warehouse.duckdb_path(args.path)


def data_end(text: str | None) -> datetime:
    """Where the demo data ends, naive UTC: `text` (ISO; with an offset, converted to UTC)
    or, by default, the start of the current UTC hour, so that the demo's current periods
    are the real ones and a Dagster run with the real clock sees data up to now."""
    if not text or text == "now":
        return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0,
                                                  tzinfo=None)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def cmd_generate(args: argparse.Namespace) -> int:
    config = demo_data.DemoConfig(
        requests=args.requests, tenants=args.tenants, days=args.days, seed=args.seed,
        end=data_end(args.end),
    )
    started = time.perf_counter()

    def progress(message: str) -> None:
        err.print(f"[dim]  {message}[/dim]")

    if args.target == "duckdb":
        path = _duckdb_path(args)
        path.parent.mkdir(parents=True, exist_ok=True)
        counts = demo_data.generate_duckdb(path, config, schema=args.schema, progress=progress)
        where = str(path)
    elif args.target == "spark":
        counts = demo_data.generate_spark(None, config, schema=args.schema, progress=progress)
        where = warehouse.describe("spark")
    else:
        counts = demo_data.generate_postgres(None, config, schema=args.schema, progress=progress)
        where = warehouse.describe("postgres")
    summary = ", ".join(f"{n:,} {table}" for table, n in sorted(counts.items()))
    out.print(f"Generated {summary} into {where} in {time.perf_counter() - started:.1f}s")
    return 0


def run_dbt(arguments: Sequence[str], target: str, as_of: str | None,
            duckdb_path: Path | None) -> tuple[bool, str]:
    """Runs dbt in-process from the project directory: (success, summary of node results).

    dbt sees the profile a plain `dbt` command run in the project folder sees in the same
    environment: `--target` and KPI_DUCKDB_PATH only when they differ from what
    profiles.yml picks by itself (DBT_TARGET, then duckdb; data/kpi.duckdb, relative to the
    project folder). dbt hashes the rendered profile and the `--target` flag, and any
    difference costs a full re-parse at the next `dbt` or `kpi build` ("Unable to do
    partial parsing because profile has changed")."""
    from dbt.cli.main import dbtRunner

    env: dict[str, str | None] = {}
    if as_of:
        env["KPI_AS_OF"] = as_of
    if duckdb_path is not None and duckdb_path != warehouse.duckdb_path():
        env["KPI_DUCKDB_PATH"] = str(duckdb_path)
    command = [*arguments, "--project-dir", str(PROJECT_DIR),
               "--profiles-dir", str(PROJECT_DIR)]
    if target != warehouse.target():
        command += ["--target", target]
    with patched_env(env), working_directory(PROJECT_DIR):
        result = dbtRunner().invoke(command)
    counts: dict[str, int] = {}
    for node_result in getattr(result.result, "results", None) or []:
        key = str(node_result.status).split(".")[-1].lower()
        counts[key] = counts.get(key, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if result.exception is not None:
        error = f"{type(result.exception).__name__}: {result.exception}"
        summary = f"{summary}; {error}" if summary else error
    return bool(result.success), summary


def cmd_build(args: argparse.Namespace) -> int:
    path = _duckdb_path(args) if args.target == "duckdb" else None
    started = time.perf_counter()
    ok, summary = run_dbt(["build", *args.dbt_args], args.target, args.as_of, path)
    status = "succeeded" if ok else "FAILED"
    (out if ok else err).print(
        f"dbt build {status} in {time.perf_counter() - started:.1f}s ({summary})"
    )
    return 0 if ok else 1


def _fetch(args: argparse.Namespace, sql: str) -> list[dict[str, Any]]:
    with warehouse.connect(args.target, path=args.path, read_only=True) as conn:
        return warehouse.query(conn, sql)


# The terminal's words: the report's (report.LABELS), except that in English the lights
# keep their codes and the title, periods and headers the words they always had, which
# scripts and tests read (`(tenant 1) — overall ● RED`, `month 2026-10`).
WORDS = {
    "en": {**report.LABELS["en"], "tenant": "tenant", "overall": "overall",
           "achievement": "Achiev.", "as_of": "as of",
           **{status: status for status in report.STATUSES}},
    "ko": report.LABELS["ko"],
}


def _value(value: float | None, unit: str | None, language: str) -> str:
    if language != "en":
        return report.format_value(value, unit, language)
    if value is None:
        return report.DASH
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if unit == "%":
        return f"{text}%"
    return f"{text} h" if unit == "hours" else text


def _period(grain: str, start: Any, language: str) -> str:
    if language != "en":
        return report.format_period(grain, start, language)
    if grain == "MONTHLY":
        return f"month {str(start)[:7]}"
    return f"week {start}" if grain == "WEEKLY" else f"day {start}"


def _light(status: str | None, language: str, icon_only: bool = False) -> str:
    status = status or "NO_DATA"
    word = "" if icon_only else f" {WORDS[language][status]}"
    return f"[{STATUS_STYLE[status]}]{STATUS_ICON[status]}{escape(word)}[/]"


# `kpi scorecard --by`: the breakdowns of marts.fct_kpi_breakdowns, by their words
BREAKDOWNS = ("team", "service", "priority", "request_type", "environment")
BREAKDOWN_WORDS = {
    "en": {"team": "team", "service": "service", "priority": "priority",
           "request_type": "request type", "environment": "environment",
           "by": "by {}", "none": "no {} in the current periods of its scorecard KPIs"},
    "ko": {"team": "팀", "service": "서비스", "priority": "우선순위",
           "request_type": "요청 유형", "environment": "환경",
           "by": "{}별", "none": "스코어카드 KPI의 현재 기간에 {} 구분이 없습니다"},
}
# the slices of each scorecard card: same tenant, KPI, grain and period (the SQL selects,
# dbt computed every value and light)
BREAKDOWN_SQL = """
select breakdowns.*
from marts.fct_kpi_breakdowns as breakdowns
inner join marts.kpi_scorecard as scorecard
    on breakdowns.tenant_id = scorecard.tenant_id
    and breakdowns.kpi_name = scorecard.kpi_name
    and breakdowns.grain = scorecard.grain
    and breakdowns.period_start = scorecard.period_start
where breakdowns.breakdown = '{breakdown}'
order by breakdowns.tenant_id, breakdowns.kpi_name, breakdowns.breakdown_value
"""


def _breakdown_table(cards: list[dict[str, Any]], slices: list[dict[str, Any]],
                     by: str, language: str, short: bool) -> Table:
    """One row per scorecard KPI and value of the breakdown `by`, in the scorecard's
    KPI order: the slice's value, target, achievement and light."""
    words, names = WORDS[language], BREAKDOWN_WORDS[language]
    table = Table(title=escape(names["by"].format(names[by])), title_justify="left")
    table.add_column(words["kpi"])
    table.add_column(escape(names[by]))
    for key in ("value", "target", "achievement"):
        table.add_column(words[key], justify="right", no_wrap=True)
    table.add_column(words["status"], no_wrap=True)
    for card in cards:
        label = card["kpi_name"] if short else report.kpi_label(card, language)
        for piece in (row for row in slices if row["kpi_name"] == card["kpi_name"]):
            achievement = piece["achievement_pct"]
            table.add_row(
                escape(label), escape(str(piece["breakdown_value"])),
                escape(_value(piece["value"], card["unit"], language)),
                escape(_value(piece["target"], card["unit"], language)),
                report.DASH if achievement is None else f"{achievement:.1f}%",
                _light(piece["status"], language),
            )
    return table


def cmd_scorecard(args: argparse.Namespace) -> int:
    """Every tenant's scorecard, in English or in Korean: in Korean everything (title,
    headers, periods, units, lights, the as-of line) in the words of the HTML report."""
    language = args.language
    words = WORDS[language]
    marts = report.Marts(
        tenants=_fetch(args, "select * from marts.tenant_kpi_status order by tenant_id"),
        scorecard=_fetch(args, "select * from marts.kpi_scorecard order by tenant_id, kpi_name"),
        trend=[],
    )
    if not marts.tenants:
        err.print(escape(words["no_tenants"]))
        return 1
    breakdowns = (_fetch(args, BREAKDOWN_SQL.format(breakdown=args.by.upper()))
                  if args.by else [])
    for tenant in marts.tenants:
        table = Table(
            title=escape(f"{tenant['tenant_name']} ({words['tenant']} {tenant['tenant_id']}) "
                         f"— {words['overall']} ") + _light(tenant["overall_status"], language),
            title_justify="left",
        )
        table.add_column(words["kpi"])  # long labels wrap, the numbers never do
        table.add_column(words["period"], no_wrap=True)
        for key in ("value", "target", "achievement"):
            table.add_column(words[key], justify="right", no_wrap=True)
        table.add_column(words["status"], no_wrap=True)
        table.add_column(words["previous"], no_wrap=True)
        for card in marts.cards(tenant["tenant_id"]):
            unit, achievement = card["unit"], card["achievement_pct"]
            table.add_row(
                escape(card["kpi_name"] if args.short else report.kpi_label(card, language)),
                escape(_period(card["grain"], card["period_start"], language)),
                escape(_value(card["value"], unit, language)),
                escape(_value(card["target"], unit, language)),
                report.DASH if achievement is None else f"{achievement:.1f}%",
                _light(card["status"], language),
                f"{escape(_value(card['previous_value'], unit, language))} "
                f"{_light(card['previous_status'], language, icon_only=True)}"
                if card["previous_period_start"] else report.DASH,
            )
        if marts.cards(tenant["tenant_id"]):
            out.print(table)
            if args.by:
                slices = [row for row in breakdowns if row["tenant_id"] == tenant["tenant_id"]]
                if slices:
                    out.print(_breakdown_table(marts.cards(tenant["tenant_id"]), slices,
                                               args.by, language, args.short))
                else:
                    names = BREAKDOWN_WORDS[language]
                    out.print(f"  {escape(names['none'].format(names[args.by]))}")
        else:
            out.print(table.title)
            out.print(f"  {escape(words['no_kpis'])}")
    out.print(f"[dim]{escape(words['as_of'])} {escape(marts.as_of())}[/dim]")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="kpi", description=__doc__.split("\n\n")[0])
    sub = main.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--target", choices=warehouse.TARGETS,
                       default=os.environ.get("DBT_TARGET", "duckdb"),
                       help="engine (default: DBT_TARGET or duckdb); PostgreSQL uses PG* "
                            "variables, Spark a local session on KPI_SPARK_DIR (data/spark)")
        p.add_argument("--path",
                       help=f"DuckDB file (default: KPI_DUCKDB_PATH or {DEFAULT_DUCKDB_PATH})")

    def generation(p: argparse.ArgumentParser) -> None:
        p.add_argument("--requests", type=int, default=5000, help="service requests (default 5000)")
        p.add_argument("--tenants", type=int, default=4, help="tenants (default 4)")
        p.add_argument("--days", type=int, default=180, help="days of history (default 180)")
        p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    g = sub.add_parser("generate", help="write deterministic demo raw data")
    common(g)
    generation(g)
    g.add_argument("--end", help="end of the data, ISO (UTC unless it has an offset) or "
                                 "`now`; default: the start of the current UTC hour")
    g.add_argument("--schema", default="raw", help="raw schema (default raw)")
    g.set_defaults(func=cmd_generate)

    # no abbreviations: `--tar x` must reach dbt as written, not become --target
    b = sub.add_parser(
        "build", help="run dbt build; arguments kpi does not know go to dbt",
        allow_abbrev=False, usage="kpi build [-h] [--target {duckdb,postgres,spark}] [--path PATH] "
                                  "[--as-of AS_OF] [DBT_ARGUMENT ...] [-- DBT_ARGUMENT ...]",
        description="Runs `dbt build` on the project. Every argument kpi build does not know "
                    "goes to dbt, in its order: `kpi build --full-refresh`, `kpi build "
                    "--select dim_kpi+`. After `--`, every argument goes to dbt as it is: "
                    "`kpi build -- --help` shows dbt build's options.",
    )
    common(b)
    b.add_argument("--as-of", help="ISO UTC timestamp used as now (default: KPI_AS_OF, else now)")
    b.set_defaults(func=cmd_build, dbt_args=[])

    s = sub.add_parser("scorecard", help="print the scorecards from the marts")
    common(s)
    s.add_argument("--language", choices=("en", "ko"), default="en",
                   help="language of the tables (ko: everything in Korean) and KPI labels")
    s.add_argument("--short", action="store_true", help="KPI names instead of labels")
    s.add_argument("--by", choices=BREAKDOWNS,
                   help="also each scorecard KPI's current period by this breakdown "
                        "(marts.fct_kpi_breakdowns): value, target, achievement, light")
    s.set_defaults(func=cmd_scorecard)

    return main


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; for `kpi build`, the arguments it does not know in `dbt_args`
    (without the first `--`), for dbt."""
    main_parser = parser()
    args, unknown = main_parser.parse_known_args(argv)
    if unknown and args.command != "build":
        main_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if "--" in unknown:  # argparse keeps the separator in what it does not know
        unknown.remove("--")
    if args.command == "build":
        args.dbt_args = unknown
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, ValueError) as error:
        err.print(f"[red]error:[/red] {error}")
        return 2
    except warehouse.DatabaseMissing as error:  # one line, the command in it unbroken
        err.print("[red]error:[/red]", escape(str(error)), soft_wrap=True)
        return 1
    except Exception as error:  # database errors: a clear line, not a traceback
        err.print(f"[red]error:[/red] {type(error).__name__}: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
