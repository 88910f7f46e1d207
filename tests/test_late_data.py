"""Late and changed data, on the hand-made fixture (fixtures_hand.py), on DuckDB and
PostgreSQL, with values worked out by hand below.

A run given a recompute window [min_date, max_date) starts it `lookback_days` days
earlier (default 3), so the daily run also recomputes the periods touched by the last days
before its window. Here the run is what the daily schedule does at 00:30 UTC on 2 April
2024: as_of 2024-04-02 00:30 UTC, window [1 April, 3 April) (yesterday and today), i.e.
[29 March, 3 April) with the lookback. Every test first builds everything at that as_of,
then changes the raw data, reruns the window and compares every row of
marts.fct_kpi_values (all columns but calculated_at): exactly the rows listed change, to
the values listed; every other row is identical.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import fixtures_hand
from harness import Warehouse, normalise

AS_OF = "2024-04-02T00:30:00Z"
WINDOW = {"min_date": "2024-04-01", "max_date": "2024-04-03"}
D = date.fromisoformat

# (tenant, kpi, grain, period_start) -> (value, numerator, denominator, achievement, status)
Key = tuple[int, str, str, date]
Values = tuple[float | None, float, float | None, float | None, str]
MEASURED = ("value", "numerator", "denominator", "achievement_pct", "status")
NO_DATA: Values = (None, 0.0, 0.0, None, "NO_DATA")


def facts(warehouse: Warehouse) -> dict[Key, dict[str, Any]]:
    """Every row of marts.fct_kpi_values as stored, without calculated_at."""
    rows = warehouse.query("select * from marts.fct_kpi_values")
    return {
        (r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]):
            {k: v for k, v in r.items() if k != "calculated_at"}
        for r in rows
    }


def measured(row: dict[str, Any]) -> Values:
    return tuple(  # type: ignore[return-value]
        None if row[c] is None else row[c] if c == "status" else float(row[c])
        for c in MEASURED
    )


def assert_changes(before: dict[Key, dict], after: dict[Key, dict],
                   expected: dict[Key, tuple[Values, Values]]) -> None:
    """Exactly the rows of `expected` changed, from and to the values given; every other
    row is identical, column by column; no row appeared or disappeared."""
    assert set(after) == set(before)
    changed = {key for key in before if before[key] != after[key]}
    assert changed == set(expected), (
        f"unexpected: {sorted(changed - set(expected))}, missing: {sorted(set(expected) - changed)}"
    )
    for key, (old, new) in expected.items():
        assert (measured(before[key]), measured(after[key])) == (old, new), key


def raw_with(requests: list[dict] | None = None, events: list[dict] | None = None,
             base: dict[str, list[dict]] | None = None) -> dict[str, list[dict]]:
    """The fixture's raw rows (or `base`), with requests replaced by sr_id or added, and
    events added."""
    base = base or fixtures_hand.RAW
    new_requests = {r["sr_id"]: r for r in requests or []}
    kept = [r for r in base["service_requests"] if r["sr_id"] not in new_requests]
    return {
        "service_requests": [*kept, *new_requests.values()],
        "sr_events": [*base["sr_events"], *(events or [])],
        "deployments": base["deployments"],
    }


def _request(sr_id: int, **changes: Any) -> dict:
    [row] = [r for r in fixtures_hand.SERVICE_REQUESTS if r["sr_id"] == sr_id]
    return {**row, **changes}


def _event(event_id: int, sr_id: int, tenant: int, at: str, status: str | None = None,
           assignee: int | None = None) -> dict:
    return {"event_id": event_id, "sr_id": sr_id, "tenant_id": tenant,
            "event_at": datetime.fromisoformat(at),
            "event_type": "STATUS" if status else "ASSIGNMENT",
            "new_status": status, "new_assignee_id": assignee}


# --- a late resolution ------------------------------------------------------------------
# Request 111 (tenant 1, Seoul, SERVICE_REQUEST P2, open since 15 Mar 11:00 UTC) was
# resolved at 29 Mar 10:00 UTC (19:00 KST, 29 March), three days before the window; the
# event (and the row's new state) only reaches the raw tables after the first build.
LATE_RESOLUTION = raw_with(
    requests=[_request(111, status="DONE", resolved_at=datetime(2024, 3, 29, 10),
                       updated_at=datetime(2024, 3, 29, 10))],
    events=[_event(9101, 111, 1, "2024-03-29 10:00", status="DONE")],
)

# What it changes for tenant 1 at as_of 2 April 00:30 UTC (09:30 KST). By then 109 (P1
# incident, 16 Mar 00:00-01:00 UTC) and 110 (P4 incident, DONE 15 Mar 13:00 UTC) are
# resolved too, so 111 was the only open request from 16 March on.
# - FCR, resolutions in March KST: 101-108 as in test_kpis_by_hand (6 of 8 first time),
#   109 and 110 first time (no assignee): 8/10 = 80.0 (GREEN, 100.0); with 111 (no
#   reopen, no assignee): 9/11 = 81.8; 81.8/80 = 102.25 -> 102.3.
# - SLA March KST: 6/7 as by hand, 109 (P1, 4 h: 1 h) and 110 (P4, 72 h: 37 h) in time:
#   8/9 = 88.9, 88.9/95 = 93.6 YELLOW; 111 (SR P2, 24 h: 15 Mar 11:00 -> 29 Mar 10:00 =
#   335 h) late: 8/10 = 80.0, 84.2 YELLOW.
# - 29 March KST and the week of 25 March KST had no resolution: FCR 1/1 = 100.0 (125.0
#   GREEN), SLA 0/1 = 0.0 (RED).
# - SR_BACKLOG: 1 (111) at every cutoff from 16 March to 29 Mar 10:00 UTC, 0 after: the
#   days from 29 March KST (cutoff 15:00 UTC) to 2 April (cutoff as_of), the week of 25
#   March (cutoff 31 Mar 15:00 UTC), the current week, March and April go from 1 to 0.
BACKLOG_1: Values = (1.0, 1.0, None, 100.0, "GREEN")
BACKLOG_0: Values = (0.0, 0.0, None, 100.0, "GREEN")
LATE_RESOLUTION_CHANGES: dict[Key, tuple[Values, Values]] = {
    (1, "FCR", "MONTHLY", D("2024-03-01")): ((80.0, 8.0, 10.0, 100.0, "GREEN"),
                                             (81.8, 9.0, 11.0, 102.3, "GREEN")),
    (1, "SLA_COMPLIANCE", "MONTHLY", D("2024-03-01")): ((88.9, 8.0, 9.0, 93.6, "YELLOW"),
                                                        (80.0, 8.0, 10.0, 84.2, "YELLOW")),
    (1, "FCR", "WEEKLY", D("2024-03-25")): (NO_DATA, (100.0, 1.0, 1.0, 125.0, "GREEN")),
    (1, "SLA_COMPLIANCE", "WEEKLY", D("2024-03-25")): (NO_DATA, (0.0, 0.0, 1.0, 0.0, "RED")),
    (1, "FCR", "DAILY", D("2024-03-29")): (NO_DATA, (100.0, 1.0, 1.0, 125.0, "GREEN")),
    (1, "SLA_COMPLIANCE", "DAILY", D("2024-03-29")): (NO_DATA, (0.0, 0.0, 1.0, 0.0, "RED")),
    **{(1, "SR_BACKLOG", grain, D(start)): (BACKLOG_1, BACKLOG_0) for grain, start in [
        ("DAILY", "2024-03-29"), ("DAILY", "2024-03-30"), ("DAILY", "2024-03-31"),
        ("DAILY", "2024-04-01"), ("DAILY", "2024-04-02"),
        ("WEEKLY", "2024-03-25"), ("WEEKLY", "2024-04-01"),
        ("MONTHLY", "2024-03-01"), ("MONTHLY", "2024-04-01"),
    ]},
}
def test_a_late_event_is_picked_up_by_the_lookback(warehouse: Warehouse) -> None:
    fixtures_hand.install_and_build(warehouse, AS_OF)
    before = facts(warehouse)
    # every period from each tenant's first activity to as_of, times its enabled KPIs:
    # 1 Seoul 29 Feb-2 Apr KST: 34 days, 6 weeks, 3 months x 5 = 215; 2 New York 9 Mar-1
    # Apr: 24, 5, 2 x 5 = 155; 3 UTC 20 Feb-2 Apr: 43, 7, 3 x 4 (no deployments KPI) =
    # 212; 9 UTC 12 Mar-2 Apr: 22, 4, 2 x 5 = 140
    assert len(before) == 215 + 155 + 212 + 140
    assert measured(before[(1, "SR_BACKLOG", "DAILY", D("2024-03-28"))]) == BACKLOG_1

    warehouse.load_raw(LATE_RESOLUTION)
    warehouse.build(AS_OF, variables=WINDOW, data_tests=False)  # lookback_days: the default, 3
    assert_changes(before, facts(warehouse), LATE_RESOLUTION_CHANGES)
    assert warehouse.query(
        "select raw_rows - accepted_rows - rejected_rows as unaccounted "
        "from marts.raw_data_quality where source_table = 'sr_events'"
    ) == [{"unaccounted": 0}]


def test_without_lookback_a_backfill_picks_up_the_late_event(warehouse: Warehouse) -> None:
    fixtures_hand.install_and_build(warehouse, AS_OF)
    before = facts(warehouse)

    warehouse.load_raw(LATE_RESOLUTION)
    # lookback_days 0 (an integer, falsy in Jinja): only the window is recomputed, and the
    # incremental core does not see the late event, dated before the window: the raw rows
    # no longer reconcile, and the run says so (the facts of the window are still built)
    result = warehouse.dbt("build", as_of=AS_OF, variables={**WINDOW, "lookback_days": 0},
                           expect_success=False)
    failed = {r.node.name: r for r in result.result.results if str(r.status) in ("fail", "error")}
    assert list(failed) == ["assert_raw_rows_reconcile"]
    assert failed["assert_raw_rows_reconcile"].failures == 1  # sr_events: one row unaccounted
    stale = facts(warehouse)
    assert_changes(before, stale, {})
    # the stale values: 29 March has no resolution, March keeps 8/10, and the backlog
    # still counts 111 on 1 April KST (the window) though it was resolved on 29 March
    assert measured(stale[(1, "FCR", "DAILY", D("2024-03-29"))]) == NO_DATA
    assert measured(stale[(1, "FCR", "MONTHLY", D("2024-03-01"))])[:3] == (80.0, 8.0, 10.0)
    assert measured(stale[(1, "SR_BACKLOG", "DAILY", D("2024-04-01"))]) == BACKLOG_1

    # a backfill from the late event's day (29 March UTC) through the window, as the
    # Dagster daily job runs it (the incremental core, then the facts), fixes everything
    warehouse.dbt("run", as_of=AS_OF,
                  variables={"min_date": "2024-03-29", "max_date": "2024-04-03",
                             "lookback_days": 0})
    assert_changes(before, facts(warehouse), LATE_RESOLUTION_CHANGES)


# --- a request reopened and reassigned after being counted ------------------------------
# Incident 305 (tenant 3, UTC, P2: 8 h, no pause): created 29 Mar 08:00, assigned to 4,
# DONE 10:00. The first build counts it on 29 March: 2 h, first time, in time. Then it
# is reopened on 31 Mar 09:00 (IN_PROGRESS), reassigned to 5, and DONE again on 1 Apr
# 12:00: resolved 1 April, 76 h, one reopen and two assignees (not first time), late.
INCIDENT_305 = {**_request(304), "sr_id": 305, "assignee_id": 4,
                "created_at": datetime(2024, 3, 29, 8), "updated_at": datetime(2024, 3, 29, 10),
                "resolved_at": datetime(2024, 3, 29, 10)}
FIRST_RESOLUTION = raw_with(
    requests=[INCIDENT_305],
    events=[_event(9201, 305, 3, "2024-03-29 08:00", status="OPEN"),
            _event(9202, 305, 3, "2024-03-29 08:05", assignee=4),
            _event(9203, 305, 3, "2024-03-29 10:00", status="DONE")],
)
REOPENED = raw_with(
    base=FIRST_RESOLUTION,
    requests=[{**INCIDENT_305, "assignee_id": 5, "updated_at": datetime(2024, 4, 1, 12),
               "resolved_at": datetime(2024, 4, 1, 12)}],
    events=[_event(9204, 305, 3, "2024-03-31 09:00", status="IN_PROGRESS"),
            _event(9205, 305, 3, "2024-03-31 09:05", assignee=5),
            _event(9206, 305, 3, "2024-04-01 12:00", status="DONE")],
)
# Tenant 3 (targets from 1 March: MTTR 2 h, FCR 80, SLA 95): its only other resolution
# since March is 304 (incident P2, 3 h, first time, in time); 303 is open since 3 March.
# - MTTR: 29 March and the week of 25 March 2.0 (GREEN) -> no data; March (3 + 2)/2 =
#   2.5 (> 2.4: RED, 2/2.5 = 80.0) -> 3.0 (66.7); 1 April, its week and April: no data
#   -> 76.0 (2/76 = 2.6, RED).
# - FCR: 29 March, its week 1/1 = 100.0 (125.0) -> no data; March 2/2 -> 1/1 (still
#   100.0); 1 April, its week, April: 0/1 = 0.0 (RED).
# - SLA: 29 March, its week 1/1 = 100.0 (105.3) -> no data; March 2/2 -> 1/1; 1 April,
#   its week, April: 0/1 = 0.0 (RED).
# - SR_BACKLOG: 1 (303) at every cutoff; 305 is open again at the end of 31 March (1 Apr
#   00:00 UTC), which is also the end of the week of 25 March and of March: 2 there.
MTTR_2: Values = (2.0, 2.0, 1.0, 100.0, "GREEN")
MTTR_76: Values = (76.0, 76.0, 1.0, 2.6, "RED")
FIRST_TIME: Values = (100.0, 1.0, 1.0, 125.0, "GREEN")
NOT_FIRST_TIME: Values = (0.0, 0.0, 1.0, 0.0, "RED")
IN_TIME: Values = (100.0, 1.0, 1.0, 105.3, "GREEN")
LATE: Values = (0.0, 0.0, 1.0, 0.0, "RED")
REOPENED_CHANGES: dict[Key, tuple[Values, Values]] = {
    **{(3, kpi, grain, D(start)): (old, NO_DATA)
       for grain, start in [("DAILY", "2024-03-29"), ("WEEKLY", "2024-03-25")]
       for kpi, old in [("MTTR", MTTR_2), ("FCR", FIRST_TIME), ("SLA_COMPLIANCE", IN_TIME)]},
    **{(3, kpi, grain, D(start)): (NO_DATA, new)
       for grain, start in [("DAILY", "2024-04-01"), ("WEEKLY", "2024-04-01"),
                            ("MONTHLY", "2024-04-01")]
       for kpi, new in [("MTTR", MTTR_76), ("FCR", NOT_FIRST_TIME), ("SLA_COMPLIANCE", LATE)]},
    (3, "MTTR", "MONTHLY", D("2024-03-01")): ((2.5, 5.0, 2.0, 80.0, "RED"),
                                              (3.0, 3.0, 1.0, 66.7, "RED")),
    (3, "FCR", "MONTHLY", D("2024-03-01")): ((100.0, 2.0, 2.0, 125.0, "GREEN"), FIRST_TIME),
    (3, "SLA_COMPLIANCE", "MONTHLY", D("2024-03-01")): ((100.0, 2.0, 2.0, 105.3, "GREEN"),
                                                        IN_TIME),
    **{(3, "SR_BACKLOG", grain, D(start)): (BACKLOG_1, (2.0, 2.0, None, 100.0, "GREEN"))
       for grain, start in [("DAILY", "2024-03-31"), ("WEEKLY", "2024-03-25"),
                            ("MONTHLY", "2024-03-01")]},
}


def test_a_reopened_and_reassigned_request_is_recounted_in_every_grain(
    warehouse: Warehouse,
) -> None:
    fixtures_hand.install_and_build(warehouse, AS_OF, raw=FIRST_RESOLUTION)
    before = facts(warehouse)

    warehouse.load_raw(REOPENED)
    warehouse.build(AS_OF, variables=WINDOW, data_tests=False)
    assert_changes(before, facts(warehouse), REOPENED_CHANGES)


def _measurements(warehouse: Warehouse) -> list[tuple]:
    rows = warehouse.query(
        "select kpi_name, measurement_key, local_date, numerator, denominator "
        "from intermediate.int_kpi__measurements")
    return sorted((tuple(normalise(v) for v in row.values()) for row in rows), key=repr)


def test_a_run_stopped_between_the_measurements_and_the_facts_loses_nothing(
    warehouse: Warehouse,
) -> None:
    """Every period value is computed from the measurements themselves: a run that
    rewrote the measurements and stopped before the fact tables leaves the facts as they
    were, and the next run (a retry, which rewrites the same measurements again)
    recomputes them once."""
    fixtures_hand.install_and_build(warehouse, AS_OF, raw=FIRST_RESOLUTION)
    before = facts(warehouse)

    warehouse.load_raw(REOPENED)
    # the run stops after int_kpi__measurements
    warehouse.dbt("run", "--select", "+int_kpi__measurements", as_of=AS_OF, variables=WINDOW)
    rows = warehouse.query(
        "select kpi_name, local_date, numerator from intermediate.int_kpi__measurements "
        "where sr_id = 305 and kpi_name in ('MTTR', 'FCR', 'SLA_COMPLIANCE')")
    # 305, reopened: its MTTR of 2 h, FCR 1 and SLA 1 on 29 March are now 76 h, 0 and 0
    # on 1 April
    assert sorted((r["kpi_name"], r["local_date"], float(r["numerator"])) for r in rows) == [
        ("FCR", D("2024-04-01"), 0.0), ("MTTR", D("2024-04-01"), 76.0),
        ("SLA_COMPLIANCE", D("2024-04-01"), 0.0),
    ]
    assert facts(warehouse) == before  # nothing downstream moved yet

    # the retry: the whole windowed build again
    warehouse.build(AS_OF, variables=WINDOW, data_tests=False)
    assert_changes(before, facts(warehouse), REOPENED_CHANGES)
    incremental = _measurements(warehouse)
    # without window: every measurement recomputed from scratch
    warehouse.build(AS_OF, data_tests=False)
    assert _measurements(warehouse) == incremental
