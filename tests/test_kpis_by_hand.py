"""The KPI marts on a hand-made data set (fixtures_hand.py), on DuckDB, PostgreSQL and Spark,
against values worked out by hand below. as_of = 2024-03-15 12:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import fixtures_hand
import pytest
from harness import WITH_SPARK, Warehouse, normalise

D = date.fromisoformat


@pytest.fixture(scope="module", params=WITH_SPARK)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    with fixtures_hand.built_warehouse(
        request.param, tmp_path_factory.mktemp(f"hand_{request.param}")
    ) as warehouse:
        yield warehouse


_FACTS: list[Any] = [None, {}]  # the warehouse last read, and its facts


def fct(built: Warehouse) -> dict[tuple, dict]:
    """fct_kpi_values of the module's warehouse, read once (a Spark query costs seconds)."""
    if _FACTS[0] is not built:
        _FACTS[:] = [built, _read_facts(built)]
    return _FACTS[1]


def _read_facts(built: Warehouse) -> dict[tuple, dict]:
    rows = built.query("select * from marts.fct_kpi_values")
    return {
        (r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]): {
            k: normalise(v) for k, v in r.items()
        }
        for r in rows
    }


# (tenant, kpi, grain, period_start): (value, numerator, denominator, target, achievement, status)
EXPECTED = {
    # --- tenant 1, Asia/Seoul. March (KST) resolutions: incidents 101 (3 h), 102 (5 h,
    # 15:30 UTC on Sun 10 Mar = 00:30 KST Mon 11 Mar), 103 (6 h, 16:00 UTC 29 Feb = 01:00
    # KST 1 Mar), 108 (10 h); 110 is DONE only after as_of.
    (1, "MTTR", "MONTHLY", D("2024-03-01")): (6.0, 24.0, 4.0, 4.0, 66.7, "RED"),  # 24/4; 6 > 4.8; 4/6
    (1, "MTTR", "MONTHLY", D("2024-02-01")): (None, 0.0, 0.0, 4.0, None, "NO_DATA"),
    (1, "MTTR", "WEEKLY", D("2024-02-26")): (6.0, 6.0, 1.0, 4.0, 66.7, "RED"),  # 103 on 1 Mar KST
    (1, "MTTR", "WEEKLY", D("2024-03-04")): (6.5, 13.0, 2.0, 4.0, 61.5, "RED"),  # 101 + 108
    (1, "MTTR", "WEEKLY", D("2024-03-11")): (5.0, 5.0, 1.0, 4.0, 80.0, "RED"),  # 102; 5 > 4.8
    (1, "MTTR", "DAILY", D("2024-03-05")): (3.0, 3.0, 1.0, 4.0, 100.0, "GREEN"),
    (1, "MTTR", "DAILY", D("2024-03-10")): (None, 0.0, 0.0, 4.0, None, "NO_DATA"),
    (1, "MTTR", "DAILY", D("2024-03-11")): (5.0, 5.0, 1.0, 4.0, 80.0, "RED"),
    # FCR March: 101, 102, 103 (no assignee), 105 (same assignee twice), 107, 108 first
    # time; 104 reopened, 106 two assignees -> 6/8 = 75.0; 75/80 = 93.75 -> 93.8, YELLOW
    (1, "FCR", "MONTHLY", D("2024-03-01")): (75.0, 6.0, 8.0, 80.0, 93.8, "YELLOW"),
    # week of 4 Mar KST: 101, 104, 105, 106, 107, 108 -> 4/6 = 66.7; 66.7/80 = 83.4
    (1, "FCR", "WEEKLY", D("2024-03-04")): (66.7, 4.0, 6.0, 80.0, 83.4, "YELLOW"),
    # SLA March: 106 is a CHANGE (no policy); 104 and 107 use tenant 1's own SR/P3 policy
    # (10 h, pause): 104 5 h ok, 107 12 h - 6 h on hold = 6 h ok; 108 INCIDENT/P2 8 h no
    # pause: 10 h late -> 6/7 = 85.714 -> 85.7; 85.7/95 = 90.2
    (1, "SLA_COMPLIANCE", "MONTHLY", D("2024-03-01")): (85.7, 6.0, 7.0, 95.0, 90.2, "YELLOW"),
    # deployments finished in March KST: 11 DEPLOYED, 12 FAILED, 13 ROLLED_BACK, 17
    # DEPLOYED (15:30 UTC 29 Feb = 1 Mar KST); 14 running, 15 cancelled, 16 after as_of
    (1, "DEPLOY_SUCCESS_RATE", "MONTHLY", D("2024-03-01")): (50.0, 2.0, 4.0, 95.0, 52.6, "RED"),
    (1, "DEPLOY_SUCCESS_RATE", "MONTHLY", D("2024-02-01")): (None, 0.0, 0.0, 95.0, None, "NO_DATA"),
    (1, "DEPLOY_SUCCESS_RATE", "DAILY", D("2024-03-01")): (100.0, 1.0, 1.0, 95.0, 105.3, "GREEN"),
    (1, "DEPLOY_SUCCESS_RATE", "DAILY", D("2024-03-05")): (50.0, 1.0, 2.0, 95.0, 52.6, "RED"),
    # backlog: end of 29 Feb KST (15:00 UTC): 103 open (DONE 16:00 UTC) -> 1; end of 1 Mar:
    # 0; end of 14 Mar KST: 110 -> 1; now (as_of): 110 and 111 -> 2
    (1, "SR_BACKLOG", "DAILY", D("2024-02-29")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (1, "SR_BACKLOG", "DAILY", D("2024-03-01")): (0.0, 0.0, None, 10.0, 100.0, "GREEN"),
    (1, "SR_BACKLOG", "DAILY", D("2024-03-14")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (1, "SR_BACKLOG", "DAILY", D("2024-03-15")): (2.0, 2.0, None, 10.0, 100.0, "GREEN"),
    (1, "SR_BACKLOG", "MONTHLY", D("2024-02-01")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (1, "SR_BACKLOG", "MONTHLY", D("2024-03-01")): (2.0, 2.0, None, 10.0, 100.0, "GREEN"),
    # --- tenant 2, America/New_York; 10 Mar has 23 hours (05:00 -> 04:00 UTC).
    # 201: 06:30 -> 07:30 UTC (01:30 EST -> 03:30 EDT) is 1 h; 203: 24 h (25 h of clock)
    (2, "MTTR", "DAILY", D("2024-03-10")): (12.5, 25.0, 2.0, 4.0, 32.0, "RED"),
    (2, "MTTR", "WEEKLY", D("2024-03-04")): (12.5, 25.0, 2.0, 4.0, 32.0, "RED"),  # Sunday
    (2, "MTTR", "MONTHLY", D("2024-03-01")): (12.5, 25.0, 2.0, 4.0, 32.0, "RED"),
    (2, "SLA_COMPLIANCE", "DAILY", D("2024-03-10")): (50.0, 1.0, 2.0, 95.0, 52.6, "RED"),
    (2, "FCR", "MONTHLY", D("2024-03-01")): (100.0, 2.0, 2.0, 80.0, 125.0, "GREEN"),
    (2, "DEPLOY_SUCCESS_RATE", "DAILY", D("2024-03-10")): (100.0, 1.0, 1.0, 95.0, 105.3, "GREEN"),
    # backlog: end of 9 Mar (05:00 UTC 10 Mar): 203 open -> 1; end of 10 Mar (04:00 UTC 11
    # Mar): 204 (03:30 UTC) -> 1, 202 (04:30 UTC) belongs to 11 Mar; end of 11 Mar: 2
    (2, "SR_BACKLOG", "DAILY", D("2024-03-09")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (2, "SR_BACKLOG", "DAILY", D("2024-03-10")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (2, "SR_BACKLOG", "DAILY", D("2024-03-11")): (2.0, 2.0, None, 10.0, 100.0, "GREEN"),
    # --- tenant 3, UTC: MTTR target 4 before 1 Mar, 2 from 1 Mar (its own rows)
    (3, "MTTR", "MONTHLY", D("2024-02-01")): (3.0, 3.0, 1.0, 4.0, 100.0, "GREEN"),  # 301, no history
    (3, "MTTR", "MONTHLY", D("2024-03-01")): (3.0, 3.0, 1.0, 2.0, 66.7, "RED"),  # 3 > 2.4
    (3, "MTTR", "WEEKLY", D("2024-02-26")): (None, 0.0, 0.0, 4.0, None, "NO_DATA"),  # starts 26 Feb
    (3, "MTTR", "WEEKLY", D("2024-03-04")): (3.0, 3.0, 1.0, 2.0, 66.7, "RED"),
    (3, "MTTR", "DAILY", D("2024-02-29")): (None, 0.0, 0.0, 4.0, None, "NO_DATA"),
    (3, "MTTR", "DAILY", D("2024-03-01")): (None, 0.0, 0.0, 2.0, None, "NO_DATA"),
    (3, "FCR", "MONTHLY", D("2024-02-01")): (100.0, 1.0, 1.0, 80.0, 125.0, "GREEN"),
    (3, "SLA_COMPLIANCE", "MONTHLY", D("2024-02-01")): (100.0, 1.0, 1.0, 95.0, 105.3, "GREEN"),
    # 302 created 1 Mar, CANCELLED (no history) exactly at the end of 1 Mar: still open then
    (3, "SR_BACKLOG", "DAILY", D("2024-02-20")): (0.0, 0.0, None, 10.0, 100.0, "GREEN"),
    (3, "SR_BACKLOG", "DAILY", D("2024-03-01")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (3, "SR_BACKLOG", "DAILY", D("2024-03-02")): (0.0, 0.0, None, 10.0, 100.0, "GREEN"),
    (3, "SR_BACKLOG", "DAILY", D("2024-03-03")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    # --- tenant 9: not in tenants.csv (UTC), no deployments
    (9, "DEPLOY_SUCCESS_RATE", "MONTHLY", D("2024-03-01")): (None, 0.0, 0.0, 95.0, None, "NO_DATA"),
    (9, "SR_BACKLOG", "DAILY", D("2024-03-12")): (1.0, 1.0, None, 10.0, 100.0, "GREEN"),
    (9, "SR_BACKLOG", "DAILY", D("2024-03-11")): (None, None, None, None, None, None),  # no period
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: "-".join(map(str, k)))
def test_kpi_value(built: Warehouse, key: tuple) -> None:
    expected = EXPECTED[key]
    rows = fct(built)
    if expected[0] is None and expected[5] is None:
        assert key not in rows
        return
    row = rows[key]
    actual = (row["value"], row["numerator"], row["denominator"], row["target"],
              row["achievement_pct"], row["status"])
    assert actual == expected


def test_row_counts_per_tenant(built: Warehouse) -> None:
    # periods: tenant 1 from 29 Feb KST (16 days, 3 weeks, 2 months) x 5 KPIs;
    # tenant 2 from 9 Mar (7 days, 2 weeks, 1 month) x 5; tenant 3 from 20 Feb (25 days,
    # 4 weeks, 2 months) x 4 (deployments disabled); tenant 9 from 12 Mar (4 days, 1 week,
    # 1 month) x 5
    counts = {
        r["tenant_id"]: r["n"]
        for r in built.query(
            "select tenant_id, count(*) as n from marts.fct_kpi_values group by tenant_id"
        )
    }
    assert counts == {1: 21 * 5, 2: 10 * 5, 3: 31 * 4, 9: 6 * 5}


def test_disabled_kpi_has_no_rows(built: Warehouse) -> None:
    rows = built.query(
        "select count(*) as n from marts.fct_kpi_values "
        "where tenant_id = 3 and kpi_name = 'DEPLOY_SUCCESS_RATE'"
    )
    assert rows[0]["n"] == 0


def test_is_complete_and_period_end(built: Warehouse) -> None:
    rows = fct(built)
    # end of 14 Mar KST = 15:00 UTC 14 Mar <= as_of; 15 Mar KST still running
    assert rows[(1, "MTTR", "DAILY", D("2024-03-14"))]["is_complete"] is True
    assert rows[(1, "MTTR", "DAILY", D("2024-03-15"))]["is_complete"] is False
    assert rows[(1, "MTTR", "MONTHLY", D("2024-02-01"))]["is_complete"] is True
    assert rows[(1, "MTTR", "MONTHLY", D("2024-03-01"))]["period_end"] == D("2024-04-01")
    assert rows[(2, "MTTR", "WEEKLY", D("2024-03-11"))]["period_end"] == D("2024-03-18")
    assert rows[(2, "MTTR", "WEEKLY", D("2024-03-11"))]["is_complete"] is False


def test_dst_day_is_23_hours(built: Warehouse) -> None:
    rows = built.query(
        "select period_start_at, period_end_at from intermediate.int_tenants__periods "
        "where tenant_id = 2 and grain = 'DAILY' and period_start = '2024-03-10'"
    )
    assert rows == [{"period_start_at": datetime(2024, 3, 10, 5), "period_end_at": datetime(2024, 3, 11, 4)}]


def test_request_lifecycle(built: Warehouse) -> None:
    rows = {
        r["sr_id"]: r
        for r in built.query("select * from intermediate.int_service_requests__lifecycle")
    }
    assert 109 not in rows  # created after as_of
    assert rows[104]["reopen_count"] == 1
    assert rows[105]["assignee_count"] == 1  # same person twice
    assert rows[106]["assignee_count"] == 2
    assert rows[103]["assignee_count"] == 0
    assert rows[301]["assignee_count"] == 1  # no events: the row's assignee
    assert rows[107]["on_hold_hours"] == 6.0
    assert rows[108]["on_hold_hours"] == 3.0
    assert rows[110]["is_resolved"] is False  # DONE only after as_of
    assert rows[203]["resolution_hours"] == 24.0  # across the DST change
    assert rows[301]["is_resolved"] is True and rows[301]["resolution_hours"] == 3.0
    assert rows[302]["is_resolved"] is False


SCORECARD = {
    # tenant 1: MTTR, FCR, SLA, deployments monthly (March KST), backlog daily (15 Mar KST)
    (1, "MTTR"): ("MONTHLY", D("2024-03-01"), 6.0, "RED", D("2024-02-01"), None, "NO_DATA"),
    (1, "FCR"): ("MONTHLY", D("2024-03-01"), 75.0, "YELLOW", D("2024-02-01"), None, "NO_DATA"),
    (1, "SLA_COMPLIANCE"): ("MONTHLY", D("2024-03-01"), 85.7, "YELLOW", D("2024-02-01"), None, "NO_DATA"),
    (1, "DEPLOY_SUCCESS_RATE"): ("MONTHLY", D("2024-03-01"), 50.0, "RED", D("2024-02-01"), None, "NO_DATA"),
    (1, "SR_BACKLOG"): ("DAILY", D("2024-03-15"), 2.0, "GREEN", D("2024-03-14"), 1.0, "GREEN"),
    (2, "MTTR"): ("MONTHLY", D("2024-03-01"), 12.5, "RED", None, None, None),
    (2, "FCR"): ("MONTHLY", D("2024-03-01"), 100.0, "GREEN", None, None, None),
    (2, "SLA_COMPLIANCE"): ("MONTHLY", D("2024-03-01"), 50.0, "RED", None, None, None),
    (2, "DEPLOY_SUCCESS_RATE"): ("MONTHLY", D("2024-03-01"), 100.0, "GREEN", None, None, None),
    (2, "SR_BACKLOG"): ("DAILY", D("2024-03-15"), 2.0, "GREEN", D("2024-03-14"), 2.0, "GREEN"),
    (3, "MTTR"): ("MONTHLY", D("2024-03-01"), 3.0, "RED", D("2024-02-01"), 3.0, "GREEN"),
    (3, "FCR"): ("MONTHLY", D("2024-03-01"), 100.0, "GREEN", D("2024-02-01"), 100.0, "GREEN"),
    (3, "SLA_COMPLIANCE"): ("MONTHLY", D("2024-03-01"), 100.0, "GREEN", D("2024-02-01"), 100.0, "GREEN"),
    (3, "SR_BACKLOG"): ("DAILY", D("2024-03-15"), 1.0, "GREEN", D("2024-03-14"), 1.0, "GREEN"),
    (9, "MTTR"): ("MONTHLY", D("2024-03-01"), None, "NO_DATA", None, None, None),
    (9, "FCR"): ("MONTHLY", D("2024-03-01"), None, "NO_DATA", None, None, None),
    (9, "SLA_COMPLIANCE"): ("MONTHLY", D("2024-03-01"), None, "NO_DATA", None, None, None),
    (9, "DEPLOY_SUCCESS_RATE"): ("MONTHLY", D("2024-03-01"), None, "NO_DATA", None, None, None),
    (9, "SR_BACKLOG"): ("DAILY", D("2024-03-15"), 1.0, "GREEN", D("2024-03-14"), 1.0, "GREEN"),
}


def test_scorecard(built: Warehouse) -> None:
    rows = {
        (r["tenant_id"], r["kpi_name"]): (
            r["grain"], r["period_start"], normalise(r["value"]), r["status"],
            r["previous_period_start"], normalise(r["previous_value"]), r["previous_status"],
        )
        for r in built.query("select * from marts.kpi_scorecard")
    }
    assert rows == SCORECARD


def test_tenant_status(built: Warehouse) -> None:
    rows = {
        r["tenant_id"]: (r["tenant_name"], r["green_count"], r["yellow_count"], r["red_count"],
                         r["no_data_count"], r["overall_status"])
        for r in built.query("select * from marts.tenant_kpi_status")
    }
    assert rows == {
        1: ("Seoul", 1, 2, 2, 0, "RED"),
        2: ("New York", 3, 0, 2, 0, "RED"),
        3: ("Utc Shop", 3, 0, 1, 0, "RED"),  # deployments disabled: 4 KPIs
        9: ("Tenant 9", 1, 0, 0, 4, "GREEN"),
    }


# -- alerts: the history of lights and its transitions after one build ------------------

def _history(built: Warehouse) -> list[dict]:
    return [{k: normalise(v) for k, v in r.items()}
            for r in built.query("select * from marts.kpi_status_history")]


def test_status_history_records_the_scorecard(built: Warehouse) -> None:
    history = _history(built)
    scorecard = {
        (r["tenant_id"], r["kpi_name"]): r
        for r in built.query("select * from marts.kpi_scorecard")
    }
    recorded = {(r["tenant_id"], r["kpi_name"]): r for r in history}
    assert len(history) == len(recorded) == len(scorecard) == len(SCORECARD)
    columns = ("grain", "period_start", "period_end", "status", "value", "target",
               "achievement_pct", "as_of")
    for key, row in scorecard.items():
        assert {c: recorded[key][c] for c in columns} == {c: normalise(row[c]) for c in columns}
    assert len({r["seen_at"] for r in history}) == 1  # one run, one seen_at


def test_status_transitions_are_first_sightings(built: Warehouse) -> None:
    # one build: every light is a first sighting; RED and YELLOW are alerts, GREEN and
    # NO_DATA are not (derived from SCORECARD, worked out by hand above)
    first_sighting = {"RED": "TURNED_RED", "YELLOW": "TURNED_YELLOW"}
    expected = {
        key: (grain, period_start, status, first_sighting.get(status))
        for key, (grain, period_start, _value, status, *_previous) in SCORECARD.items()
    }
    rows = built.query("select * from marts.kpi_status_transitions")
    actual = {
        (r["tenant_id"], r["kpi_name"]): (r["grain"], r["period_start"], r["status"],
                                          r["transition"])
        for r in rows
    }
    assert len(rows) == len(actual)
    assert actual == expected
    assert all(r["previous_status"] is None and r["previous_period_start"] is None
               for r in rows)


def test_status_history_survives_full_refresh_and_reruns(built: Warehouse) -> None:
    # last in the module: it runs dbt again on the module's warehouse (the history only,
    # then the history and its transitions), which must change nothing
    before = sorted(_history(built), key=lambda r: (r["tenant_id"], r["kpi_name"]))
    transitions = built.query("select count(*) as n from marts.kpi_status_transitions")
    built.dbt("run", "--select", "kpi_status_history", "--full-refresh",
              as_of=fixtures_hand.AS_OF)
    assert sorted(_history(built), key=lambda r: (r["tenant_id"], r["kpi_name"])) == before
    built.dbt("run", "--select", "kpi_status_history", "kpi_status_transitions",
              as_of=fixtures_hand.AS_OF)
    assert sorted(_history(built), key=lambda r: (r["tenant_id"], r["kpi_name"])) == before
    assert built.query("select count(*) as n from marts.kpi_status_transitions") == transitions
