"""The product's Dagster jobs, run in this process the way the tools need them.

A copy of the dbt project is parsed as Dagster prepares it (dagster-dbt's `dbt parse`
into its target folder) and its definitions are built by the product
(`orchestration.definitions.build_definitions`). A schedule's tick is evaluated to the run
request it launches (tags, partition window), and a job is executed in process on an
ephemeral Dagster instance, against the warehouse the environment names (DBT_TARGET,
KPI_DUCKDB_PATH, PG*: set with `patched_env`, as profiles.yml reads them). Its steps and
dbt nodes are timed from the run's Dagster event log.
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
from dagster_dbt import DbtProject

from itsm_kpi.environment import patched_env

with warnings.catch_warnings():  # importing the definitions builds them: beta APIs
    warnings.simplefilter("ignore")
    from orchestration.assets import FACT_MODELS, REPORT_KEY
    from orchestration.definitions import build_definitions, dbt_cli
    from orchestration.schedules import RANGE_END, RANGE_START
    from orchestration.settings import Settings

FULL_REFRESH_JOB = "kpi_full_refresh_job"
DAILY_JOB = "kpi_daily_job"
DAILY_SCHEDULE = "kpi_daily_schedule"
# op jobs whose one dbt build recomputes the fact tables of every grain (they record the
# fact assets' materializations rather than select them)
EVERY_GRAIN_JOBS = (DAILY_JOB, FULL_REFRESH_JOB)
# run settings a job must not inherit from the calling environment
RUN_SETTINGS = ("KPI_AS_OF", "KPI_MIN_DATE", "KPI_MAX_DATE", "KPI_ONLY")
# what orchestration.assets.run_dbt logs when it passes a window to dbt
WINDOW_LOG = re.compile(r"recompute window \[(\d{4}-\d{2}-\d{2}), (\d{4}-\d{2}-\d{2})\)")
DURATION = "Execution Duration"  # dagster-dbt's metadata on every dbt node result


def iso(moment: datetime) -> str:
    """A moment as KPI_AS_OF takes it (UTC, ISO, Z); a naive one is UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def prepare_project(project_dir: Path, engine: str) -> DbtProject:
    """The dbt project in `project_dir` parsed into its target/manifest.json, what
    `make manifest` (or dagster-dbt's preparation) does for the repository's."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=engine)
    dbt_cli(project).cli(["parse"], target_path=project.target_path).wait()
    return project


def definitions(project: DbtProject, partitions_start: date) -> dg.Definitions:
    """The product's definitions for `project`, partitions from `partitions_start`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_definitions(Settings(partitions_start=partitions_start.isoformat()),
                                 project)


# --- schedules -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledRun:
    """What a schedule launches at its tick."""

    schedule: str
    job_name: str
    tick: datetime  # UTC
    tags: dict[str, str]
    window: tuple[date, date] | None  # [first partition's start, last partition's end)

    @property
    def partitions(self) -> tuple[str, str]:
        return self.tags.get(RANGE_START, ""), self.tags.get(RANGE_END, "")


def tick_time(schedule: dg.ScheduleDefinition, day: date) -> datetime:
    """The moment (UTC) a daily schedule, cron 'M H * * *' in UTC, ticks on `day`."""
    minute, hour, *rest = schedule.cron_schedule.split()  # type: ignore[union-attr]
    if rest != ["*", "*", "*"] or (schedule.execution_timezone or "UTC") != "UTC":
        raise ValueError(f"{schedule.name}: not a daily UTC cron: {schedule.cron_schedule}")
    return datetime(day.year, day.month, day.day, int(hour), int(minute), tzinfo=timezone.utc)


def scheduled_run(defs: dg.Definitions, schedule_name: str, day: date) -> ScheduledRun | None:
    """The run `schedule_name` requests at its tick on `day`, None when it skips."""
    schedule = defs.resolve_schedule_def(schedule_name)
    tick = tick_time(schedule, day)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    requests = schedule.evaluate_tick(context).run_requests or []
    if not requests:
        return None
    tags = dict(requests[0].tags)
    job = defs.resolve_job_def(schedule.job_name)
    return ScheduledRun(schedule_name, schedule.job_name, tick, tags,
                        partition_window(job, tags))


def partition_window(job: dg.JobDefinition, tags: Mapping[str, str]) -> tuple[date, date] | None:
    """The UTC days [start, end) a run of `job` with `tags` covers: its partition range,
    as the job's own partitions definition spans it."""
    definition = job.partitions_def
    first = tags.get(RANGE_START) or tags.get("dagster/partition")
    last = tags.get(RANGE_END) or tags.get("dagster/partition")
    if not isinstance(definition, dg.TimeWindowPartitionsDefinition) or not first or not last:
        return None
    return (definition.time_window_for_partition_key(first).start.date(),
            definition.time_window_for_partition_key(last).end.date())


def fact_grains(job: dg.JobDefinition) -> list[str]:
    """The grains whose fact table a job recomputes: every grain for the daily and full
    refresh jobs, else its selected fact assets."""
    if job.name in EVERY_GRAIN_JOBS:
        return list(FACT_MODELS)
    names = {key.path[-1] for key in job.asset_layer.selected_asset_keys}
    return [grain for grain, model in FACT_MODELS.items() if model in names]


