"""marts.open_request_aging (what is open now) on a hand-made data set, on DuckDB and
PostgreSQL, against values worked out by hand below; its row count per tenant against the
backlog; and a windowed daily run at a later as_of against a full build.

as_of = 2024-03-15 12:00 UTC. Tenant 1 is UTC, tenant 2 Asia/Seoul (its own INCIDENT/P1
policy of 10 h beats the default 4 h). SLA policies (seeds/sla_policies.csv of this test):
INCIDENT/P1 4 h and INCIDENT/P2 24 h without pause, SERVICE_REQUEST/P3 48 h and
SERVICE_REQUEST/P4 200 h pausing on hold; CHANGE has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from harness import ENGINES, Warehouse, normalise, patched_env, ts

AS_OF = "2024-03-15T12:00:00Z"
LATER = "2024-03-15T18:00:00Z"

TENANTS_CSV = """tenant_id,tenant_name,timezone
1,Utc Desk,UTC
2,Seoul Desk,Asia/Seoul
"""

SLA_POLICIES_CSV = """tenant_id,request_type,priority,resolution_hours,pause_on_hold,calendar_name
,INCIDENT,P1,4,false,
,INCIDENT,P2,24,false,
,SERVICE_REQUEST,P3,48,true,
,SERVICE_REQUEST,P4,200,true,
2,INCIDENT,P1,10,false,
"""

_event_ids = count(1)


def _sr(sr_id: int, tenant: int, rtype: str, prio: str, status: str, created: str,
        resolved: str | None = None, updated: str | None = None, assignee: int | None = None,
        team: str | None = "desk") -> dict[str, Any]:
    return {
        "sr_id": sr_id, "tenant_id": tenant, "request_type": rtype, "priority": prio,
        "status": status, "service": "mail", "team": team, "assignee_id": assignee,
        "created_at": ts(created), "updated_at": ts(updated or resolved or created),
        "resolved_at": ts(resolved) if resolved else None, "caused_by_deployment_id": None,
    }


def _status(sr_id: int, tenant: int, at: str, status: str) -> dict[str, Any]:
    return {"event_id": next(_event_ids), "sr_id": sr_id, "tenant_id": tenant,
            "event_at": ts(at), "event_type": "STATUS", "new_status": status,
            "new_assignee_id": None}


SERVICE_REQUESTS = [
    # 1: open, no history at all: the synthesized timeline (OPEN at created_at)
    _sr(1, 1, "INCIDENT", "P2", "OPEN", "2024-03-15 00:00", assignee=7),
    # 2: reopened twice, in progress since 13 Mar 00:00
    _sr(2, 1, "SERVICE_REQUEST", "P4", "IN_PROGRESS", "2024-03-10 00:00", updated="2024-03-13 00:00"),
    # 3: on hold now, under a policy that pauses on hold (24 h on hold before, and since 09:30)
    _sr(3, 1, "SERVICE_REQUEST", "P3", "ON_HOLD", "2024-03-13 00:00", updated="2024-03-15 09:30"),
    # 4: a CHANGE: no SLA policy; no team
    _sr(4, 1, "CHANGE", "P1", "IN_PROGRESS", "2024-03-01 00:00", updated="2024-03-01 01:00",
        team=None),
    # 5: breached: INCIDENT/P1 4 h without pause, on hold since 07:00
    _sr(5, 1, "INCIDENT", "P1", "ON_HOLD", "2024-03-15 06:00", updated="2024-03-15 07:00"),
    # 6: closed (DONE) before as_of: absent
    _sr(6, 1, "INCIDENT", "P2", "DONE", "2024-03-14 00:00", resolved="2024-03-14 05:00"),
    # 7: cancelled, no history (synthesized CANCELLED at updated_at): absent
    _sr(7, 1, "SERVICE_REQUEST", "P3", "CANCELLED", "2024-03-12 00:00", updated="2024-03-13 00:00"),
    # 8: cancelled through its events: absent
    _sr(8, 1, "INCIDENT", "P2", "CANCELLED", "2024-03-12 00:00", updated="2024-03-12 05:00"),
    # 9: resolved exactly at as_of: SR_BACKLOG counts changes strictly before its cutoff,
    # so it is still open (OPEN since 08:00) in this build, as in the backlog
    _sr(9, 1, "INCIDENT", "P2", "DONE", "2024-03-15 08:00", resolved="2024-03-15 12:00"),
    # 10: created after as_of: absent (in the later build: open)
    _sr(10, 1, "INCIDENT", "P2", "OPEN", "2024-03-15 12:30"),
    # 11: created exactly at as_of: not yet in the backlog, absent (in the later build: open)
    _sr(11, 1, "INCIDENT", "P2", "OPEN", "2024-03-15 12:00"),
    # 21: tenant 2, no history: its own INCIDENT/P1 policy (10 h)
    _sr(21, 2, "INCIDENT", "P1", "OPEN", "2024-03-15 06:00"),
]

SR_EVENTS = [
    _status(2, 1, "2024-03-10 00:00", "OPEN"),
    _status(2, 1, "2024-03-10 06:00", "DONE"),
    _status(2, 1, "2024-03-11 00:00", "IN_PROGRESS"),  # reopen 1
    _status(2, 1, "2024-03-11 12:00", "DONE"),
    _status(2, 1, "2024-03-12 00:00", "OPEN"),  # reopen 2
    _status(2, 1, "2024-03-13 00:00", "IN_PROGRESS"),
    _status(3, 1, "2024-03-13 00:00", "OPEN"),
    _status(3, 1, "2024-03-13 02:00", "IN_PROGRESS"),
    _status(3, 1, "2024-03-13 06:00", "ON_HOLD"),
    _status(3, 1, "2024-03-14 06:00", "IN_PROGRESS"),  # 24 h on hold
    _status(3, 1, "2024-03-15 09:30", "ON_HOLD"),
    _status(4, 1, "2024-03-01 00:00", "OPEN"),
    _status(4, 1, "2024-03-01 01:00", "IN_PROGRESS"),
    _status(5, 1, "2024-03-15 06:00", "OPEN"),
    _status(5, 1, "2024-03-15 07:00", "ON_HOLD"),
    _status(6, 1, "2024-03-14 00:00", "OPEN"),
    _status(6, 1, "2024-03-14 05:00", "DONE"),
    _status(8, 1, "2024-03-12 00:00", "OPEN"),
    _status(8, 1, "2024-03-12 05:00", "CANCELLED"),
    _status(9, 1, "2024-03-15 08:00", "OPEN"),
    _status(9, 1, "2024-03-15 12:00", "DONE"),
]

COLUMNS = ("tenant_id", "request_type", "priority", "team", "assignee_id", "status",
           "created_at", "age_hours", "status_since", "hours_in_status", "on_hold_hours",
           "reopen_count", "sla_resolution_hours", "sla_due_at", "is_sla_breached")


def row(tenant: int, rtype: str, prio: str, team: str | None, assignee: int | None,
        status: str, created: str, age: float, since: str, in_status: float, on_hold: float,
        reopens: int, sla_hours: float | None, due: str | None, breached: bool) -> dict:
    return dict(zip(COLUMNS, (
        tenant, rtype, prio, team, assignee, status, datetime.fromisoformat(created), age,
        datetime.fromisoformat(since), in_status, on_hold, reopens, sla_hours,
        datetime.fromisoformat(due) if due else None, breached), strict=True))


# at 2024-03-15 12:00, worked out by hand
EXPECTED = {
    # 12 h old, OPEN since creation; INCIDENT/P2 24 h: due 16 Mar 00:00
    1: row(1, "INCIDENT", "P2", "desk", 7, "OPEN", "2024-03-15 00:00", 12.0,
           "2024-03-15 00:00", 12.0, 0.0, 0, 24.0, "2024-03-16 00:00", False),
    # 5.5 days = 132 h old; IN_PROGRESS since 13 Mar 00:00 = 60 h; reopened twice;
    # SERVICE_REQUEST/P4 200 h, no hold: due 10 Mar + 200 h = 18 Mar 08:00
    2: row(1, "SERVICE_REQUEST", "P4", "desk", None, "IN_PROGRESS", "2024-03-10 00:00", 132.0,
           "2024-03-13 00:00", 60.0, 0.0, 2, 200.0, "2024-03-18 08:00", False),
    # 60 h old; on hold 24 h (13 Mar 06:00 - 14 Mar 06:00) + 2.5 h (09:30 - 12:00) = 26.5 h;
    # SERVICE_REQUEST/P3 48 h pausing: due 13 Mar 00:00 + 74.5 h = 16 Mar 02:30, not
    # breached (without the pause it would have been due 15 Mar 00:00)
    3: row(1, "SERVICE_REQUEST", "P3", "desk", None, "ON_HOLD", "2024-03-13 00:00", 60.0,
           "2024-03-15 09:30", 2.5, 26.5, 0, 48.0, "2024-03-16 02:30", False),
    # 14.5 days = 348 h old, IN_PROGRESS since 1 Mar 01:00 = 347 h; a CHANGE: no policy
    4: row(1, "CHANGE", "P1", None, None, "IN_PROGRESS", "2024-03-01 00:00", 348.0,
           "2024-03-01 01:00", 347.0, 0.0, 0, None, None, False),
    # 6 h old, ON_HOLD since 07:00 = 5 h on hold; INCIDENT/P1 4 h, no pause: due 10:00, breached
    5: row(1, "INCIDENT", "P1", "desk", None, "ON_HOLD", "2024-03-15 06:00", 6.0,
           "2024-03-15 07:00", 5.0, 5.0, 0, 4.0, "2024-03-15 10:00", True),
    # DONE at exactly 12:00: OPEN since 08:00 just before as_of; due 16 Mar 08:00
    9: row(1, "INCIDENT", "P2", "desk", None, "OPEN", "2024-03-15 08:00", 4.0,
           "2024-03-15 08:00", 4.0, 0.0, 0, 24.0, "2024-03-16 08:00", False),
    # tenant 2: its own INCIDENT/P1 policy of 10 h: due 16:00, not breached
    21: row(2, "INCIDENT", "P1", "desk", None, "OPEN", "2024-03-15 06:00", 6.0,
            "2024-03-15 06:00", 6.0, 0.0, 0, 10.0, "2024-03-15 16:00", False),
}
# the backlog by hand: tenant 1 has 1, 2, 3, 4, 5 and 9 open; tenant 2 has 21
BACKLOG = {1: 6, 2: 1}


def later_raw() -> dict[str, list[dict[str, Any]]]:
    """What the application wrote between 12:00 and 18:00: request 1 resolved at 15:00
    (its row only: still no history), request 3 off hold at 14:00."""
    requests = [
        _sr(1, 1, "INCIDENT", "P2", "DONE", "2024-03-15 00:00", resolved="2024-03-15 15:00",
            assignee=7) if r["sr_id"] == 1
        else {**r, "status": "IN_PROGRESS", "updated_at": ts("2024-03-15 14:00")} if r["sr_id"] == 3
        else r
        for r in SERVICE_REQUESTS
    ]
    events = [*SR_EVENTS, _status(3, 1, "2024-03-15 14:00", "IN_PROGRESS")]
    return {"service_requests": requests, "sr_events": events, "deployments": []}


# at 2024-03-15 18:00 after those changes, by hand
EXPECTED_LATER = {
    # 1 DONE at 15:00, 9 DONE at 12:00: absent
    2: row(1, "SERVICE_REQUEST", "P4", "desk", None, "IN_PROGRESS", "2024-03-10 00:00", 138.0,
           "2024-03-13 00:00", 66.0, 0.0, 2, 200.0, "2024-03-18 08:00", False),
    # on hold 24 h + 4.5 h (09:30 - 14:00) = 28.5 h: due 13 Mar 00:00 + 76.5 h = 16 Mar 04:30
    3: row(1, "SERVICE_REQUEST", "P3", "desk", None, "IN_PROGRESS", "2024-03-13 00:00", 66.0,
           "2024-03-15 14:00", 4.0, 28.5, 0, 48.0, "2024-03-16 04:30", False),
    4: row(1, "CHANGE", "P1", None, None, "IN_PROGRESS", "2024-03-01 00:00", 354.0,
           "2024-03-01 01:00", 353.0, 0.0, 0, None, None, False),
    # still on hold: 11 h on hold (the policy does not pause: due still 10:00)
    5: row(1, "INCIDENT", "P1", "desk", None, "ON_HOLD", "2024-03-15 06:00", 12.0,
           "2024-03-15 07:00", 11.0, 11.0, 0, 4.0, "2024-03-15 10:00", True),
    10: row(1, "INCIDENT", "P2", "desk", None, "OPEN", "2024-03-15 12:30", 5.5,
            "2024-03-15 12:30", 5.5, 0.0, 0, 24.0, "2024-03-16 12:30", False),
    11: row(1, "INCIDENT", "P2", "desk", None, "OPEN", "2024-03-15 12:00", 6.0,
            "2024-03-15 12:00", 6.0, 0.0, 0, 24.0, "2024-03-16 12:00", False),
    # due 16:00, now past: breached
    21: row(2, "INCIDENT", "P1", "desk", None, "OPEN", "2024-03-15 06:00", 12.0,
            "2024-03-15 06:00", 12.0, 0.0, 0, 10.0, "2024-03-15 16:00", True),
}
# tenant 1 has 2, 3, 4, 5, 10 and 11 open; tenant 2 has 21
BACKLOG_LATER = {1: 6, 2: 1}


def install(warehouse: Warehouse) -> None:
    warehouse.write_file("seeds/tenants.csv", TENANTS_CSV)
    warehouse.write_file("seeds/sla_policies.csv", SLA_POLICIES_CSV)
    warehouse.load_raw({"service_requests": SERVICE_REQUESTS, "sr_events": SR_EVENTS,
                        "deployments": []})


@pytest.fixture(scope="module", params=ENGINES)
def built(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    warehouse = Warehouse(request.param, tmp_path_factory.mktemp(f"aging_{request.param}"))
    try:
        install(warehouse)
        warehouse.build(AS_OF)
        yield warehouse
    finally:
        warehouse.drop()


def aging(warehouse: Warehouse) -> dict[int, dict]:
    rows = warehouse.query("select * from marts.open_request_aging")
    return {r["sr_id"]: {k: normalise(v) for k, v in r.items()} for r in rows}


def backlog(warehouse: Warehouse) -> dict[int, float]:
    """SR_BACKLOG of each tenant's current period, as the scorecard shows it."""
    rows = warehouse.query(
        "select tenant_id, value from marts.kpi_scorecard where kpi_name = 'SR_BACKLOG'"
    )
    return {r["tenant_id"]: r["value"] for r in rows}


