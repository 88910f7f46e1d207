"""Faults. A run whose PostgreSQL connection is terminated, or whose dbt process is
killed, in the middle of a build converges when rerun to the marts of an uninterrupted
run; two overlapping runs of the same partition (a scheduled run and a manual backfill)
cannot duplicate rows: Dagster's run queue serializes them, and the fact tables hold even
without it.

To kill a build at a reproducible point, the test holds an ACCESS EXCLUSIVE lock on a
table (a `Gate`): dbt's first statement that touches it waits, visibly, in
pg_stat_activity; the test then kills that session or process, and only then opens the
gate. No sleeps: every wait is on observable state, with a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import fixtures_hand
import psycopg2
import pytest
from harness import REPO_ROOT, Warehouse, patched_env, pg_params
from test_orchestration import Orchestrated, exact_marts, fact_key

from orchestration.definitions import dbt_executable
from orchestration.schedules import RANGE_END, RANGE_START

POSTGRES_ONLY = pytest.mark.parametrize("engine", ["postgres"])
TIMEOUT = 180.0  # seconds to wait for an observable state (dbt starts slowly on a busy CI box)
WINDOW = ("2024-03-12", "2024-03-13")  # the UTC daily partition 2024-03-12
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], timeout: float = TIMEOUT) -> T:
    """Polls `probe` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


GATE_LOCK = 4242  # the advisory lock of an insert gate


class Gate:
    """Holds an ACCESS EXCLUSIVE lock on `table` until `open()`: any other session's
    statement that touches the table waits for it. With `on_insert`, the table is not
    locked; instead a statement trigger installed on it (by the test, on the test's own
    database) makes every insert into it wait for an advisory lock the gate holds: a
    writer waits there after it deleted its old rows, mid-transaction."""

    def __init__(self, database: str, table: str, on_insert: bool = False) -> None:
        self.database = database
        self.table = table
        self.on_insert = on_insert
        self.holder = psycopg2.connect(**pg_params(database))
        self.monitor = psycopg2.connect(**pg_params(database))
        self.monitor.autocommit = True  # a fresh pg_stat_activity snapshot per query
        with self.holder.cursor() as cursor:
            if on_insert:
                self.query(
                    "create or replace function public.kpi_test_gate_wait() returns trigger "
                    "language plpgsql as $$ begin "
                    f"perform pg_advisory_xact_lock_shared({GATE_LOCK}); return null; end $$")
                self.query(f"create trigger kpi_test_gate before insert on {table} "
                           "for each statement execute function public.kpi_test_gate_wait()")
                cursor.execute(f"select pg_advisory_lock({GATE_LOCK})")
            else:
                cursor.execute(f"lock table {table} in access exclusive mode")
            cursor.execute("select pg_backend_pid()")
            (self.holder_pid,) = cursor.fetchone()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.monitor.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def waiting(self) -> list[tuple[int, str, bool]]:
        """(pid, query, has written in its transaction) of the sessions waiting here."""
        return self.query(
            "select pid, query, backend_xid is not null from pg_stat_activity "
            "where %s = any(pg_blocking_pids(pid)) order by backend_start",
            (self.holder_pid,),
        )

    def wait_for_waiting(self, count: int = 1) -> list[tuple[int, str, bool]]:
        return wait_for(f"{count} session(s) waiting at the gate",
                        lambda: (waiting := self.waiting()) and len(waiting) >= count and waiting)

    def terminate(self, pid: int) -> bool:
        return bool(self.query("select pg_terminate_backend(%s)", (pid,))[0][0])

    def other_sessions(self) -> int:
        """Sessions on the database besides the gate's own two."""
        return self.query(
            "select count(*) from pg_stat_activity where datname = %s "
            "and pid not in (%s, pg_backend_pid())", (self.database, self.holder_pid))[0][0]

    def open(self) -> None:
        if not self.holder.closed:
            if self.on_insert:
                with self.holder.cursor() as cursor:
                    cursor.execute(f"select pg_advisory_unlock({GATE_LOCK})")
            self.holder.rollback()

    def close(self) -> None:
        self.open()
        if self.on_insert:
            self.query(f"drop trigger if exists kpi_test_gate on {self.table}")
            self.query("drop function if exists public.kpi_test_gate_wait()")
        self.holder.close()
        self.monitor.close()


@contextlib.contextmanager
def gate(database: str, table: str, on_insert: bool = False) -> Iterator[Gate]:
    held = Gate(database, table, on_insert=on_insert)
    try:
        yield held
    finally:
        held.close()


