"""Faults for the fault drill: the drill database's busy PostgreSQL sessions terminated at
a random moment of a run attempt, or, for a forced kill, a session made to wait on a lock
and terminated there (so the kill always hits a statement in progress)."""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from itsm_kpi import warehouse
from tools.fault_drill.results import Kill

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
        with contextlib.ExitStack() as stack:
            gate = None
            if kill.gated:  # locked before the attempt starts: its first touch of the table
                # waits; the lock goes with the gate's transaction
                gate = stack.enter_context(warehouse.connect("postgres", database=self.database))
                with gate.cursor() as cursor:
                    cursor.execute(f"lock table {GATE_TABLE} in access exclusive mode")
            stop = threading.Event()
            thread = threading.Thread(target=self._hunt,
                                      args=(kill, stop, time.monotonic(), gate),
                                      name="chaos-killer", daemon=True)
            thread.start()
            try:
                yield
            finally:
                stop.set()
                thread.join()

    def _hunt(self, kill: Kill, stop: threading.Event, started: float, gate: Any) -> None:
        if stop.wait(kill.planned_after):
            return  # the attempt ended first
        with warehouse.connect("postgres", database=self.database, autocommit=True) as conn:
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
