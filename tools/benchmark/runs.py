"""The product's jobs (and dbt's own parse and start-up) as the benchmark measures them:
wall time, peak memory and CPU of the dbt processes, the steps and the dbt nodes' times
from the Dagster event log, each run's output in its own log file."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtProject

from itsm_kpi.environment import WITHOUT_DATA_TESTS, patched_env
from tools import jobs
from tools.benchmark.config import COST_GROUPS, TOP_NODES, BenchmarkError
from tools.benchmark.data import BenchDatabase
from tools.benchmark.processes import Child, ChildMonitor, load_average
from tools.jobs import iso

FULL_PARSE = re.compile(r"Unable to do partial parsing because ([^\n]*)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Runner:
    """Runs dbt commands of `project` and jobs of `defs` (its definitions, once it is
    parsed) against `database`; logs in `log_dir`, reports in `report_dir`; a dbt process
    running longer than `timeout` seconds is stopped."""

    project: DbtProject
    database: BenchDatabase
    log_dir: Path
    report_dir: Path
    timeout: float | None = None
    defs: dg.Definitions | None = None
    count: int = field(default=0, init=False)

    @property
    def with_jvm(self) -> bool:
        """Spark's local session runs a JVM under each dbt process: its memory counts."""
        return self.database.engine == "spark"

    def env(self, as_of: datetime) -> dict[str, str | None]:
        return {**self.database.env, "KPI_AS_OF": iso(as_of),
                "KPI_REPORT_DIR": str(self.report_dir)}

    def _log_path(self, label: str) -> Path:
        self.count += 1
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return self.log_dir / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', label)}.log"

    def job(self, label: str, job_name: str, as_of: datetime,
            scheduled: jobs.ScheduledRun | None = None,
            data_tests: bool = True) -> tuple[dict[str, Any], jobs.JobRun]:
        """One run of `job_name` (with the tags of `scheduled`, when given), measured;
        without `data_tests`, its dbt build leaves them out (WITHOUT_DATA_TESTS). Raises
        BenchmarkError when it fails or a dbt process outlives the timeout."""
        assert self.defs is not None, "the project's definitions are built after its parse"
        log_path = self._log_path(label)
        load = load_average()
        stopped: list[str] = []

        def on_timeout(child: Child) -> None:
            stopped.append(self.database.running() or running_nodes(log_path))

        with log_path.open("w") as log, ChildMonitor(self.timeout, on_timeout,
                                                     descendants=self.with_jvm) as monitor:
            env = {**self.env(as_of), **({} if data_tests else WITHOUT_DATA_TESTS)}
            run = jobs.execute(self.defs, job_name, env,
                               tags=scheduled.tags if scheduled else None, log=log)
        finished = node_list(run.nodes)
        if monitor.timed_out is not None:
            self.database.cancel()
            raise BenchmarkError(f"{job_name} ({label}): a dbt command did not finish within "
                                 f"{self.timeout:,.0f} s (--dbt-timeout); still running: "
                                 f"{stopped[0] if stopped else 'unknown'}; log {log_path}",
                                 finished)
        if not run.success:
            tail = ANSI.sub("", log_path.read_text())[-3000:]
            raise BenchmarkError(f"{job_name} ({label}) failed: {run.error}; log {log_path}:"
                                 f"\n{tail}", finished)
        window = scheduled.window if scheduled else None
        return {
            "label": label,
            "job": job_name,
            "command": f"{job_name}.execute_in_process("
                       + (f"tags={scheduled.tags}" if scheduled else "") + ")",
            "as_of": iso(as_of),
            "window": [day.isoformat() for day in window] if window else None,
            "seconds": round(run.seconds, 3),
            "execution_seconds": round(sum(step.dbt_seconds for step in run.steps), 3),
            "peak_rss_mb": monitor.peak_mb(),
            **({"peak_tree_rss_mb": monitor.peak_tree_mb(),
                "peak_tree_processes": monitor.peak_tree_members()} if self.with_jvm else {}),
            "cpu_seconds": round(monitor.cpu_seconds, 3),
            "node_count": len(run.nodes),
            "node_seconds_sum": round(sum(node.seconds for node in run.nodes), 3),
            "parse": parse_note(log_path),
            "load_average_before": load,
            "step_retries": run.step_retries,
            "steps": [step_summary(step, monitor) for step in run.steps],
            "top_nodes": finished[:TOP_NODES],
            "groups": cost_groups(run.nodes),
        }, run

    def dbt(self, label: str, args: list[str], as_of: datetime) -> dict[str, Any]:
        """A dbt command through the product's dbt resource (not a job): dbt's parse, its
        fixed start-up. Wall time and peak memory."""
        log_path = self._log_path(label)
        load = load_average()
        with log_path.open("w") as log, ChildMonitor(descendants=self.with_jvm) as monitor, \
                patched_env({**dict.fromkeys(jobs.RUN_SETTINGS), **self.env(as_of)}), \
                jobs.redirected(log):
            clock = time.monotonic()
            invocation = jobs.dbt_cli(self.project).cli(
                args, raise_on_error=False,
                target_path=self.project.target_path if args[:1] == ["parse"] else None)
            succeeded = invocation.wait().is_successful()  # dbt's output goes to the log
            seconds = time.monotonic() - clock
        if not succeeded:
            raise BenchmarkError(f"dbt {' '.join(args)} ({label}) failed; log {log_path}")
        return {"label": label, "command": "dbt " + " ".join(args), "as_of": iso(as_of),
                "seconds": round(seconds, 3), "peak_rss_mb": monitor.peak_mb(),
                **({"peak_tree_rss_mb": monitor.peak_tree_mb()} if self.with_jvm else {}),
                "cpu_seconds": round(monitor.cpu_seconds, 3), "parse": parse_note(log_path),
                "load_average_before": load}