MODELS_ONLY = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def dbt_process(warehouse: Warehouse, *args: str, log: Path, target: str = "target",
                window: tuple[str, str] | None = None) -> subprocess.Popen:
    """The venv's dbt as a separate process against the warehouse, as a deployment runs it
    (own target and log folders per `target`, output to `log`)."""
    env = {**os.environ, "KPI_DUCKDB_PATH": str(warehouse.duckdb_path),
           "PGDATABASE": warehouse.pg_database, "KPI_AS_OF": fixtures_hand.AS_OF}
    for name in ("DBT_TARGET", "KPI_MIN_DATE", "KPI_MAX_DATE", "KPI_ONLY"):
        env.pop(name, None)
    if window:
        env["KPI_MIN_DATE"], env["KPI_MAX_DATE"] = window
    project = warehouse.project_dir
    command = [dbt_executable(), *args, "--project-dir", str(project),
               "--profiles-dir", str(project), "--target", warehouse.engine,
               "--target-path", str(project / target), "--log-path", str(project / "logs" / target)]
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=project, env=env, stdout=output,
                                stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, log: Path) -> None:
    """Waits for a dbt process and fails with its output unless it succeeded."""
    try:
        code = process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, f"dbt exited with {code}:\n{log.read_text()[-4000:]}"


def dbt_leftovers(warehouse: Warehouse) -> list[str]:
    """Relations dbt creates during a swap and drops after it (__dbt_tmp, __dbt_backup)."""
    rows = warehouse.query(
        "select n.nspname || '.' || c.relname as name from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where c.relname like '%\\_\\_dbt\\_%' and n.nspname not like 'pg\\_%'")
    return sorted(r["name"] for r in rows)


def daily_facts(warehouse: Warehouse) -> list[tuple]:
    return sorted(tuple(r.values()) for r in warehouse.query(
        "select tenant_id, kpi_name, period_start, value from marts.fct_kpi_values_daily"))


def duplicate_keys(warehouse: Warehouse) -> list[dict[str, Any]]:
    return warehouse.query(
        "select tenant_id, kpi_name, grain, period_start, count(*) as n "
        "from marts.fct_kpi_values group by 1, 2, 3, 4 having count(*) > 1")