def schedules_for_grains(defs: dg.Definitions, grains: list[str]) -> list[str]:
    """The schedules whose jobs recompute the fact tables of `grains` not yet covered by
    the daily schedule's job (while there are grain jobs beside it)."""
    wanted, found = set(grains), []
    repository = defs.get_repository_def()
    for schedule in repository.schedule_defs:
        covered = wanted & set(fact_grains(repository.get_job(schedule.job_name)))
        if covered and schedule.name != DAILY_SCHEDULE:
            found.append((min(grains.index(grain) for grain in covered), schedule.name))
            wanted -= covered
    return [name for _, name in sorted(found)]


# --- running a job ---------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """One dbt node's result, from the Dagster event that carried it."""

    unique_id: str
    seconds: float
    status: str
    step: str
    finished_at: float  # event time (epoch seconds)


@dataclass
class Step:
    key: str
    started_at: float
    finished_at: float
    success: bool
    retries: int = 0
    window: tuple[str, str] | None = None  # what the step passed to dbt
    nodes: list[Node] = field(default_factory=list)
    is_report: bool = False  # the scorecard report, rendered in Python

    @property
    def seconds(self) -> float:
        return self.finished_at - self.started_at

    @property
    def dbt_seconds(self) -> float:
        """From the first dbt node's start to the last one's end (dbt's own work, its
        start-up and parse excluded)."""
        if not self.nodes:
            return 0.0
        return (max(node.finished_at for node in self.nodes)
                - min(node.finished_at - node.seconds for node in self.nodes))


@dataclass
class JobRun:
    job_name: str
    run_id: str | None
    success: bool
    seconds: float
    started_at: float  # epoch seconds
    steps: list[Step]
    events: list[dg.DagsterEvent]
    error: str = ""

    @property
    def nodes(self) -> list[Node]:
        return [node for step in self.steps for node in step.nodes]

    @property
    def step_retries(self) -> int:
        return sum(step.retries for step in self.steps)


def execute(defs: dg.Definitions, job_name: str, env: Mapping[str, str | None], *,
            tags: Mapping[str, str] | None = None, log: TextIO | None = None) -> JobRun:
    """Runs `job_name` in this process on an ephemeral instance, with `env` set (the
    warehouse, KPI_AS_OF; the other run settings cleared unless given); dbt's and
    Dagster's output go to `log`. Never raises for a failed run: see JobRun.success."""
    job = defs.resolve_job_def(job_name)
    instance = dg.DagsterInstance.ephemeral()
    run_id, success, error = None, False, ""
    events: list[dg.DagsterEvent] = []
    started, clock = time.time(), time.monotonic()
    with patched_env({**dict.fromkeys(RUN_SETTINGS), **env}), redirected(log):
        try:
            result = job.execute_in_process(tags=dict(tags or {}), instance=instance,
                                            raise_on_error=False)
            run_id, success, events = result.run_id, result.success, result.all_events
        except Exception as exc:  # the run machinery itself broke: a failed run
            error = f"{type(exc).__name__}: {exc}"
    seconds = time.monotonic() - clock
    if not success and not error:
        failures = [event for event in events if event.event_type_value == "STEP_FAILURE"]
        error = (failures[0].message if failures else "") or "run failed"
    records = instance.all_logs(run_id) if run_id else []
    return JobRun(job_name, run_id, success, seconds, started, steps_of(records), events,
                  error)


@contextlib.contextmanager
def redirected(log: TextIO | None) -> Iterator[None]:
    if log is None:
        yield
        return
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def steps_of(records: list[Any]) -> list[Step]:
    """The run's steps, in the order they started, with their dbt nodes."""
    steps: dict[str, Step] = {}
    seen: set[str] = set()
    for record in records:
        key, event = record.step_key, record.dagster_event
        if not key or (key not in steps and getattr(event, "event_type_value", "")
                       != "STEP_START"):
            continue  # planning events come before the step starts
        step = steps.setdefault(key, Step(key, record.timestamp, record.timestamp, False))
        if event is None:
            found = WINDOW_LOG.search(record.user_message or "")
            if found:
                step.window = (found.group(1), found.group(2))
            continue
        kind = event.event_type_value
        step.finished_at = record.timestamp  # the records are in order: the last one ends it
        if kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            step.success = kind == "STEP_SUCCESS"
        elif kind == "STEP_UP_FOR_RETRY":
            step.retries += 1
        if kind == "ASSET_MATERIALIZATION" and event.asset_key == REPORT_KEY:
            step.is_report = True
        metadata = _node_metadata(event)
        unique_id = _value(metadata.get("unique_id"))
        if unique_id and unique_id not in seen:  # the full refresh repeats per partition
            seen.add(unique_id)
            step.nodes.append(Node(str(unique_id), float(_value(metadata.get(DURATION)) or 0),
                                   str(_value(metadata.get("status")) or ""), key,
                                   record.timestamp))
    return sorted(steps.values(), key=lambda step: step.started_at)


def _node_metadata(event: dg.DagsterEvent) -> Mapping[str, Any]:
    kind = event.event_type_value
    if kind == "ASSET_MATERIALIZATION":
        return event.step_materialization_data.materialization.metadata
    if kind == "ASSET_CHECK_EVALUATION":
        return event.asset_check_evaluation_data.metadata
    if kind == "ASSET_OBSERVATION":
        return event.asset_observation_data.asset_observation.metadata
    return {}


def _value(metadata_value: Any) -> Any:
    return getattr(metadata_value, "value", metadata_value)
