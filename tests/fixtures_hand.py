"""A small hand-made ITSM data set whose KPI values are worked out by hand in
test_kpis_by_hand.py. as_of = 2024-03-15 12:00 UTC.

Tenants: 1 Asia/Seoul (UTC+9), 2 America/New_York (DST starts 2024-03-10 02:00 local),
3 UTC (targets changed on 2024-03-01, DEPLOY_SUCCESS_RATE disabled, requests without
history), 9 not in tenants.csv (default timezone UTC, no deployments).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import Warehouse, from_template, ts

AS_OF = "2024-03-15T12:00:00Z"

TENANTS_CSV = """tenant_id,tenant_name,timezone
1,Seoul,Asia/Seoul
2,New York,America/New_York
3,Utc Shop,UTC
"""

KPI_TARGETS_CSV = """tenant_id,kpi_name,target,valid_from,valid_to,is_enabled
,MTTR,4,,,true
,FCR,80,,,true
,SLA_COMPLIANCE,95,,,true
,SR_BACKLOG,10,,,true
,DEPLOY_SUCCESS_RATE,95,,,true
3,MTTR,4,,2024-03-01,true
3,MTTR,2,2024-03-01,,true
3,DEPLOY_SUCCESS_RATE,95,,,false
"""

SLA_POLICIES_CSV = """tenant_id,request_type,priority,resolution_hours,pause_on_hold,calendar_name
,INCIDENT,P1,4,false,
,INCIDENT,P2,8,false,
,INCIDENT,P3,24,true,
,INCIDENT,P4,72,true,
,SERVICE_REQUEST,P1,8,true,
,SERVICE_REQUEST,P2,24,true,
,SERVICE_REQUEST,P3,72,true,
,SERVICE_REQUEST,P4,120,true,
1,SERVICE_REQUEST,P3,10,true,
"""


def _sr(sr_id, tenant, rtype, prio, status, created, resolved=None, updated=None,
        assignee=None):
    return {
        "sr_id": sr_id, "tenant_id": tenant, "request_type": rtype, "priority": prio,
        "status": status, "service": "svc", "team": "team", "assignee_id": assignee,
        "created_at": ts(created), "updated_at": ts(updated or resolved or created),
        "resolved_at": ts(resolved) if resolved else None, "caused_by_deployment_id": None,
    }


_event_ids = iter(range(1, 10_000))


def _status(sr_id, tenant, at, status):
    return {"event_id": next(_event_ids), "sr_id": sr_id, "tenant_id": tenant,
            "event_at": ts(at), "event_type": "STATUS", "new_status": status,
            "new_assignee_id": None}


def _assign(sr_id, tenant, at, assignee):
    return {"event_id": next(_event_ids), "sr_id": sr_id, "tenant_id": tenant,
            "event_at": ts(at), "event_type": "ASSIGNMENT", "new_status": None,
            "new_assignee_id": assignee}


def _dep(dep_id, tenant, status, started, finished=None):
    return {"deployment_id": dep_id, "tenant_id": tenant, "service": "svc",
            "environment": "production", "status": status, "started_at": ts(started),
            "finished_at": ts(finished) if finished else None, "commit_at": None}


SERVICE_REQUESTS = [
    # tenant 1, Seoul
    _sr(101, 1, "INCIDENT", "P1", "DONE", "2024-03-04 23:30", "2024-03-05 02:30", assignee=7),
    _sr(102, 1, "INCIDENT", "P2", "DONE", "2024-03-10 10:30", "2024-03-10 15:30", assignee=7),
    _sr(103, 1, "INCIDENT", "P3", "DONE", "2024-02-29 10:00", "2024-02-29 16:00"),
    _sr(104, 1, "SERVICE_REQUEST", "P3", "DONE", "2024-03-05 01:00", "2024-03-05 06:00", assignee=7),
    _sr(105, 1, "SERVICE_REQUEST", "P4", "DONE", "2024-03-06 00:00", "2024-03-06 02:00", assignee=7),
    _sr(106, 1, "CHANGE", "P3", "DONE", "2024-03-06 00:00", "2024-03-06 04:00", assignee=8),
    _sr(107, 1, "SERVICE_REQUEST", "P3", "DONE", "2024-03-06 00:00", "2024-03-06 12:00", assignee=9),
    _sr(108, 1, "INCIDENT", "P2", "DONE", "2024-03-07 00:00", "2024-03-07 10:00", assignee=9),
    _sr(109, 1, "INCIDENT", "P1", "DONE", "2024-03-16 00:00", "2024-03-16 01:00"),  # after as_of
    _sr(110, 1, "INCIDENT", "P4", "DONE", "2024-03-14 00:00", "2024-03-15 13:00"),  # DONE after as_of
    _sr(111, 1, "SERVICE_REQUEST", "P2", "OPEN", "2024-03-15 11:00"),
    # tenant 2, New York
    _sr(201, 2, "INCIDENT", "P2", "DONE", "2024-03-10 06:30", "2024-03-10 07:30", assignee=5),
    _sr(202, 2, "SERVICE_REQUEST", "P3", "OPEN", "2024-03-11 04:30"),
    _sr(203, 2, "INCIDENT", "P1", "DONE", "2024-03-09 12:00", "2024-03-10 12:00"),
    _sr(204, 2, "SERVICE_REQUEST", "P4", "OPEN", "2024-03-11 03:30"),
    # tenant 3, UTC; 301-303 have no history at all
    _sr(301, 3, "INCIDENT", "P3", "DONE", "2024-02-20 00:00", "2024-02-20 03:00", assignee=4),
    _sr(302, 3, "INCIDENT", "P4", "CANCELLED", "2024-03-01 00:00", updated="2024-03-02 00:00"),
    _sr(303, 3, "SERVICE_REQUEST", "P4", "OPEN", "2024-03-03 00:00"),
    _sr(304, 3, "INCIDENT", "P2", "DONE", "2024-03-04 00:00", "2024-03-04 03:00"),
    # tenant 9, not configured
    _sr(901, 9, "SERVICE_REQUEST", "P1", "OPEN", "2024-03-12 00:00"),
]

SR_EVENTS = [
    _status(101, 1, "2024-03-04 23:30", "OPEN"),
    _assign(101, 1, "2024-03-04 23:35", 7),
    _status(101, 1, "2024-03-05 00:00", "IN_PROGRESS"),
    _status(101, 1, "2024-03-05 02:30", "DONE"),
    _status(102, 1, "2024-03-10 10:30", "OPEN"),
    _assign(102, 1, "2024-03-10 10:40", 7),
    _status(102, 1, "2024-03-10 15:30", "DONE"),
    _status(103, 1, "2024-02-29 10:00", "OPEN"),
    _status(103, 1, "2024-02-29 16:00", "DONE"),
    _status(104, 1, "2024-03-05 01:00", "OPEN"),
    _assign(104, 1, "2024-03-05 01:10", 7),
    _status(104, 1, "2024-03-05 03:00", "DONE"),
    _status(104, 1, "2024-03-05 04:00", "IN_PROGRESS"),
    _status(104, 1, "2024-03-05 06:00", "DONE"),
    _status(105, 1, "2024-03-06 00:00", "OPEN"),
    _assign(105, 1, "2024-03-06 00:10", 7),
    _assign(105, 1, "2024-03-06 00:20", 7),
    _status(105, 1, "2024-03-06 02:00", "DONE"),
    _status(106, 1, "2024-03-06 00:00", "OPEN"),
    _assign(106, 1, "2024-03-06 00:10", 7),
    _assign(106, 1, "2024-03-06 00:20", 8),
    _status(106, 1, "2024-03-06 04:00", "DONE"),
    _status(107, 1, "2024-03-06 00:00", "OPEN"),
    _assign(107, 1, "2024-03-06 00:05", 9),
    _status(107, 1, "2024-03-06 02:00", "ON_HOLD"),
    _status(107, 1, "2024-03-06 08:00", "IN_PROGRESS"),
    _status(107, 1, "2024-03-06 12:00", "DONE"),
    _status(108, 1, "2024-03-07 00:00", "OPEN"),
    _assign(108, 1, "2024-03-07 00:05", 9),
    _status(108, 1, "2024-03-07 01:00", "ON_HOLD"),
    _status(108, 1, "2024-03-07 04:00", "IN_PROGRESS"),
    _status(108, 1, "2024-03-07 10:00", "DONE"),
    _status(109, 1, "2024-03-16 00:00", "OPEN"),
    _status(109, 1, "2024-03-16 01:00", "DONE"),
    _status(110, 1, "2024-03-14 00:00", "OPEN"),
    _status(110, 1, "2024-03-15 13:00", "DONE"),
    _status(111, 1, "2024-03-15 11:00", "OPEN"),
    _status(201, 2, "2024-03-10 06:30", "OPEN"),
    _assign(201, 2, "2024-03-10 06:35", 5),
    _status(201, 2, "2024-03-10 07:30", "DONE"),
    _status(202, 2, "2024-03-11 04:30", "OPEN"),
    _status(203, 2, "2024-03-09 12:00", "OPEN"),
    _status(203, 2, "2024-03-10 12:00", "DONE"),
    _status(204, 2, "2024-03-11 03:30", "OPEN"),
    _status(304, 3, "2024-03-04 00:00", "OPEN"),
    _status(304, 3, "2024-03-04 03:00", "DONE"),
]

DEPLOYMENTS = [
    _dep(11, 1, "DEPLOYED", "2024-03-05 00:00", "2024-03-05 00:30"),
    _dep(12, 1, "FAILED", "2024-03-05 01:00", "2024-03-05 01:20"),
    _dep(13, 1, "ROLLED_BACK", "2024-03-12 00:00", "2024-03-12 00:40"),
    _dep(14, 1, "IN_PROGRESS", "2024-03-15 10:00"),
    _dep(15, 1, "CANCELLED", "2024-03-08 00:00", "2024-03-08 01:00"),
    _dep(16, 1, "DEPLOYED", "2024-03-15 11:50", "2024-03-15 12:30"),  # finished after as_of
    _dep(17, 1, "DEPLOYED", "2024-02-29 15:00", "2024-02-29 15:30"),  # 1 March in Seoul
    _dep(21, 2, "DEPLOYED", "2024-03-10 04:00", "2024-03-10 05:30"),
]

RAW = {"service_requests": SERVICE_REQUESTS, "sr_events": SR_EVENTS, "deployments": DEPLOYMENTS}


def install(warehouse) -> None:
    """Writes this scenario's seeds into the warehouse's project copy and loads its rows."""
    warehouse.write_file("seeds/tenants.csv", TENANTS_CSV)
    warehouse.write_file("seeds/kpi_targets.csv", KPI_TARGETS_CSV)
    warehouse.write_file("seeds/sla_policies.csv", SLA_POLICIES_CSV)
    warehouse.load_raw(RAW)


def install_and_build(warehouse: Warehouse, as_of: str = AS_OF,
                      raw: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """What `install(warehouse)`, then `warehouse.load_raw(raw)` (if given), then
    `warehouse.build(as_of)` make of a new warehouse, as a copy of this process's one such
    build per engine and data (harness.from_template): the tests that start from the
    same build, then change it, share one."""

    def prepare(template: Warehouse) -> None:
        install(template)
        if raw is not None:
            template.load_raw(raw)
        template.build(as_of)

    data = hashlib.sha256(repr((TENANTS_CSV, KPI_TARGETS_CSV, SLA_POLICIES_CSV, RAW, raw))
                          .encode()).hexdigest()[:16]
    from_template(warehouse, f"hand build at {as_of}, data {data}", prepare)


@contextmanager
def built_warehouse(engine: str, folder: Path) -> Iterator[Warehouse]:
    """A fresh warehouse of `engine` in `folder` with this scenario built at AS_OF,
    dropped afterwards (the module fixtures of the tests that read its marts). DuckDB and
    PostgreSQL: a copy of this process's one such build (install_and_build)."""
    warehouse = Warehouse(engine, folder)
    try:
        if engine == "spark":
            install(warehouse)
            # Spark: seeds and models only (every data test runs on Spark as an asset
            # check of test_spark_jobs's daily run; each costs a Spark job here)
            warehouse.build(AS_OF, "--exclude-resource-type", "test")
        else:
            install_and_build(warehouse)
        yield warehouse
    finally:
        warehouse.drop()