def step_summary(step: jobs.Step, monitor: ChildMonitor) -> dict[str, Any]:
    return {
        "step": step.key,
        "report": step.is_report,
        "seconds": round(step.seconds, 3),
        "execution_seconds": round(step.dbt_seconds, 3),
        "peak_rss_mb": monitor.peak_mb(step.started_at, step.finished_at),
        **({"peak_tree_rss_mb": monitor.peak_tree_mb(step.started_at, step.finished_at)}
           if monitor.descendants else {}),
        "window": list(step.window) if step.window else None,
        "retries": step.retries,
        "node_count": len(step.nodes),
        "node_seconds_sum": round(sum(node.seconds for node in step.nodes), 3),
        "top_nodes": node_list(step.nodes)[:TOP_NODES],
    }


def cost_groups(nodes: list[jobs.Node]) -> dict[str, dict[str, Any]]:
    """Per group of config.COST_GROUPS: its nodes' count, summed seconds and the slowest
    three (tests included: a group's models and their data tests)."""
    groups = {}
    for name, pattern in COST_GROUPS.items():
        members = [node for node in nodes if re.search(pattern, node.unique_id)]
        groups[name] = {
            "node_count": len(members),
            "node_seconds_sum": round(sum(node.seconds for node in members), 3),
            "top_nodes": node_list(members)[:3],
        }
    return groups


def node_list(nodes: list[jobs.Node]) -> list[dict[str, Any]]:
    """The nodes as the JSON keeps them, slowest first."""
    return [{"node": node.unique_id, "seconds": round(node.seconds, 3), "status": node.status}
            for node in sorted(nodes, key=lambda node: -node.seconds)]


def parse_note(log_path: Path) -> str:
    """How dbt parsed the project in a run (from its output: dbt reports a full parse and
    why; partial parsing says nothing at this log level)."""
    reasons = FULL_PARSE.findall(log_path.read_text() if log_path.exists() else "")
    if not reasons:
        return "partial parse (no full parse reported)"
    counted = f"{len(reasons)} full parses, the first" if len(reasons) > 1 else "full parse"
    return f"{counted} ({reasons[0].strip().rstrip('.')})"


def running_nodes(log_path: Path) -> str:
    """Nodes dbt started but did not finish, from the run's output."""
    text = ANSI.sub("", log_path.read_text() if log_path.exists() else "")
    started = re.findall(r"(\d+) of \d+ START (?:sql \w+ model |test |seed file )?([\w.]+)",
                         text)
    finished = set(re.findall(r"(\d+) of \d+ (?:OK|PASS|WARN|ERROR|FAIL|SKIP)", text))
    return ", ".join(name for number, name in started if number not in finished) or "unknown"