def materialize_daily(orchestrated: Orchestrated,
                      instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The daily facts of the partition 2024-03-12, the Dagster step of a daily run; the
    result, failed or not."""
    with patched_env(orchestrated.env):
        return dg.materialize(
            orchestrated.defs.assets, selection=[fact_key("daily")], partition_key=WINDOW[0],
            resources=orchestrated.defs.resources, instance=instance, raise_on_error=False)


def tamper_with_the_facts(warehouse: Warehouse, table: str, where: str) -> list[tuple]:
    """Makes some facts stale (what a rebuild must replace); the daily facts after it."""
    changed = warehouse.query(
        f"update marts.{table} set value = value + 1000, status = 'RED' "
        f"where value is not null and {where} returning 1")
    assert changed
    return daily_facts(warehouse)


@pytest.fixture
def orchestrated(warehouse: Warehouse) -> Iterator[Orchestrated]:
    yield Orchestrated(warehouse)


# --- a run killed in the middle converges -----------------------------------------------

@POSTGRES_ONLY
def test_connection_terminated_mid_build_is_retried_and_converges(
        orchestrated: Orchestrated) -> None:
    """The daily facts step of partition 2024-03-12 loses its connection
    (pg_terminate_backend) after deleting the partition's rows and before inserting the
    new ones: the transaction rolls back (readers keep the old rows), the step is retried
    as a transient error, and the marts equal those of an uninterrupted full refresh."""
    warehouse = orchestrated.warehouse
    orchestrated.run_job("kpi_full_refresh_job")
    full = exact_marts(warehouse)
    stale = tamper_with_the_facts(warehouse, "fct_kpi_values_daily", "period_start = '2024-03-12'")

    killed: list[tuple[int, str, bool]] = []
    seen_meanwhile: list[list[tuple]] = []
    problems: list[BaseException] = []
    # the `replace` strategy deletes the window's rows, then inserts the new ones: the
    # insert waits at the gate
    with gate(warehouse.pg_database, "marts.fct_kpi_values_daily", on_insert=True) as held:

        def kill_the_first_attempt() -> None:
            try:
                [(pid, sql, has_written)] = held.wait_for_waiting()
                seen_meanwhile.append(daily_facts(warehouse))  # its delete is uncommitted
                assert held.terminate(pid)
                wait_for("the terminated session to end", lambda: not held.query(
                    "select 1 from pg_stat_activity where pid = %s", (pid,)))
                seen_meanwhile.append(daily_facts(warehouse))  # after the rollback
                killed.append((pid, sql, has_written))
            except BaseException as error:  # reported by the main thread
                problems.append(error)
            finally:
                held.open()

        killer = threading.Thread(target=kill_the_first_attempt)
        killer.start()
        instance = dg.DagsterInstance.ephemeral()
        try:
            result = materialize_daily(orchestrated, instance)
        finally:
            killer.join()
    assert not problems, problems
    [(_, sql, has_written)] = killed
    assert "fct_kpi_values_daily" in sql and has_written  # mid-transaction, after the delete
    assert seen_meanwhile == [stale, stale]

    # the failure read as transient (orchestration.assets.is_transient_error): the
    # in-process executor retried the step once, 10 s later, and it succeeded
    [retry] = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    cause = retry.event_specific_data.error.cause
    assert "server closed the connection unexpectedly" in cause.message, cause.message
    assert any(r.user_message.startswith("transient database error, retrying")
               for r in instance.all_logs(result.run_id))
    assert result.success
    assert exact_marts(warehouse) == full


@POSTGRES_ONLY
def test_killed_dbt_process_then_rerun_converges(warehouse: Warehouse, tmp_path: Path) -> None:
    """`dbt build --full-refresh` SIGKILLed while it swaps in the new daily fact table
    (its __dbt_tmp built, the rename waiting): the database keeps the old table, and a
    rerun, even over leftover __dbt_tmp / __dbt_backup relations, gives the marts of an
    uninterrupted full refresh."""
    fixtures_hand.install_and_build(warehouse)
    full = exact_marts(warehouse)
    stale = tamper_with_the_facts(warehouse, "fct_kpi_values_daily", "true")
    tamper_with_the_facts(warehouse, "fct_kpi_values_monthly", "true")

    log = tmp_path / "killed.log"
    with gate(warehouse.pg_database, "marts.fct_kpi_values_daily") as held:
        # seeds and models only, here and in the rerun: the test compares the marts
        process = dbt_process(warehouse, "build", "--full-refresh", *MODELS_ONLY, log=log)
        try:
            [(_, sql, has_written)] = held.wait_for_waiting()
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=TIMEOUT)
        assert "fct_kpi_values_daily" in sql and has_written, sql
        assert process.returncode == -signal.SIGKILL
        held.open()
        # the orphaned server session ends once it finds its client gone, rolling back
        wait_for("the killed dbt's sessions to end", lambda: held.other_sessions() == 0)
    assert daily_facts(warehouse) == stale  # the daily swap never happened

    # meanwhile other threads may have swapped in the weekly or monthly facts: a kill
    # between such a swap's commit and the drop of the old table leaves a __dbt_backup
    # behind (still read by the union view). Leftovers are planted, so there always are
    # some: the rerun must clear them
    for name in ("marts.fct_kpi_values_daily", "marts.kpi_scorecard",
                 "intermediate.int_kpi__measurements"):
        warehouse.execute(f"create table if not exists {name}__dbt_backup "
                          f"as select * from {name}")
    warehouse.execute("create table if not exists marts.fct_kpi_values_weekly__dbt_tmp "
                      "as select * from marts.fct_kpi_values_weekly")
    assert len(dbt_leftovers(warehouse)) >= 4

    rerun_log = tmp_path / "rerun.log"
    finish(dbt_process(warehouse, "build", "--full-refresh", *MODELS_ONLY, log=rerun_log),
           rerun_log)
    assert exact_marts(warehouse) == full
    assert dbt_leftovers(warehouse) == []


# --- overlapping runs of the same partition ----------------------------------------------

def test_dagster_queues_overlapping_warehouse_runs(tmp_path: Path) -> None:
    """With the deployment's dagster.yaml, a scheduled daily run, a manual backfill over the
    same partition and a weekly run are queued; the run queue starts one warehouse run at
    a time (the freshness observation, which writes nothing, is not held back)."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
        QueuedRunCoordinatorDaemon,
    )

    from orchestration.assets import WAREHOUSE_POOL
    from orchestration.definitions import defs

    # the deployment's settings; runs are "launched" into a list instead of processes
    (tmp_path / "dagster.yaml").write_text(
        (REPO_ROOT / "orchestration" / "dagster.yaml").read_text()
        + "\nrun_launcher:\n  module: dagster._core.test_utils\n  class: MockedRunLauncher\n")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    assert isinstance(instance.run_coordinator, dg.QueuedRunCoordinator)
    queue_config = instance.get_concurrency_config()
    assert queue_config.run_queue_config.tag_concurrency_limits == [
        {"key": "kpi/warehouse", "limit": 1}]
    assert queue_config.pool_config.default_pool_limit == 1

    # every job but the freshness observation writes the warehouse: it carries the tag,
    # and each of its steps takes the pool
    jobs = {job.name: job for job in defs.get_repository_def().get_all_jobs()
            if not job.name.startswith("__")}
    writers = {name for name, job in jobs.items() if "kpi/warehouse" in job.run_tags}
    assert writers == set(jobs) - {"kpi_source_freshness_job"}
    assert {"kpi_daily_job", "kpi_full_refresh_job"} <= writers
    for name in writers:
        assert {node.definition.pool for node in jobs[name].graph.node_dict.values()} == {
            WAREHOUSE_POOL}

    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions",
                             working_directory=str(REPO_ROOT)), location_name="kpi")
    with create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(location),
                                              instance) as workspace:
        request = workspace.create_request_context()
        repository = request.get_code_location("kpi").get_repository("__repository__")

        def submit(job_name: str, tags: dict[str, str]) -> str:
            job = defs.resolve_job_def(job_name)
            remote = repository.get_full_job(job_name)
            run = instance.create_run_for_job(
                job, tags={**job.run_tags, **tags}, remote_job_origin=remote.get_remote_origin(),
                job_code_origin=remote.get_python_origin())
            instance.submit_run(run.run_id, request)
            return run.run_id

        scheduled = submit("kpi_daily_job", {RANGE_START: "2025-03-12", RANGE_END: "2025-03-13",
                                             "dagster/schedule_name": "kpi_daily_schedule"})
        backfill = submit("kpi_daily_job", {RANGE_START: "2025-03-01", RANGE_END: "2025-03-13"})
        weekly = submit("kpi_weekly_facts_job",
                        {RANGE_START: "2025-03-10", RANGE_END: "2025-03-10"})
        freshness = submit("kpi_source_freshness_job", {})

        def statuses() -> list[str]:
            return [instance.get_run_by_id(run_id).status.value
                    for run_id in (scheduled, backfill, weekly, freshness)]

        assert statuses() == ["QUEUED"] * 4
        with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
            list(daemon.run_iteration(workspace))
            assert statuses() == ["STARTING", "QUEUED", "QUEUED", "STARTING"]
            list(daemon.run_iteration(workspace))  # nothing else while the first one runs
            assert statuses() == ["STARTING", "QUEUED", "QUEUED", "STARTING"]
            instance.report_run_failed(instance.get_run_by_id(scheduled))  # it ends
            list(daemon.run_iteration(workspace))
            assert statuses() == ["FAILURE", "STARTING", "QUEUED", "STARTING"]