def open_counts(rows: dict[int, dict]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in rows.values():
        counts[r["tenant_id"]] = counts.get(r["tenant_id"], 0) + 1
    return counts


def test_open_requests_by_hand(built: Warehouse) -> None:
    rows = aging(built)
    # 6 closed, 7 and 8 cancelled, 10 created after as_of, 11 created at as_of: absent
    assert set(rows) == set(EXPECTED)
    for sr_id, expected in EXPECTED.items():
        assert {k: rows[sr_id][k] for k in COLUMNS} == expected, sr_id
        assert rows[sr_id]["service"] == "mail"
        assert rows[sr_id]["as_of"] == datetime(2024, 3, 15, 12)


def test_row_count_per_tenant_is_the_backlog(built: Warehouse) -> None:
    # SR_BACKLOG of the current day counts the changes strictly before as_of, as the
    # mart does: request 9 (DONE at 12:00 exactly) is in both, 11 (created at 12:00) in none
    assert open_counts(aging(built)) == BACKLOG
    assert backlog(built) == {tenant: float(n) for tenant, n in BACKLOG.items()}
    current = built.query(
        "select fct_kpi_values.tenant_id, fct_kpi_values.value"
        " from marts.fct_kpi_values"
        " inner join marts.kpi_scorecard"
        "   on fct_kpi_values.tenant_id = kpi_scorecard.tenant_id"
        "   and fct_kpi_values.kpi_name = kpi_scorecard.kpi_name"
        "   and fct_kpi_values.grain = 'DAILY'"
        "   and fct_kpi_values.period_start = kpi_scorecard.period_start"
        " where fct_kpi_values.kpi_name = 'SR_BACKLOG'"
    )
    assert {r["tenant_id"]: r["value"] for r in current} == backlog(built)


def test_a_windowed_daily_run_at_a_later_as_of(built: Warehouse) -> None:
    """Runs last (it moves the module's warehouse to 18:00): the daily window of 14-15
    March recomputes the changed requests and those on hold only; the mart, rebuilt from
    the complete core tables, equals the hand values and a full build at the same as_of."""
    built.load_raw(later_raw())
    with patched_env({"KPI_MIN_DATE": "2024-03-14", "KPI_MAX_DATE": "2024-03-16"}):
        built.build(LATER, data_tests=False)
    windowed = aging(built)
    assert set(windowed) == set(EXPECTED_LATER)
    for sr_id, expected in EXPECTED_LATER.items():
        assert {k: windowed[sr_id][k] for k in COLUMNS} == expected, sr_id
    assert open_counts(windowed) == BACKLOG_LATER
    assert backlog(built) == {tenant: float(n) for tenant, n in BACKLOG_LATER.items()}

    built.build(LATER, data_tests=False)
    assert aging(built) == windowed


def test_the_readme_example(built: Warehouse, tmp_path: Path) -> None:
    """The README's query ("what is stuck right now for tenant 1, breached first"), read
    from the README, on whatever as_of the warehouse was last built at."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    marker = "-- what is stuck right now for tenant 1, breached first"
    start = readme.index(marker)
    sql = readme[start:readme.index("```", start)]
    rows = built.query(sql)
    stored = aging(built)
    expected = sorted(
        (r for r in stored.values() if r["tenant_id"] == 1),
        key=lambda r: (not r["is_sla_breached"],
                       r["sla_due_at"] or datetime.max, -r["age_hours"]),
    )
    assert [r["sr_id"] for r in rows] == [r["sr_id"] for r in expected]
