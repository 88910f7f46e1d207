"""Bad raw rows for the fault drill: for every reason code the quarantine knows for typed
raw columns, rows built so that this reason is the first rule they break (new rows and
corrupted copies of existing ones), codes the quarantine must read through (other case,
spaces), and resolved_at values the status history contradicts (flagged). Every choice
comes from the random generator given."""

from __future__ import annotations

import copy
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsm_kpi.warehouse import PRIMARY_KEYS, RAW_TABLES
from tools.fault_drill.results import Row

FUTURE_TOLERANCE = timedelta(hours=1)  # the quarantine's future_tolerance_hours() default

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
