"""Unit tests of the plain-Python KPI oracle on tiny hand-made inputs.

Every expected value is worked out by hand in the comments next to it.
"""

from __future__ import annotations

import random
import time as _time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .kpi_reference import (
    DORA_KPIS,
    SHIPPED_DEPLOYMENT_ENVIRONMENTS,
    benchmark_levels,
    compute,
    dora_level,
    is_production,
    load_seeds,
    overall_level,
    percentile_cont,
    production_mapping,
    round_half_up,
    traffic_light,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "seeds"

TENANTS = [
    {"tenant_id": 1, "tenant_name": "Seoul", "timezone": "Asia/Seoul"},
    {"tenant_id": 2, "tenant_name": "New York", "timezone": "America/New_York"},
    {"tenant_id": 4, "tenant_name": "Global", "timezone": "UTC"},
]


def dt(s: str) -> datetime:
    return datetime.fromisoformat(s)


def d(s: str) -> date:
    return date.fromisoformat(s)


@pytest.fixture(scope="module")
def seeds():
    return load_seeds(SEED_DIR)


def sr(
    sr_id,
    tenant_id,
    created,
    *,
    rtype="INCIDENT",
    prio="P3",
    status="OPEN",
    resolved=None,
    updated=None,
    assignee=None,
):
    return {
        "sr_id": sr_id,
        "tenant_id": tenant_id,
        "request_type": rtype,
        "priority": prio,
        "status": status,
        "service": None,
        "team": None,
        "assignee_id": assignee,
        "created_at": dt(created),
        "updated_at": dt(updated or created),
        "resolved_at": dt(resolved) if resolved else None,
        "caused_by_deployment_id": None,
    }


class Events:
    """Builds sr_events rows with increasing event ids."""

    def __init__(self):
        self.rows: list[dict] = []

    def status(self, sr_id, tenant_id, at, new_status, event_id=None):
        self.rows.append(
            {
                "event_id": event_id if event_id is not None else len(self.rows) + 1,
                "sr_id": sr_id,
                "tenant_id": tenant_id,
                "event_at": dt(at),
                "event_type": "STATUS",
                "new_status": new_status,
                "new_assignee_id": None,
            }
        )

    def assign(self, sr_id, tenant_id, at, who):
        self.rows.append(
            {
                "event_id": len(self.rows) + 1,
                "sr_id": sr_id,
                "tenant_id": tenant_id,
                "event_at": dt(at),
                "event_type": "ASSIGNMENT",
                "new_status": None,
                "new_assignee_id": who,
            }
        )


def dep(dep_id, tenant_id, status, started, finished=None):
    return {
        "deployment_id": dep_id,
        "tenant_id": tenant_id,
        "service": "api",
        "environment": "prod",
        "status": status,
        "started_at": dt(started),
        "finished_at": dt(finished) if finished else None,
        "commit_at": None,
    }


def run(
    seeds,
    requests,
    events=(),
    deployments=(),
    as_of="2024-05-01T00:00:00",
    targets=None,
    policies=None,
    tenants=TENANTS,
):
    return compute(
        service_requests=list(requests),
        sr_events=list(events),
        deployments=list(deployments),
        tenants=tenants,
        kpi_definitions=seeds["kpi_definitions"],
        kpi_targets=seeds["kpi_targets"] if targets is None else targets,
        sla_policies=seeds["sla_policies"] if policies is None else policies,
        as_of=dt(as_of),
    )


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def test_round_half_up_on_shortest_repr():
    assert round_half_up(2.675, 2) == 2.68  # binary 2.67499999... but repr '2.675'
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(33.35, 1) == 33.4
    assert round_half_up(-2.5, 0) == -3.0  # away from zero
    assert round_half_up(1 / 3 * 100, 1) == 33.3
    assert round_half_up(None, 1) is None


def test_traffic_light_every_branch():
    # NO_DATA
    assert traffic_light(None, 80, "HIGHER_BETTER") == (None, "NO_DATA")
    # HIGHER_BETTER: 76/80*100 = 95.0 -> GREEN (boundary inclusive)
    assert traffic_light(76.0, 80, "HIGHER_BETTER") == (95.0, "GREEN")
    # 75.9/80*100 = 94.875 -> YELLOW, achievement rounds to 94.9
    assert traffic_light(75.9, 80, "HIGHER_BETTER") == (94.9, "YELLOW")
    # 64/80*100 = 80.0 -> YELLOW (boundary inclusive)
    assert traffic_light(64.0, 80, "HIGHER_BETTER") == (80.0, "YELLOW")
    # 63.9/80*100 = 79.875 -> RED, 79.9
    assert traffic_light(63.9, 80, "HIGHER_BETTER") == (79.9, "RED")
    # status decided before rounding the achievement: 90.24/95*100 = 94.989... -> YELLOW
    # although its rounded achievement shows 95.0
    assert traffic_light(90.24, 95, "HIGHER_BETTER") == (95.0, "YELLOW")
    # above target
    assert traffic_light(100.0, 80, "HIGHER_BETTER") == (125.0, "GREEN")
    # LOWER_BETTER: at or below target -> GREEN 100
    assert traffic_light(4.0, 4, "LOWER_BETTER") == (100.0, "GREEN")
    assert traffic_light(1.0, 4, "LOWER_BETTER") == (100.0, "GREEN")
    # 4.8 <= 1.2*4 -> YELLOW, 4/4.8*100 = 83.33 -> 83.3
    assert traffic_light(4.8, 4, "LOWER_BETTER") == (83.3, "YELLOW")
    # 4.81 > 4.8 -> RED, 4/4.81*100 = 83.16 -> 83.2
    assert traffic_light(4.81, 4, "LOWER_BETTER") == (83.2, "RED")
    # target 0: value 0 -> GREEN 100; value > 0 -> achievement 0, RED
    assert traffic_light(0.0, 0, "LOWER_BETTER") == (100.0, "GREEN")
    assert traffic_light(3.0, 0, "LOWER_BETTER") == (0.0, "RED")
    # custom thresholds
    assert traffic_light(70.0, 80, "HIGHER_BETTER", 85, 60) == (87.5, "GREEN")
    assert traffic_light(11.0, 10, "LOWER_BETTER", lower_better_yellow_ratio=1.05) == (90.9, "RED")


def test_load_seeds_types(seeds):
    defs = {r["kpi_name"]: r for r in seeds["kpi_definitions"]}
    assert set(defs) - set(DORA_KPIS) == {"MTTR", "MTTR_MEDIAN", "MTTR_P90", "FCR",
                                          "SLA_COMPLIANCE", "SR_BACKLOG",
                                          "DEPLOY_SUCCESS_RATE"}
    assert defs["MTTR_MEDIAN"]["aggregation"] == "PERCENTILE"
    assert defs["MTTR_MEDIAN"]["percentile"] == 0.5 and defs["MTTR_P90"]["percentile"] == 0.9
    assert defs["MTTR"]["percentile"] is None
    assert defs["MTTR"]["default_target"] == 4.0
    assert defs["FCR"]["value_multiplier"] == 100.0
    assert defs["MTTR"]["value_decimals"] == 2
    assert defs["SR_BACKLOG"]["is_builtin"] is True
    t = seeds["kpi_targets"][0]
    assert t["tenant_id"] is None and t["valid_from"] is None and t["is_enabled"] is True
    assert isinstance(t["target"], float)
    p = seeds["sla_policies"][0]
    assert p["pause_on_hold"] is False and p["resolution_hours"] == 4.0
    assert {r["tenant_id"] for r in seeds["tenants"]} == {1, 2, 3, 4}


# --------------------------------------------------------------------------------------
# time zones
# --------------------------------------------------------------------------------------


def test_seoul_day_boundary(seeds):
    # Same incident in Seoul (tenant 1, UTC+9) and in UTC (tenant 4):
    # created 2024-03-10 14:00 UTC (= 23:00 KST on the 10th),
    # DONE at 2024-03-10 23:30 UTC (= 08:30 KST on the 11th). MTTR = 9.5 h.
    ev = Events()
    reqs = []
    for sr_id, tid in ((1, 1), (2, 4)):
        reqs.append(
            sr(sr_id, tid, "2024-03-10T14:00:00", status="DONE", resolved="2024-03-10T23:30:00")
        )
        ev.status(sr_id, tid, "2024-03-10T14:00:00", "OPEN")
        ev.status(sr_id, tid, "2024-03-10T23:30:00", "DONE")
    res = run(seeds, reqs, ev.rows, as_of="2024-03-20T00:00:00")
    kv = res.kpi_values

    # Seoul: the resolution belongs to local day 2024-03-11.
    seoul_11 = kv[(1, "MTTR", "DAILY", d("2024-03-11"))]
    assert (seoul_11["value"], seoul_11["numerator"], seoul_11["denominator"]) == (9.5, 9.5, 1.0)
    # 9.5 > 1.2*4 -> RED; 4/9.5*100 = 42.105 -> 42.1
    assert (seoul_11["status"], seoul_11["achievement_pct"]) == ("RED", 42.1)
    seoul_10 = kv[(1, "MTTR", "DAILY", d("2024-03-10"))]
    assert seoul_10["value"] is None and seoul_10["status"] == "NO_DATA"
    assert (seoul_10["numerator"], seoul_10["denominator"]) == (0.0, 0.0)
    assert seoul_10["achievement_pct"] is None
    # UTC tenant: the same resolution is on 2024-03-10.
    assert kv[(4, "MTTR", "DAILY", d("2024-03-10"))]["value"] == 9.5
    assert (4, "MTTR", "DAILY", d("2024-03-11")) in kv
    assert kv[(4, "MTTR", "DAILY", d("2024-03-11"))]["value"] is None
    # 2024-03-10 is a Sunday: Seoul's week is the one of Monday 03-11, UTC's the one of 03-04.
    assert kv[(1, "MTTR", "WEEKLY", d("2024-03-11"))]["value"] == 9.5
    assert kv[(1, "MTTR", "WEEKLY", d("2024-03-04"))]["value"] is None
    assert kv[(4, "MTTR", "WEEKLY", d("2024-03-04"))]["value"] == 9.5
    assert kv[(4, "MTTR", "WEEKLY", d("2024-03-04"))]["period_end"] == d("2024-03-11")

    # Seoul backlog: day 03-10 ends at 2024-03-10 15:00 UTC; the request (created 14:00 UTC)
    # is still OPEN then -> 1. Day 03-11 ends at 03-11 15:00 UTC, after DONE -> 0.
    assert kv[(1, "SR_BACKLOG", "DAILY", d("2024-03-10"))]["value"] == 1.0
    assert kv[(1, "SR_BACKLOG", "DAILY", d("2024-03-11"))]["value"] == 0.0
    assert kv[(1, "SR_BACKLOG", "DAILY", d("2024-03-11"))]["denominator"] is None
    # UTC: day 03-10 ends 03-11 00:00 UTC, after DONE at 23:30 -> 0.
    assert kv[(4, "SR_BACKLOG", "DAILY", d("2024-03-10"))]["value"] == 0.0

    # Periods: first activity is local day 03-10 in both; as_of 2024-03-20 00:00 UTC is
    # 09:00 KST on 03-20 and 00:00 UTC on 03-20, so days 03-10..03-20 = 11 daily periods.
    seoul_days = sorted(k[3] for k in kv if k[:3] == (1, "MTTR", "DAILY"))
    assert seoul_days[0] == d("2024-03-10") and seoul_days[-1] == d("2024-03-20")
    assert len(seoul_days) == 11
    utc_days = sorted(k[3] for k in kv if k[:3] == (4, "MTTR", "DAILY"))
    assert utc_days[-1] == d("2024-03-20") and len(utc_days) == 11
    # is_complete: Seoul 03-19 ends 03-19 15:00 UTC <= as_of; 03-20 is not complete.
    # UTC 03-19 ends exactly at as_of -> complete; 03-20 not.
    assert kv[(1, "MTTR", "DAILY", d("2024-03-19"))]["is_complete"] is True
    assert kv[(1, "MTTR", "DAILY", d("2024-03-20"))]["is_complete"] is False
    assert kv[(4, "MTTR", "DAILY", d("2024-03-19"))]["is_complete"] is True
    assert kv[(4, "MTTR", "DAILY", d("2024-03-20"))]["is_complete"] is False
    assert kv[(4, "MTTR", "MONTHLY", d("2024-03-01"))]["period_end"] == d("2024-04-01")
    assert kv[(4, "MTTR", "MONTHLY", d("2024-03-01"))]["is_complete"] is False
    # Tenant 2 has no activity: no rows at all, but it appears in tenant status.
    assert not any(k[0] == 2 for k in kv)
    assert res.tenant_status[2]["overall_status"] == "NO_DATA"


def test_new_york_dst_spring_forward(seeds):
    # 2024-03-10: New York goes from EST (UTC-5) to EDT (UTC-4) at 02:00 local.
    # Local day 03-10 = [03-10 05:00 UTC, 03-11 04:00 UTC) -- 23 hours long.
    # A: created 03-10 06:00 UTC (01:00 EST), DONE 03-11 03:30 UTC (23:30 EDT on 03-10)
    #    -> elapsed 21.5 h (wall clock would say 22.5), belongs to 03-10.
    # B: created 03-10 06:00 UTC, DONE 03-11 04:30 UTC (00:30 EDT on 03-11) -> 22.5 h,
    #    belongs to 03-11 (a fixed UTC-5 offset would wrongly put it on 03-10).
    ev = Events()
    reqs = [
        sr(1, 2, "2024-03-10T06:00:00", status="DONE", resolved="2024-03-11T03:30:00"),
        sr(2, 2, "2024-03-10T06:00:00", status="DONE", resolved="2024-03-11T04:30:00"),
    ]
    ev.status(1, 2, "2024-03-10T06:00:00", "OPEN")
    ev.status(1, 2, "2024-03-11T03:30:00", "DONE")
    ev.status(2, 2, "2024-03-10T06:00:00", "OPEN")
    ev.status(2, 2, "2024-03-11T04:30:00", "DONE")
    res = run(seeds, reqs, ev.rows, as_of="2024-03-15T12:00:00")
    kv = res.kpi_values
    assert kv[(2, "MTTR", "DAILY", d("2024-03-10"))]["value"] == 21.5
    assert kv[(2, "MTTR", "DAILY", d("2024-03-11"))]["value"] == 22.5
    # Backlog at the end of 03-10 (03-11 04:00 UTC): A is DONE, B still open -> 1.
    assert kv[(2, "SR_BACKLOG", "DAILY", d("2024-03-10"))]["value"] == 1.0
    assert kv[(2, "SR_BACKLOG", "DAILY", d("2024-03-11"))]["value"] == 0.0
    # Monthly: (21.5 + 22.5) / 2 = 22.0
    m = kv[(2, "MTTR", "MONTHLY", d("2024-03-01"))]
    assert (m["numerator"], m["denominator"], m["value"]) == (44.0, 2.0, 22.0)
    # First period is local day 03-10 (06:00 UTC = 01:00 EST); last is 03-15 (08:00 EDT).
    days = sorted(k[3] for k in kv if k[:3] == (2, "MTTR", "DAILY"))
    assert days == [d(f"2024-03-1{i}") for i in range(0, 6)]


# --------------------------------------------------------------------------------------
# request history: reopen, reassignment, on-hold, no history
# --------------------------------------------------------------------------------------


def test_fcr_reopen_and_reassignment(seeds):
    ev = Events()
    reqs = [
        # R1: assigned twice to the same person (7) -> assignee_count 1, no reopen -> FCR yes.
        sr(
            1,
            4,
            "2024-04-01T09:00:00",
            rtype="SERVICE_REQUEST",
            status="DONE",
            resolved="2024-04-01T12:00:00",
            assignee=7,
        ),
        # R2: assigned to 7 then 8 -> assignee_count 2 -> FCR no.
        sr(
            2,
            4,
            "2024-04-02T09:00:00",
            rtype="SERVICE_REQUEST",
            status="DONE",
            resolved="2024-04-02T11:00:00",
            assignee=8,
        ),
        # R3: DONE, reopened (IN_PROGRESS), DONE again -> reopen_count 1 -> FCR no;
        #     resolution = the last DONE (12:00 on 04-03).
        sr(
            3,
            4,
            "2024-04-03T09:00:00",
            rtype="SERVICE_REQUEST",
            status="DONE",
            resolved="2024-04-03T12:00:00",
        ),
        # R4: DONE then CANCELLED: not a reopen and not resolved -> not in FCR.
        sr(4, 4, "2024-04-04T09:00:00", rtype="SERVICE_REQUEST", status="CANCELLED"),
        # R5: no history; row DONE with resolved_at and an assignee -> assignee_count 1,
        #     reopen 0 -> FCR yes, resolved 04-05 10:00.
        sr(
            5,
            4,
            "2024-04-05T09:00:00",
            rtype="SERVICE_REQUEST",
            status="DONE",
            resolved="2024-04-05T10:00:00",
            assignee=3,
        ),
    ]
    ev.status(1, 4, "2024-04-01T09:00:00", "OPEN")
    ev.assign(1, 4, "2024-04-01T09:05:00", 7)
    ev.assign(1, 4, "2024-04-01T10:00:00", 7)
    ev.status(1, 4, "2024-04-01T12:00:00", "DONE")
    ev.status(2, 4, "2024-04-02T09:00:00", "OPEN")
    ev.assign(2, 4, "2024-04-02T09:05:00", 7)
    ev.assign(2, 4, "2024-04-02T10:00:00", 8)
    ev.status(2, 4, "2024-04-02T11:00:00", "DONE")
    ev.status(3, 4, "2024-04-03T09:00:00", "OPEN")
    ev.status(3, 4, "2024-04-03T10:00:00", "DONE")
    ev.status(3, 4, "2024-04-03T11:00:00", "IN_PROGRESS")
    ev.status(3, 4, "2024-04-03T12:00:00", "DONE")
    ev.status(4, 4, "2024-04-04T09:00:00", "OPEN")
    ev.status(4, 4, "2024-04-04T10:00:00", "DONE")
    ev.status(4, 4, "2024-04-04T11:00:00", "CANCELLED")
    res = run(seeds, reqs, ev.rows)
    f = res.request_facts
    assert (f[1]["assignee_count"], f[1]["reopen_count"]) == (1, 0)
    assert (f[2]["assignee_count"], f[2]["reopen_count"]) == (2, 0)
    assert (f[3]["reopen_count"], f[3]["resolved_at"]) == (1, dt("2024-04-03T12:00:00"))
    assert (f[4]["is_resolved"], f[4]["reopen_count"], f[4]["last_status"]) == (
        False,
        0,
        "CANCELLED",
    )
    assert (f[5]["assignee_count"], f[5]["resolved_at"]) == (1, dt("2024-04-05T10:00:00"))

    kv = res.kpi_values
    # April: resolved R1, R2, R3, R5 -> den 4; first-contact R1, R5 -> num 2; 100*2/4 = 50.0
    # HIGHER_BETTER target 80: 50/80*100 = 62.5 -> RED.
    m = kv[(4, "FCR", "MONTHLY", d("2024-04-01"))]
    assert (m["numerator"], m["denominator"], m["value"]) == (2.0, 4.0, 50.0)
    assert (m["achievement_pct"], m["status"], m["target"]) == (62.5, "RED", 80.0)
    # 2024-04-01 is a Monday: all in the week of 04-01.
    assert kv[(4, "FCR", "WEEKLY", d("2024-04-01"))]["value"] == 50.0
    # Day 04-03: only R3 (reopened) -> 0/1 = 0.0, achievement 0.0, RED.
    day3 = kv[(4, "FCR", "DAILY", d("2024-04-03"))]
    assert (day3["value"], day3["achievement_pct"], day3["status"]) == (0.0, 0.0, "RED")
    # Day 04-01: R1 -> 100.0, 125.0, GREEN.
    day1 = kv[(4, "FCR", "DAILY", d("2024-04-01"))]
    assert (day1["value"], day1["achievement_pct"], day1["status"]) == (100.0, 125.0, "GREEN")
    # Day 04-04: nothing resolved (R4 cancelled) -> NO_DATA.
    assert kv[(4, "FCR", "DAILY", d("2024-04-04"))]["status"] == "NO_DATA"


def test_on_hold_pause_and_sla_policies(seeds):
    policies = seeds["sla_policies"] + [
        # tenant 4's own SERVICE_REQUEST/P2 policy beats the default (24 h, pause)
        {
            "tenant_id": 4,
            "request_type": "SERVICE_REQUEST",
            "priority": "P2",
            "resolution_hours": 2.0,
            "pause_on_hold": False,
        },
    ]
    ev = Events()
    reqs = [
        # A: SERVICE_REQUEST P1 (8 h, pause): OPEN 00:00, ON_HOLD 02:00, IN_PROGRESS 05:00,
        #    DONE 10:00 -> elapsed 10 h, hold 3 h -> 7 h <= 8 -> compliant.
        sr(
            1,
            4,
            "2024-04-01T00:00:00",
            rtype="SERVICE_REQUEST",
            prio="P1",
            status="DONE",
            resolved="2024-04-01T10:00:00",
        ),
        # B: INCIDENT P1 (4 h, no pause): OPEN 00:00, ON_HOLD 01:00, IN_PROGRESS 03:00,
        #    DONE 05:00 -> 5 h > 4 -> breach (with a pause it would be 3 h).
        sr(
            2,
            4,
            "2024-04-01T00:00:00",
            rtype="INCIDENT",
            prio="P1",
            status="DONE",
            resolved="2024-04-01T05:00:00",
        ),
        # C: CHANGE has no policy -> left out of SLA.
        sr(
            3,
            4,
            "2024-04-01T00:00:00",
            rtype="CHANGE",
            prio="P1",
            status="DONE",
            resolved="2024-04-01T01:00:00",
        ),
        # D: SERVICE_REQUEST P2, done in 3 h: default 24 h would pass, tenant's 2 h -> breach.
        sr(
            4,
            4,
            "2024-04-01T00:00:00",
            rtype="SERVICE_REQUEST",
            prio="P2",
            status="DONE",
            resolved="2024-04-01T03:00:00",
        ),
        # E: SERVICE_REQUEST P3 (72 h, pause), two holds, the first one starting before
        #    created_at (clipped): events ON_HOLD 23:00 (03-31), OPEN 01:00 on 04-01...
        #    created 04-01 00:00: hold [00:00, 01:00) = 1 h, then ON_HOLD 02:00..02:30 =
        #    0.5 h -> on_hold 1.5 h; DONE 04:00 -> elapsed 4 h, effective 2.5 h <= 72.
        sr(
            5,
            4,
            "2024-04-01T00:00:00",
            rtype="SERVICE_REQUEST",
            prio="P3",
            status="DONE",
            resolved="2024-04-01T04:00:00",
        ),
    ]
    ev.status(1, 4, "2024-04-01T00:00:00", "OPEN")
    ev.status(1, 4, "2024-04-01T02:00:00", "ON_HOLD")
    ev.status(1, 4, "2024-04-01T05:00:00", "IN_PROGRESS")
    ev.status(1, 4, "2024-04-01T10:00:00", "DONE")
    ev.status(2, 4, "2024-04-01T00:00:00", "OPEN")
    ev.status(2, 4, "2024-04-01T01:00:00", "ON_HOLD")
    ev.status(2, 4, "2024-04-01T03:00:00", "IN_PROGRESS")
    ev.status(2, 4, "2024-04-01T05:00:00", "DONE")
    ev.status(3, 4, "2024-04-01T00:00:00", "OPEN")
    ev.status(3, 4, "2024-04-01T01:00:00", "DONE")
    ev.status(4, 4, "2024-04-01T00:00:00", "OPEN")
    ev.status(4, 4, "2024-04-01T03:00:00", "DONE")
    ev.status(5, 4, "2024-03-31T23:00:00", "ON_HOLD")
    ev.status(5, 4, "2024-04-01T01:00:00", "OPEN")
    ev.status(5, 4, "2024-04-01T02:00:00", "ON_HOLD")
    ev.status(5, 4, "2024-04-01T02:30:00", "IN_PROGRESS")
    ev.status(5, 4, "2024-04-01T04:00:00", "DONE")
    res = run(seeds, reqs, ev.rows, policies=policies)
    f = res.request_facts
    assert f[1]["on_hold_hours"] == 3.0
    assert f[2]["on_hold_hours"] == 2.0
    assert f[5]["on_hold_hours"] == 1.5
    kv = res.kpi_values
    # SLA April: A, B, D, E have a policy -> den 4; compliant A, E -> 100*2/4 = 50.0;
    # 50/95*100 = 52.63 -> 52.6 RED.
    m = kv[(4, "SLA_COMPLIANCE", "MONTHLY", d("2024-04-01"))]
    assert (m["numerator"], m["denominator"], m["value"]) == (2.0, 4.0, 50.0)
    assert (m["achievement_pct"], m["status"]) == (52.6, "RED")
    # MTTR: only B is an incident -> 5.0 h; 5.0 > 4.8 -> RED, 4/5*100 = 80.0.
    mt = kv[(4, "MTTR", "MONTHLY", d("2024-04-01"))]
    assert (mt["value"], mt["achievement_pct"], mt["status"]) == (5.0, 80.0, "RED")
    # Without the tenant override D is compliant: 3/4 -> 75.0, 75/95*100 = 78.9 RED.
    res2 = run(seeds, reqs, ev.rows)
    assert res2.kpi_values[(4, "SLA_COMPLIANCE", "MONTHLY", d("2024-04-01"))]["value"] == 75.0


def test_sla_third_rounding(seeds):
    # 3 incidents P4 (72 h): one compliant -> 100*1/3 = 33.333 -> 33.3;
    # 33.3/95*100 = 35.05 -> 35.1 RED. MTTR (1 + 100 + 200)/3 = 100.333 -> 100.33.
    ev = Events()
    reqs = []
    for i, hours in ((1, 1), (2, 100), (3, 200)):
        created = datetime(2024, 4, 1)
        reqs.append(
            sr(
                i,
                4,
                created.isoformat(),
                prio="P4",
                status="DONE",
                resolved=(created + timedelta(hours=hours)).isoformat(),
            )
        )
    res = run(seeds, reqs, ev.rows, as_of="2024-04-30T00:00:00")
    m = res.kpi_values[(4, "SLA_COMPLIANCE", "MONTHLY", d("2024-04-01"))]
    assert (m["value"], m["achievement_pct"], m["status"]) == (33.3, 35.1, "RED")
    mt = res.kpi_values[(4, "MTTR", "MONTHLY", d("2024-04-01"))]
    assert mt["value"] == 100.33 and mt["numerator"] == 301.0 and mt["denominator"] == 3.0


# --------------------------------------------------------------------------------------
# targets
# --------------------------------------------------------------------------------------


def test_target_change_and_disabled_kpi(seeds):
    targets = seeds["kpi_targets"] + [
        # tenant 4: backlog target 1 from 2024-04-10 on
        {
            "tenant_id": 4,
            "kpi_name": "SR_BACKLOG",
            "target": 1.0,
            "valid_from": d("2024-04-10"),
            "valid_to": None,
            "is_enabled": True,
        },
        # tenant 4: deployments disabled for good
        {
            "tenant_id": 4,
            "kpi_name": "DEPLOY_SUCCESS_RATE",
            "target": 95.0,
            "valid_from": None,
            "valid_to": None,
            "is_enabled": False,
        },
        # tenant 4: FCR disabled on [04-12, 04-14)
        {
            "tenant_id": 4,
            "kpi_name": "FCR",
            "target": 80.0,
            "valid_from": d("2024-04-12"),
            "valid_to": d("2024-04-14"),
            "is_enabled": False,
        },
    ]
    # two requests open forever from 04-08 (a Monday) in tenant 4, one deployment in each
    # of tenants 1 and 4.
    reqs = [
        sr(1, 4, "2024-04-08T08:00:00"),
        sr(2, 4, "2024-04-08T09:00:00"),
        sr(3, 1, "2024-04-08T09:00:00"),
    ]
    deps = [
        dep(1, 4, "DEPLOYED", "2024-04-08T10:00:00", "2024-04-08T10:10:00"),
        dep(2, 1, "DEPLOYED", "2024-04-08T10:00:00", "2024-04-08T10:10:00"),
    ]
    res = run(seeds, reqs, (), deps, as_of="2024-04-20T00:00:00", targets=targets)
    kv = res.kpi_values
    # Backlog 2 everywhere. Day 04-09: global target 10 -> GREEN 100.
    b9 = kv[(4, "SR_BACKLOG", "DAILY", d("2024-04-09"))]
    assert (b9["value"], b9["target"], b9["status"], b9["achievement_pct"]) == (
        2.0,
        10.0,
        "GREEN",
        100.0,
    )
    # Day 04-10: target 1; 2 > 1.2 -> RED, 1/2*100 = 50.0.
    b10 = kv[(4, "SR_BACKLOG", "DAILY", d("2024-04-10"))]
    assert (b10["target"], b10["status"], b10["achievement_pct"]) == (1.0, "RED", 50.0)
    # Week of 04-08 starts before 04-10 -> target 10; week of 04-15 -> target 1.
    assert kv[(4, "SR_BACKLOG", "WEEKLY", d("2024-04-08"))]["target"] == 10.0
    assert kv[(4, "SR_BACKLOG", "WEEKLY", d("2024-04-15"))]["target"] == 1.0
    assert kv[(4, "SR_BACKLOG", "MONTHLY", d("2024-04-01"))]["target"] == 10.0
    # Tenant 1 keeps target 10 on 04-10.
    assert kv[(1, "SR_BACKLOG", "DAILY", d("2024-04-10"))]["target"] == 10.0
    # Deployments disabled for tenant 4 at every grain; tenant 1 has them (1/1 = 100.0).
    assert not any(k[0] == 4 and k[1] == "DEPLOY_SUCCESS_RATE" for k in kv)
    assert kv[(1, "DEPLOY_SUCCESS_RATE", "DAILY", d("2024-04-08"))]["value"] == 100.0
    # FCR disabled on days 04-12 and 04-13 only; weekly 04-08 (start before) is present.
    assert (4, "FCR", "DAILY", d("2024-04-11")) in kv
    assert (4, "FCR", "DAILY", d("2024-04-12")) not in kv
    assert (4, "FCR", "DAILY", d("2024-04-13")) not in kv
    assert kv[(4, "FCR", "DAILY", d("2024-04-14"))]["target"] == 80.0
    assert (4, "FCR", "WEEKLY", d("2024-04-08")) in kv
    # Scorecard of tenant 4 has no DEPLOY_SUCCESS_RATE; backlog now (04-20) target 1 -> RED.
    assert (4, "DEPLOY_SUCCESS_RATE") not in res.scorecard
    assert res.scorecard[(4, "SR_BACKLOG")]["status"] == "RED"
    assert (1, "DEPLOY_SUCCESS_RATE") in res.scorecard


def test_target_latest_valid_from_and_tenant_over_global(seeds):
    targets = [
        {
            "tenant_id": None,
            "kpi_name": "SR_BACKLOG",
            "target": 10.0,
            "valid_from": None,
            "valid_to": None,
            "is_enabled": True,
        },
        {
            "tenant_id": None,
            "kpi_name": "SR_BACKLOG",
            "target": 5.0,
            "valid_from": d("2024-04-03"),
            "valid_to": d("2024-04-05"),
            "is_enabled": True,
        },
        # tenant row windowed: outside its window the global rows apply again
        {
            "tenant_id": 4,
            "kpi_name": "SR_BACKLOG",
            "target": 2.0,
            "valid_from": d("2024-04-04"),
            "valid_to": d("2024-04-06"),
            "is_enabled": True,
        },
    ]
    res = run(
        seeds, [sr(1, 4, "2024-04-01T00:00:00")], as_of="2024-04-07T12:00:00", targets=targets
    )
    got = {k[3]: v["target"] for k, v in res.kpi_values.items() if k[2] == "DAILY"}
    # 01,02: 10 | 03: 5 (latest valid_from) | 04,05: tenant 2 | 06,07: 10
    assert got == {
        d("2024-04-01"): 10.0,
        d("2024-04-02"): 10.0,
        d("2024-04-03"): 5.0,
        d("2024-04-04"): 2.0,
        d("2024-04-05"): 2.0,
        d("2024-04-06"): 10.0,
        d("2024-04-07"): 10.0,
    }
    # Only SR_BACKLOG has target rows -> the other KPIs have no rows at all.
    assert {k[1] for k in res.kpi_values} == {"SR_BACKLOG"}


# --------------------------------------------------------------------------------------
# backlog, as_of, scorecard
# --------------------------------------------------------------------------------------


def _as_of_fixture(seeds):
    ev = Events()
    reqs = [
        # R1 INCIDENT P1: OPEN 04-01 10:00, DONE exactly 04-03 00:00 -> 38 h.
        sr(1, 4, "2024-04-01T10:00:00", prio="P1", status="DONE", resolved="2024-04-03T00:00:00"),
        # R2: created exactly 04-03 00:00, no history, open.
        sr(2, 4, "2024-04-03T00:00:00", rtype="SERVICE_REQUEST"),
        # R3: OPEN 04-05 10:00; DONE 04-10 13:00 is after as_of -> ignored, still open.
        sr(
            3,
            4,
            "2024-04-05T10:00:00",
            rtype="SERVICE_REQUEST",
            status="DONE",
            resolved="2024-04-10T13:00:00",
        ),
        # R4: created after as_of -> does not exist.
        sr(4, 4, "2024-04-11T00:00:00", status="DONE", resolved="2024-04-11T01:00:00"),
        # R5: no history; row DONE but resolved_at after as_of -> open, not resolved.
        sr(5, 4, "2024-04-09T08:00:00", status="DONE", resolved="2024-04-10T15:00:00"),
        # R6: no history; CANCELLED at exactly 04-04 00:00 (updated_at) -> open during 04-03.
        sr(
            6,
            4,
            "2024-04-03T12:00:00",
            rtype="CHANGE",
            status="CANCELLED",
            updated="2024-04-04T00:00:00",
        ),
    ]
    ev.status(1, 4, "2024-04-01T10:00:00", "OPEN")
    ev.status(1, 4, "2024-04-03T00:00:00", "DONE")
    ev.status(3, 4, "2024-04-05T10:00:00", "OPEN")
    ev.status(3, 4, "2024-04-10T13:00:00", "DONE")
    ev.status(4, 4, "2024-04-11T00:00:00", "OPEN")
    deps = [
        dep(1, 4, "DEPLOYED", "2024-04-09T10:00:00", "2024-04-09T11:00:00"),
        dep(2, 4, "FAILED", "2024-04-09T12:00:00", "2024-04-09T12:30:00"),
        dep(3, 4, "IN_PROGRESS", "2024-04-09T13:00:00"),
        # finished after as_of -> not counted
        dep(4, 4, "DEPLOYED", "2024-04-10T11:00:00", "2024-04-10T13:00:00"),
        # started after as_of -> does not exist
        dep(5, 4, "FAILED", "2024-04-11T00:00:00", "2024-04-11T00:10:00"),
    ]
    return run(seeds, reqs, ev.rows, deps, as_of="2024-04-10T12:00:00")


def test_backlog_at_period_ends_and_facts_after_as_of(seeds):
    res = _as_of_fixture(seeds)
    kv = res.kpi_values
    assert 4 not in res.request_facts
    daily = {k[3]: v["value"] for k, v in kv.items() if k[1:3] == ("SR_BACKLOG", "DAILY")}
    # cutoffs are the day ends (UTC) and as_of for 04-10; an event exactly at the cutoff
    # does not count yet (status just before the cutoff):
    # 04-01 R1 | 04-02 R1 (DONE at 04-03 00:00 = cutoff) | 04-03 R2, R6 (CANCELLED at the
    # cutoff) | 04-04 R2 | 04-05..04-08 R2, R3 | 04-09 R2, R3, R5 | 04-10 (as_of) R2, R3, R5
    assert daily == {
        d("2024-04-01"): 1.0,
        d("2024-04-02"): 1.0,
        d("2024-04-03"): 2.0,
        d("2024-04-04"): 1.0,
        d("2024-04-05"): 2.0,
        d("2024-04-06"): 2.0,
        d("2024-04-07"): 2.0,
        d("2024-04-08"): 2.0,
        d("2024-04-09"): 3.0,
        d("2024-04-10"): 3.0,
    }
    # Weekly: week 04-01 ends 04-08 00:00 -> R2, R3 = 2; current week 04-08 -> 3.
    assert kv[(4, "SR_BACKLOG", "WEEKLY", d("2024-04-01"))]["value"] == 2.0
    assert kv[(4, "SR_BACKLOG", "WEEKLY", d("2024-04-08"))]["value"] == 3.0
    month = kv[(4, "SR_BACKLOG", "MONTHLY", d("2024-04-01"))]
    assert (month["value"], month["numerator"], month["denominator"]) == (3.0, 3.0, None)
    assert month["is_complete"] is False and month["period_end"] == d("2024-05-01")
    # Deployments: 04-09: 1 DEPLOYED / 2 finished = 50.0; 04-10: nothing finished by as_of.
    d9 = kv[(4, "DEPLOY_SUCCESS_RATE", "DAILY", d("2024-04-09"))]
    assert (d9["numerator"], d9["denominator"], d9["value"]) == (1.0, 2.0, 50.0)
    assert kv[(4, "DEPLOY_SUCCESS_RATE", "DAILY", d("2024-04-10"))]["value"] is None
    # No period after the one containing as_of.
    assert max(k[3] for k in kv if k[2] == "DAILY") == d("2024-04-10")
    assert kv[(4, "SR_BACKLOG", "DAILY", d("2024-04-09"))]["is_complete"] is True
    assert kv[(4, "SR_BACKLOG", "DAILY", d("2024-04-10"))]["is_complete"] is False
    # R5 is not resolved: MTTR April only has R1 (38 h); R3 not resolved either.
    mt = kv[(4, "MTTR", "MONTHLY", d("2024-04-01"))]
    assert (mt["numerator"], mt["denominator"], mt["value"]) == (38.0, 1.0, 38.0)


def test_scorecard_and_tenant_status(seeds):
    res = _as_of_fixture(seeds)
    sc = res.scorecard
    shipped_dora = {r["kpi_name"] for r in seeds["kpi_definitions"]} & set(DORA_KPIS)
    assert set(sc) == {
        (4, k) for k in ("MTTR", "MTTR_MEDIAN", "MTTR_P90", "FCR", "SLA_COMPLIANCE",
                         "SR_BACKLOG", "DEPLOY_SUCCESS_RATE", *shipped_dora)
    }
    # SR_BACKLOG (DAILY): current 04-10 = 3 -> GREEN 100; previous 04-09 = 3 GREEN.
    b = sc[(4, "SR_BACKLOG")]
    assert (b["grain"], b["period_start"], b["value"], b["status"], b["achievement_pct"]) == (
        "DAILY",
        d("2024-04-10"),
        3.0,
        "GREEN",
        100.0,
    )
    assert (b["previous_period_start"], b["previous_value"], b["previous_status"]) == (
        d("2024-04-09"),
        3.0,
        "GREEN",
    )
    # MTTR (MONTHLY): April = 38.0 -> RED, 4/38*100 = 10.526 -> 10.5; March has no row.
    m = sc[(4, "MTTR")]
    assert (m["value"], m["target"], m["achievement_pct"], m["status"]) == (38.0, 4.0, 10.5, "RED")
    assert (m["previous_period_start"], m["previous_value"], m["previous_status"]) == (
        d("2024-03-01"),
        None,
        None,
    )
    # FCR: R1 (no assignee -> count 0, no reopen) -> 100.0, 125.0 GREEN.
    assert (
        sc[(4, "FCR")]["value"],
        sc[(4, "FCR")]["achievement_pct"],
        sc[(4, "FCR")]["status"],
    ) == (100.0, 125.0, "GREEN")
    # SLA: R1 INCIDENT P1, 38 h > 4 -> 0.0, achievement 0.0, RED.
    assert (sc[(4, "SLA_COMPLIANCE")]["value"], sc[(4, "SLA_COMPLIANCE")]["status"]) == (0.0, "RED")
    # Deployments April: 50.0 -> 50/95*100 = 52.63 -> 52.6 RED.
    assert (
        sc[(4, "DEPLOY_SUCCESS_RATE")]["achievement_pct"],
        sc[(4, "DEPLOY_SUCCESS_RATE")]["status"],
    ) == (52.6, "RED")
    # MTTR_MEDIAN and MTTR_P90: one incident (38 h): both 38.0; the median against 4 and
    # the p90 against 24 (38 > 1.2 x 24 = 28.8) are RED; one value -> denominator 1.
    med, p90 = sc[(4, "MTTR_MEDIAN")], sc[(4, "MTTR_P90")]
    assert (med["value"], med["target"], med["status"]) == (38.0, 4.0, "RED")
    assert (p90["value"], p90["target"], p90["status"]) == (38.0, 24.0, "RED")
    monthly = res.kpi_values[(4, "MTTR_P90", "MONTHLY", d("2024-04-01"))]
    assert (monthly["numerator"], monthly["denominator"]) == (None, 1.0)
    # With the DORA KPIs in the seeds (deployment 1, 'prod', DEPLOYED on 04-09, no
    # commit_at, no incident): frequency in the week of 04-08, 3 local days started by
    # as_of -> 7 x 1 / 3 = 2.33 against 5 RED; April's failure and rework rates 0.0 GREEN;
    # lead and recovery times NO_DATA.
    dora = shipped_dora == set(DORA_KPIS)
    if dora:
        assert (sc[(4, "DEPLOYMENT_FREQUENCY")]["value"],
                sc[(4, "DEPLOYMENT_FREQUENCY")]["status"]) == (2.33, "RED")
        assert [sc[(4, k)]["status"] for k in DORA_KPIS[1:]] == [
            "NO_DATA", "GREEN", "NO_DATA", "GREEN"]
    # Tenant status: 2 GREEN, 5 RED (and DORA's) -> RED. Tenants 1 and 2 (no activity)
    # -> NO_DATA, 0s.
    assert res.tenant_status[4] == {
        "green_count": 2 + 2 * dora,
        "yellow_count": 0,
        "red_count": 5 + dora,
        "no_data_count": 2 * dora,
        "overall_status": "RED",
    }
    assert res.tenant_status[1] == {
        "green_count": 0,
        "yellow_count": 0,
        "red_count": 0,
        "no_data_count": 0,
        "overall_status": "NO_DATA",
    }
    assert set(res.tenant_status) == {1, 2, 4}


def test_unlisted_tenant_uses_default_timezone(seeds):
    # Tenant 9 is not in the tenants seed: default_timezone applies.
    req = sr(1, 9, "2024-04-01T20:00:00", status="DONE", resolved="2024-04-01T23:30:00")
    common = dict(
        service_requests=[req],
        sr_events=[],
        deployments=[],
        tenants=TENANTS,
        kpi_definitions=seeds["kpi_definitions"],
        kpi_targets=seeds["kpi_targets"],
        sla_policies=seeds["sla_policies"],
        as_of=dt("2024-04-05T00:00:00"),
    )
    utc = compute(**common)
    assert utc.kpi_values[(9, "MTTR", "DAILY", d("2024-04-01"))]["value"] == 3.5
    seoul = compute(**common, default_timezone="Asia/Seoul")
    # 23:30 UTC on 04-01 = 08:30 KST on 04-02
    assert seoul.kpi_values[(9, "MTTR", "DAILY", d("2024-04-02"))]["value"] == 3.5
    # created 20:00 UTC = 05:00 KST on 04-02: the first Seoul period is 04-02
    assert (9, "MTTR", "DAILY", d("2024-04-01")) not in seoul.kpi_values
    assert min(k[3] for k in seoul.kpi_values if k[2] == "DAILY") == d("2024-04-02")
    # Scorecard (as_of 04-05 09:00 KST): MTTR April 3.5 <= 4 GREEN, its median and p90
    # 3.5 GREEN; FCR 100 GREEN; SLA (INCIDENT P3, 24 h) 100 GREEN; backlog 0 GREEN;
    # deployments NO_DATA (and the DORA KPIs when the seeds have them) -> GREEN.
    dora = {r["kpi_name"] for r in seeds["kpi_definitions"]} >= set(DORA_KPIS)
    assert seoul.tenant_status[9] == {
        "green_count": 6,
        "yellow_count": 0,
        "red_count": 0,
        "no_data_count": 1 + len(DORA_KPIS) * dora,
        "overall_status": "GREEN",
    }


def test_event_order_tie_broken_by_event_id(seeds):
    # Two STATUS events at the same instant: order by event_id -> the last one (id 20,
    # IN_PROGRESS) is the final status -> not resolved, and it is a reopen.
    ev = Events()
    ev.status(1, 4, "2024-04-01T00:00:00", "OPEN", event_id=5)
    ev.status(1, 4, "2024-04-01T02:00:00", "IN_PROGRESS", event_id=20)
    ev.status(1, 4, "2024-04-01T02:00:00", "DONE", event_id=10)
    res = run(
        seeds,
        [sr(1, 4, "2024-04-01T00:00:00", status="DONE", resolved="2024-04-01T02:00:00")],
        ev.rows,
        as_of="2024-04-02T00:00:00",
    )
    f = res.request_facts[1]
    assert (f["is_resolved"], f["reopen_count"], f["last_status"]) == (False, 1, "IN_PROGRESS")
    # backlog at the end of 04-01: last status before the cutoff is IN_PROGRESS -> 1
    assert res.kpi_values[(4, "SR_BACKLOG", "DAILY", d("2024-04-01"))]["value"] == 1.0


# --------------------------------------------------------------------------------------
# performance
# --------------------------------------------------------------------------------------


def test_performance_5000_requests(seeds):
    rnd = random.Random(42)
    start = datetime(2024, 1, 1)
    tenants = [
        {"tenant_id": 1, "timezone": "Asia/Seoul"},
        {"tenant_id": 2, "timezone": "America/New_York"},
        {"tenant_id": 3, "timezone": "Europe/London"},
        {"tenant_id": 4, "timezone": "UTC"},
    ]
    reqs, events, deps = [], [], []
    eid = 0
    for i in range(5000):
        tid = rnd.randint(1, 4)
        created = start + timedelta(seconds=rnd.randint(0, 180 * 86400))
        t = created
        statuses = [
            "OPEN",
            "IN_PROGRESS",
            rnd.choice(["ON_HOLD", "IN_PROGRESS"]),
            "IN_PROGRESS",
            rnd.choice(["DONE", "DONE", "CANCELLED", "OPEN"]),
        ]
        for s in statuses:
            eid += 1
            events.append(
                {
                    "event_id": eid,
                    "sr_id": i,
                    "tenant_id": tid,
                    "event_at": t,
                    "event_type": "STATUS",
                    "new_status": s,
                    "new_assignee_id": None,
                }
            )
            t += timedelta(minutes=rnd.randint(1, 3000))
        reqs.append(
            {
                "sr_id": i,
                "tenant_id": tid,
                "request_type": rnd.choice(["INCIDENT", "SERVICE_REQUEST", "CHANGE"]),
                "priority": rnd.choice(["P1", "P2", "P3", "P4"]),
                "status": statuses[-1],
                "assignee_id": rnd.choice([None, 1, 2]),
                "created_at": created,
                "updated_at": t,
                "resolved_at": t,
            }
        )
    for j in range(1000):
        s = start + timedelta(seconds=rnd.randint(0, 180 * 86400))
        deps.append(
            {
                "deployment_id": j,
                "tenant_id": rnd.randint(1, 4),
                "status": rnd.choice(["DEPLOYED", "FAILED", "ROLLED_BACK", "IN_PROGRESS"]),
                "started_at": s,
                "finished_at": s + timedelta(minutes=30),
            }
        )
    t0 = _time.perf_counter()
    res = compute(
        reqs,
        events,
        deps,
        tenants,
        seeds["kpi_definitions"],
        seeds["kpi_targets"],
        seeds["sla_policies"],
        as_of=datetime(2024, 6, 30),
    )
    elapsed = _time.perf_counter() - t0
    assert elapsed < 10, elapsed  # about 1 s on a laptop
    assert len(res.tenant_status) == 4
    # sanity: backlog via the sweep equals a brute-force count for a few periods
    by_sr: dict[int, list] = {}
    for e in events:
        by_sr.setdefault(e["sr_id"], []).append(e)
    backlog_rows = [(k, v) for k, v in res.kpi_values.items() if k[1] == "SR_BACKLOG"]
    checked = backlog_rows[::25] + backlog_rows[-4:]
    assert len(checked) > 30
    for (tid, _, grain, ps), row in checked:
        tz = ZoneInfo({1: "Asia/Seoul", 2: "America/New_York", 3: "Europe/London", 4: "UTC"}[tid])
        end_utc = datetime.combine(row["period_end"], datetime.min.time(), tzinfo=tz)
        end_utc = end_utc.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        cutoff = min(end_utc, datetime(2024, 6, 30))
        n = 0
        for r in reqs:
            if r["tenant_id"] != tid or not r["created_at"] < cutoff:
                continue
            before = [e for e in by_sr[r["sr_id"]] if e["event_at"] < cutoff]
            if not before or before[-1]["new_status"] not in ("DONE", "CANCELLED"):
                n += 1
        assert row["value"] == float(n), (tid, grain, ps)


def test_percentile_cont_by_hand():
    # odd count: the middle value; even count: halfway between the two middle ones
    assert percentile_cont([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile_cont([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    # p90 of 1..11: position 0.9 x 10 = 9 exactly -> the 10th value
    assert percentile_cont([float(v) for v in range(1, 12)], 0.9) == 10.0
    # p90 of 1, 2, 3, 10: position 0.9 x 3 = 2.7 -> 3 + 0.7 x (10 - 3) = 7.9
    assert abs(percentile_cont([1.0, 2.0, 3.0, 10.0], 0.9) - 7.9) < 1e-12
    # p75 of 1, 2, 3, 10 is 4.75 (DuckDB over a DECIMAL(.., 1) would say 4.7)
    assert percentile_cont([1.0, 2.0, 3.0, 10.0], 0.75) == 4.75
    # a single value, ties, none
    assert percentile_cont([5.5], 0.9) == 5.5
    assert percentile_cont([2.0, 2.0, 2.0, 8.0], 0.5) == 2.0
    assert percentile_cont([], 0.5) is None


# --------------------------------------------------------------------------------------
# DORA (issue 16)
# --------------------------------------------------------------------------------------

DORA_DEFINITION_FIELDS = ("unit", "direction", "default_target", "default_grain",
                          "aggregation", "percentile", "value_multiplier", "value_decimals")
# the five KPIs as issue 16 defines them (fields above, in that order)
DORA_DEFINITIONS = {
    "DEPLOYMENT_FREQUENCY": ("deploys/week", "HIGHER_BETTER", 5.0, "WEEKLY", "RATIO", None,
                             7.0, 2),
    "CHANGE_LEAD_TIME": ("hours", "LOWER_BETTER", 24.0, "MONTHLY", "PERCENTILE", 0.5, 1.0, 2),
    "CHANGE_FAILURE_RATE": ("%", "LOWER_BETTER", 15.0, "MONTHLY", "RATIO", None, 100.0, 1),
    "FAILED_DEPLOYMENT_RECOVERY_TIME": ("hours", "LOWER_BETTER", 24.0, "MONTHLY", "PERCENTILE",
                                        0.5, 1.0, 2),
    "DEPLOYMENT_REWORK_RATE": ("%", "LOWER_BETTER", 10.0, "MONTHLY", "RATIO", None, 100.0, 1),
}
LEVEL_COLUMNS = ("deployment_frequency_level", "change_lead_time_level",
                 "change_failure_rate_level", "failed_deployment_recovery_time_level",
                 "overall_level")
VALUE_COLUMNS = ("deployment_frequency", "change_lead_time_hours", "change_failure_rate_pct",
                 "failed_deployment_recovery_time_hours", "deployment_rework_rate_pct")


def dora_definitions(seeds) -> list[dict]:
    """The seed's definitions of the other KPIs with the issue's five DORA KPIs."""
    rows = [r for r in seeds["kpi_definitions"] if r["kpi_name"] not in DORA_KPIS]
    for name, values in DORA_DEFINITIONS.items():
        rows.append({"kpi_name": name, **dict(zip(DORA_DEFINITION_FIELDS, values, strict=True)),
                     "green_threshold_pct": 95.0, "yellow_threshold_pct": 80.0,
                     "lower_better_yellow_ratio": 1.2, "is_builtin": True})
    return rows


def dora_targets(seeds) -> list[dict]:
    rows = [r for r in seeds["kpi_targets"] if r["kpi_name"] not in DORA_KPIS]
    return rows + [{"tenant_id": None, "kpi_name": name, "target": values[2],
                    "valid_from": None, "valid_to": None, "is_enabled": True}
                   for name, values in DORA_DEFINITIONS.items()]


def deployment(dep_id, tenant_id, status, finished, *, environment="production", service="api",
               commit=None, fixes=None, started=None):
    """A deployment row; started an hour before it finished unless given."""
    finished_at = dt(finished) if finished else None
    started_at = dt(started) if started else finished_at - timedelta(hours=1)
    return {"deployment_id": dep_id, "tenant_id": tenant_id, "service": service,
            "environment": environment, "status": status, "started_at": started_at,
            "finished_at": finished_at, "commit_at": dt(commit) if commit else None,
            "fixes_sr_id": fixes}


def incident(sr_id, tenant_id, created, *, resolved=None, caused_by=None, service="api",
             rtype="INCIDENT"):
    """An incident without events (its row alone gives its history)."""
    row = sr(sr_id, tenant_id, created, rtype=rtype, status="DONE" if resolved else "OPEN",
             resolved=resolved, updated=resolved)
    row.update(caused_by_deployment_id=caused_by, service=service)
    return row


def run_dora(seeds, requests, deployments, as_of="2024-05-01T00:00:00", window=None,
             environments=None):
    return compute(
        service_requests=list(requests), sr_events=[], deployments=list(deployments),
        tenants=TENANTS, kpi_definitions=dora_definitions(seeds),
        kpi_targets=dora_targets(seeds), sla_policies=seeds["sla_policies"],
        as_of=dt(as_of), deployment_environments=environments,
        incident_attribution_window_hours=window)


def values_of(res, tenant_id, grain, period_start) -> dict:
    return {kpi: res.kpi_values[(tenant_id, kpi, grain, d(period_start))]["value"]
            for kpi in DORA_KPIS}


def test_production_mapping_tenant_row_beats_blank_row():
    mapping = production_mapping([
        *SHIPPED_DEPLOYMENT_ENVIRONMENTS,
        {"tenant_id": 2, "environment": " PROD", "is_production": False},
        {"tenant_id": 2, "environment": "live", "is_production": True},
        {"tenant_id": None, "environment": "staging", "is_production": False},
    ])
    assert is_production(mapping, 1, " Prod ")  # trimmed, any case
    assert is_production(mapping, 1, "PRODUCTION")
    assert not is_production(mapping, 2, "prod")  # the tenant's own row wins
    assert is_production(mapping, 2, "production")  # no own row: the blank-tenant row
    assert is_production(mapping, 2, " live ") and not is_production(mapping, 1, "live")
    assert not is_production(mapping, 1, "staging")
    assert not is_production(mapping, 1, "qa")  # no row: not production
    assert not is_production(mapping, 1, None) and not is_production(mapping, 1, "  ")


# tenant 4 (UTC), April 2024; tenant 1 has an incident and no deployment
DORA_DEPLOYMENTS = [
    deployment(1, 4, "DEPLOYED", "2024-04-02T10:00:00", commit="2024-04-01T10:00:00"),
    deployment(2, 4, "DEPLOYED", "2024-04-03T10:00:00", environment=" Prod ",
               commit="2024-04-03T08:00:00", fixes=101),
    deployment(3, 4, "ROLLED_BACK", "2024-04-04T10:00:00"),
    deployment(4, 4, "DEPLOYED", "2024-04-05T10:00:00", environment="staging"),
    deployment(5, 4, "FAILED", "2024-04-06T10:00:00"),
    # web: fixes another tenant's incident, then a service request: no rework
    deployment(6, 4, "DEPLOYED", "2024-04-07T10:00:00", environment="PRODUCTION",
               service="web", commit="2024-04-07T00:00:00", fixes=201),
    deployment(7, 4, "DEPLOYED", "2024-04-08T10:00:00", service="web", fixes=105),
]
DORA_REQUESTS = [
    # deployment 1 caused two incidents: 4 h and 24 h to recover
    incident(101, 4, "2024-04-02T11:00:00", resolved="2024-04-02T14:00:00", caused_by=1),
    incident(102, 4, "2024-04-02T12:00:00", resolved="2024-04-03T10:00:00", caused_by=1),
    # the rolled-back deployment 3 caused one: 2 h
    incident(103, 4, "2024-04-04T10:30:00", resolved="2024-04-04T12:00:00", caused_by=3),
    # linked to the staging deployment: stands, caused by no production deployment
    incident(104, 4, "2024-04-05T11:00:00", resolved="2024-04-05T12:00:00", caused_by=4),
    incident(105, 4, "2024-04-06T11:00:00", rtype="SERVICE_REQUEST"),
    incident(201, 1, "2024-04-01T00:00:00"),
]


def test_dora_kpis_by_hand(seeds):
    res = run_dora(seeds, DORA_REQUESTS, DORA_DEPLOYMENTS)
    assert res.incident_causes == {101: 1, 102: 1, 103: 3, 104: None, 201: None}
    # frequency: DEPLOYED production 1, 2 (' Prod '), 6, 7 in April's 30 days:
    # 7 x 4 / 30 = 0.9333 -> 0.93; lead times 24, 2, 10 h -> median 10; failure rate:
    # 1 (two incidents, counted once) and 3 (rolled back) of 1, 2, 3, 6, 7 -> 40.0 %;
    # recovery 4, 24, 2 h -> median 4 (104's staging cause is none); rework: 2 fixed
    # incident 101, of the four DEPLOYED -> 25.0 %
    april = values_of(res, 4, "MONTHLY", "2024-04-01")
    assert april == {"DEPLOYMENT_FREQUENCY": 0.93, "CHANGE_LEAD_TIME": 10.0,
                     "CHANGE_FAILURE_RATE": 40.0, "FAILED_DEPLOYMENT_RECOVERY_TIME": 4.0,
                     "DEPLOYMENT_REWORK_RATE": 25.0}
    kv = res.kpi_values
    freq = kv[(4, "DEPLOYMENT_FREQUENCY", "MONTHLY", d("2024-04-01"))]
    assert (freq["numerator"], freq["denominator"]) == (4.0, 30.0)
    cfr = kv[(4, "CHANGE_FAILURE_RATE", "MONTHLY", d("2024-04-01"))]
    assert (cfr["numerator"], cfr["denominator"], cfr["status"]) == (2.0, 5.0, "RED")
    lead = kv[(4, "CHANGE_LEAD_TIME", "MONTHLY", d("2024-04-01"))]
    assert (lead["numerator"], lead["denominator"], lead["status"]) == (None, 3.0, "GREEN")
    recovery = kv[(4, "FAILED_DEPLOYMENT_RECOVERY_TIME", "MONTHLY", d("2024-04-01"))]
    assert recovery["denominator"] == 3.0
    # the staging deployment 4 is measured by no DORA KPI; the FAILED 5 only by the
    # frequency, as 0 (a finished production deployment: it counts no deployment)
    measured = {(kpi, key) for (tid, kpi, key) in res.contributions if kpi in DORA_KPIS}
    assert not [m for m in measured if m[1] == ("deployment", 4)]
    assert [m for m in measured if m[1] == ("deployment", 5)] == [
        ("DEPLOYMENT_FREQUENCY", ("deployment", 5))]
    assert res.contributions[(4, "DEPLOYMENT_FREQUENCY", ("deployment", 5))][
        "measured_value"] == 0.0
    assert res.contributions[(4, "CHANGE_FAILURE_RATE", ("deployment", 1))][
        "measured_value"] == 1.0
    # the week of Monday 1 April: 1, 2 and 6 (Sunday 7th) -> 7 x 3 / 7 = 3.0 a week
    assert kv[(4, "DEPLOYMENT_FREQUENCY", "WEEKLY", d("2024-04-01"))]["value"] == 3.0
    # a day without a deployment: 0 is a value
    day = kv[(4, "DEPLOYMENT_FREQUENCY", "DAILY", d("2024-04-10"))]
    assert (day["value"], day["status"]) == (0.0, "RED")
    # levels (DORA_2023): 0.93 a week MEDIUM, 10 h ELITE, 40 % LOW, 4 h HIGH -> LOW
    total = res.dora_scorecard[(4, "MONTHLY", d("2024-04-01"), None)]
    assert [total[c] for c in LEVEL_COLUMNS] == ["MEDIUM", "ELITE", "LOW", "HIGH", "LOW"]
    assert [total[c] for c in VALUE_COLUMNS] == [0.93, 10.0, 40.0, 4.0, 25.0]
    # by service: api 7 x 2 / 30, lead 24 and 2, failures 2 of 3, every recovery, rework
    # 1 of 2; web 7 x 2 / 30, lead 10, no failure, no recovery, no rework
    api = res.dora_scorecard[(4, "MONTHLY", d("2024-04-01"), "api")]
    assert [api[c] for c in VALUE_COLUMNS] == [0.47, 13.0, 66.7, 4.0, 50.0]
    assert [api[c] for c in LEVEL_COLUMNS] == ["MEDIUM", "ELITE", "LOW", "HIGH", "LOW"]
    web = res.dora_scorecard[(4, "MONTHLY", d("2024-04-01"), "web")]
    assert [web[c] for c in VALUE_COLUMNS] == [0.47, 10.0, 0.0, None, 0.0]
    assert [web[c] for c in LEVEL_COLUMNS] == ["MEDIUM", "ELITE", "ELITE", None, "MEDIUM"]
    assert {key[3] for key in res.dora_scorecard if key[:3] == (4, "MONTHLY", d("2024-04-01"))
            } == {None, "api", "web"}


def test_window_attribution_in_and_just_outside(seeds):
    deployments = [
        deployment(10, 4, "DEPLOYED", "2024-04-10T08:00:00"),
        deployment(11, 4, "DEPLOYED", "2024-04-10T08:00:00"),  # a tie: the highest id
        deployment(12, 4, "DEPLOYED", "2024-04-10T11:00:00", service="web"),
        deployment(13, 4, "ROLLED_BACK", "2024-04-10T11:30:00"),  # not DEPLOYED
        deployment(14, 4, "DEPLOYED", "2024-04-10T11:45:00", environment="staging"),
        deployment(15, 4, "DEPLOYED", "2024-04-10T12:30:00"),  # after the incidents
        deployment(20, 1, "DEPLOYED", "2024-04-10T09:00:00"),  # another tenant's
    ]
    requests = [
        incident(301, 4, "2024-04-10T12:00:00", resolved="2024-04-10T13:00:00"),  # 4 h: in
        incident(302, 4, "2024-04-10T12:00:01", resolved="2024-04-10T13:00:00"),  # just out
        incident(303, 4, "2024-04-10T12:00:00", caused_by=20),  # explicit: stands
        incident(304, 4, "2024-04-10T11:00:00", service="web"),  # at finished_at: in
        incident(305, 4, "2024-04-10T12:00:00", service=None),
        incident(306, 4, "2024-04-10T12:00:00", service="API"),  # another service
    ]
    res = run_dora(seeds, requests, deployments, window=4)
    assert res.incident_causes == {301: 11, 302: None, 303: None, 304: 12, 305: None,
                                   306: None}
    # 11 and 12 caused incidents, 13 was rolled back: failure rate 3 of the five tenant-4
    # DEPLOYED or ROLLED_BACK production deployments (10, 11, 12, 13, 15) -> 60.0 %;
    # recovery of 301 (the only one resolved): 13:00 - 08:00 = 5 h
    april = values_of(res, 4, "MONTHLY", "2024-04-01")
    assert april["CHANGE_FAILURE_RATE"] == 60.0
    assert april["FAILED_DEPLOYMENT_RECOVERY_TIME"] == 5.0
    # explicit links only (the default): none attributed, 13 alone failed -> 20.0 %
    plain = run_dora(seeds, requests, deployments)
    assert set(plain.incident_causes.values()) == {None}
    assert values_of(plain, 4, "MONTHLY", "2024-04-01")["CHANGE_FAILURE_RATE"] == 20.0


def test_negative_recovery_left_out_failure_still_counted(seeds):
    deployments = [deployment(1, 4, "DEPLOYED", "2024-04-10T10:00:00")]
    requests = [
        # resolved before the deployment that caused it finished: -0.5 h, left out
        incident(1, 4, "2024-04-10T09:00:00", resolved="2024-04-10T09:30:00", caused_by=1),
        # resolved the moment it finished: 0 h counts
        incident(2, 4, "2024-04-10T09:00:00", resolved="2024-04-10T10:00:00", caused_by=1),
    ]
    res = run_dora(seeds, requests, deployments)
    recovery = res.kpi_values[(4, "FAILED_DEPLOYMENT_RECOVERY_TIME", "MONTHLY", d("2024-04-01"))]
    assert (recovery["value"], recovery["denominator"]) == (0.0, 1.0)
    assert (4, "FAILED_DEPLOYMENT_RECOVERY_TIME", ("sr", 1)) not in res.contributions
    assert values_of(res, 4, "MONTHLY", "2024-04-01")["CHANGE_FAILURE_RATE"] == 100.0
    only_negative = run_dora(seeds, requests[:1], deployments)
    assert values_of(only_negative, 4, "MONTHLY", "2024-04-01")[
        "FAILED_DEPLOYMENT_RECOVERY_TIME"] is None
    assert values_of(only_negative, 4, "MONTHLY", "2024-04-01")["CHANGE_FAILURE_RATE"] == 100.0


def test_lead_time_commit_missing_or_after_finished(seeds):
    deployments = [
        deployment(1, 4, "DEPLOYED", "2024-04-10T10:00:00"),  # no commit_at: left out
        deployment(2, 4, "DEPLOYED", "2024-04-11T10:00:00", commit="2024-04-11T10:00:01"),
        deployment(3, 4, "DEPLOYED", "2024-04-12T10:00:00", commit="2024-04-12T10:00:00"),  # 0
        deployment(4, 4, "DEPLOYED", "2024-04-13T10:00:00", commit="2024-04-12T10:00:00"),  # 24
        # 24 h 14 s = 24.0039 h -> 24.0: ELITE on the rounded value
        deployment(5, 4, "DEPLOYED", "2024-04-14T10:00:14", commit="2024-04-13T10:00:00"),
        deployment(6, 4, "FAILED", "2024-04-15T10:00:00", commit="2024-04-01T10:00:00"),
    ]
    res = run_dora(seeds, [], deployments)
    lead = res.kpi_values[(4, "CHANGE_LEAD_TIME", "MONTHLY", d("2024-04-01"))]
    assert (lead["value"], lead["denominator"]) == (24.0, 3.0)  # median of 0, 24, 24.0039
    assert res.dora_scorecard[(4, "MONTHLY", d("2024-04-01"), None)][
        "change_lead_time_level"] == "ELITE"
    assert {key for (_, kpi, key) in res.contributions if kpi == "CHANGE_LEAD_TIME"} == {
        ("deployment", 3), ("deployment", 4), ("deployment", 5)}


def test_tenant_without_production_deployments_is_no_data(seeds):
    deployments = [
        deployment(1, 1, "DEPLOYED", "2024-04-10T10:00:00", environment="staging"),
        deployment(2, 1, "IN_PROGRESS", None, started="2024-04-20T10:00:00"),
        deployment(3, 1, "DEPLOYED", "2024-05-02T10:00:00", started="2024-04-30T10:00:00"),
        # tenant 4: one production deployment in March, none in April
        deployment(4, 4, "DEPLOYED", "2024-03-20T10:00:00"),
    ]
    requests = [incident(1, 1, "2024-04-10T11:00:00", resolved="2024-04-10T12:00:00",
                         caused_by=1)]
    res = run_dora(seeds, requests, deployments, as_of="2024-04-30T12:00:00")
    seoul = [row for (tid, kpi, _, _), row in res.kpi_values.items()
             if tid == 1 and kpi in DORA_KPIS]
    assert len(seoul) > 30
    assert all(row["value"] is None and row["status"] == "NO_DATA" for row in seoul)
    april = res.kpi_values[(1, "DEPLOYMENT_FREQUENCY", "MONTHLY", d("2024-04-01"))]
    assert (april["numerator"], april["denominator"]) == (0.0, 0.0)  # no value: 0 over 0
    total = res.dora_scorecard[(1, "MONTHLY", d("2024-04-01"), None)]
    assert [total[c] for c in VALUE_COLUMNS + LEVEL_COLUMNS] == [None] * 10
    assert not any(key[0] == 1 and key[3] is not None for key in res.dora_scorecard)
    # tenant 4 has one: April's frequency is 0 a week, a value (LOW), the others no data
    tenant_4 = values_of(res, 4, "MONTHLY", "2024-04-01")
    assert tenant_4 == {"DEPLOYMENT_FREQUENCY": 0.0, "CHANGE_LEAD_TIME": None,
                        "CHANGE_FAILURE_RATE": None, "FAILED_DEPLOYMENT_RECOVERY_TIME": None,
                        "DEPLOYMENT_REWORK_RATE": None}
    total = res.dora_scorecard[(4, "MONTHLY", d("2024-04-01"), None)]
    assert (total["deployment_frequency_level"], total["overall_level"]) == ("LOW", "LOW")
    # March: from the 20th (first activity) to the 31st, frequency over 31 days
    assert values_of(res, 4, "MONTHLY", "2024-03-01")["DEPLOYMENT_FREQUENCY"] == 0.23


def test_rolled_back_only_tenant_has_a_frequency_of_zero(seeds):
    # issue 16: NO_DATA is for a tenant with no production deployment finished by as_of;
    # tenant 4's only one was rolled back: it has finished, so every period has a
    # frequency (0 a week: nothing DEPLOYED) and the failure rate is 1 of 1
    res = run_dora(seeds, [], [deployment(1, 4, "ROLLED_BACK", "2024-04-10T10:00:00")])
    april = res.kpi_values[(4, "DEPLOYMENT_FREQUENCY", "MONTHLY", d("2024-04-01"))]
    # as_of 1 May 00:00 UTC: April's 30 days have started
    assert (april["numerator"], april["denominator"], april["value"]) == (0.0, 30.0, 0.0)
    assert values_of(res, 4, "MONTHLY", "2024-04-01")["CHANGE_FAILURE_RATE"] == 100.0


def test_dora_dst_week_new_york(seeds):
    # New York springs forward on Sunday 2024-03-10: local week of Monday 03-04 is
    # [03-04 05:00 UTC, 03-11 04:00 UTC)
    deployments = [
        deployment(1, 2, "DEPLOYED", "2024-03-04T04:30:00"),  # 23:30 EST on 03-03
        deployment(2, 2, "DEPLOYED", "2024-03-04T05:00:00"),  # 00:00 EST on 03-04
        # 23:30 EDT on 03-10; committed 01:30 EST that day: 21 h elapsed (22 on the clock)
        deployment(3, 2, "DEPLOYED", "2024-03-11T03:30:00", commit="2024-03-10T06:30:00"),
        deployment(4, 2, "DEPLOYED", "2024-03-11T04:00:00"),  # 00:00 EDT on 03-11
    ]
    res = run_dora(seeds, [], deployments, as_of="2024-03-20T00:00:00")
    weekly = {start: res.kpi_values[(2, "DEPLOYMENT_FREQUENCY", "WEEKLY", d(start))]
              for start in ("2024-02-26", "2024-03-04", "2024-03-11")}
    assert [(w["numerator"], w["denominator"], w["value"]) for w in weekly.values()] == [
        (1.0, 7.0, 1.0), (2.0, 7.0, 2.0), (1.0, 7.0, 1.0)]
    assert res.kpi_values[(2, "DEPLOYMENT_FREQUENCY", "DAILY", d("2024-03-10"))]["value"] == 7.0
    assert res.kpi_values[(2, "CHANGE_LEAD_TIME", "WEEKLY", d("2024-03-04"))]["value"] == 21.0
    # the week's levels: 2 a week HIGH; the 23-hour day: 7 ELITE
    assert res.dora_scorecard[(2, "WEEKLY", d("2024-03-04"), None)][
        "deployment_frequency_level"] == "HIGH"
    assert res.dora_scorecard[(2, "DAILY", d("2024-03-10"), None)][
        "deployment_frequency_level"] == "ELITE"
    # as_of 23:30 EST on Saturday 03-09: six local days of the week have started, and
    # deployment 3 is not finished yet -> 7 x 1 / 6 = 1.1667 -> 1.17
    early = run_dora(seeds, [], deployments, as_of="2024-03-10T04:30:00")
    week = early.kpi_values[(2, "DEPLOYMENT_FREQUENCY", "WEEKLY", d("2024-03-04"))]
    assert (week["numerator"], week["denominator"], week["value"]) == (1.0, 6.0, 1.17)
    assert week["is_complete"] is False


def test_dora_levels_by_hand():
    levels = benchmark_levels()
    for kpi, value, level in [
        ("CHANGE_LEAD_TIME", 24.0, "ELITE"), ("CHANGE_LEAD_TIME", 24.01, "HIGH"),
        ("CHANGE_LEAD_TIME", 720.0, "MEDIUM"), ("CHANGE_LEAD_TIME", 720.01, "LOW"),
        ("CHANGE_FAILURE_RATE", 0.0, "ELITE"), ("CHANGE_FAILURE_RATE", 15.0, "MEDIUM"),
        ("CHANGE_FAILURE_RATE", 15.1, "LOW"),
        ("FAILED_DEPLOYMENT_RECOVERY_TIME", 1.0, "ELITE"),
        ("FAILED_DEPLOYMENT_RECOVERY_TIME", 168.01, "LOW"),
        ("DEPLOYMENT_FREQUENCY", 7.0, "ELITE"), ("DEPLOYMENT_FREQUENCY", 6.99, "HIGH"),
        ("DEPLOYMENT_FREQUENCY", 0.23, "MEDIUM"), ("DEPLOYMENT_FREQUENCY", 0.22, "LOW"),
        ("DEPLOYMENT_FREQUENCY", 0.0, "LOW"),
        ("CHANGE_LEAD_TIME", None, None), ("DEPLOYMENT_REWORK_RATE", 0.0, None),
    ]:
        assert dora_level(kpi, value, levels) == level, (kpi, value)
    assert overall_level(["ELITE", None, "MEDIUM", "HIGH"]) == "MEDIUM"
    assert overall_level([None, None, None, None]) is None
    # a set read from seed rows: the same rule, with that set's thresholds
    rows = [{"benchmark_set": "MINE", "kpi_name": "CHANGE_FAILURE_RATE", "level": level,
             "level_rank": rank, "threshold": threshold}
            for rank, level, threshold in ((2, "HIGH", 20.0), (1, "ELITE", 10.0),
                                           (4, "LOW", None), (3, "MEDIUM", 30.0))]
    mine = benchmark_levels(rows, "MINE")
    assert [dora_level("CHANGE_FAILURE_RATE", v, mine) for v in (10.0, 15.0, 30.0, 31.0)] == [
        "ELITE", "HIGH", "MEDIUM", "LOW"]


def test_dora_seeds_when_shipped(seeds):
    """Once the engine ships them: the seeds say what issue 16 says (definitions, targets
    enabled for every tenant, the environment mapping, the DORA_2023 levels)."""
    definitions = {r["kpi_name"]: r for r in seeds["kpi_definitions"]}
    if not set(DORA_KPIS) <= set(definitions):
        pytest.skip("the DORA KPIs are not in seeds/kpi_definitions.csv yet")
    for name, values in DORA_DEFINITIONS.items():
        row = definitions[name]
        assert tuple(row[f] for f in DORA_DEFINITION_FIELDS) == values, name
        assert row["is_builtin"] is True
    targets = {r["kpi_name"]: r for r in seeds["kpi_targets"] if r["tenant_id"] is None}
    for name, values in DORA_DEFINITIONS.items():
        assert targets[name]["is_enabled"] is True and targets[name]["target"] == values[2]
    mapping = production_mapping(seeds["deployment_environments"])
    assert mapping == production_mapping(SHIPPED_DEPLOYMENT_ENVIRONMENTS)
    assert benchmark_levels(seeds["dora_benchmarks"], "DORA_2023") == benchmark_levels()