def remove_lock(project: Path) -> None:
    """Takes the writers' lock out of the `replace` strategy of a project copy."""
    path = project / "macros" / "incremental" / "get_incremental_replace_sql.sql"
    text = path.read_text()
    statement = "lock table {{ target }} in share row exclusive mode;"
    assert statement in text, f"no lock in {path}"
    path.write_text(text.replace(statement, ""))


@POSTGRES_ONLY
@pytest.mark.parametrize("locking", ["as_in_project", "lock_removed"])
def test_two_builds_of_the_same_partition_at_once(warehouse: Warehouse, tmp_path: Path,
                                                  locking: str) -> None:
    """Without Dagster's queue, two dbt runs of the same daily partition start writing at
    the same moment (both wait at the gate, which then opens): no duplicate, no lost row,
    the values of a single run."""
    fixtures_hand.install_and_build(warehouse)
    before = exact_marts(warehouse)
    # after the build (which writes the same rows with or without the lock): the two runs
    # below parse the project again, each in a target folder of its own
    if locking == "lock_removed":
        remove_lock(warehouse.project_dir)

    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes: list[subprocess.Popen] = []
    try:
        with gate(warehouse.pg_database, "marts.fct_kpi_values_daily") as held:
            for number, log in enumerate(logs):
                processes.append(dbt_process(
                    warehouse, "build", "--select", "fct_kpi_values_daily", log=log,
                    target=f"target_{number}", window=WINDOW))
                held.wait_for_waiting(number + 1)  # in order: the first run queues first
            held.open()
            codes = [process.wait(timeout=TIMEOUT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    duplicates = duplicate_keys(warehouse)
    if locking == "lock_removed":
        # the control: without the lock, both runs delete the window, then both insert it
        assert duplicates, "two unlocked runs were expected to write the window twice"
        return
    assert duplicates == [], f"{len(duplicates)} keys twice or more, e.g. {duplicates[:3]}"
    for code, log in zip(codes, logs, strict=True):
        assert code == 0, f"dbt exited with {code}:\n{log.read_text()[-4000:]}"
    assert exact_marts(warehouse) == before
