"""The fault drill's summary: rows in, accepted, rejected by reason (expected and found),
flagged, faults, runs, retries, the comparisons with the reference, and the verdict."""

from __future__ import annotations

from typing import Any

from itsm_kpi.warehouse import RAW_TABLES
from tools.fault_drill.results import Attempt, DrillResult


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
