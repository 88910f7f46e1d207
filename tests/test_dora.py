"""The DORA KPIs (README, DORA) on a hand-made data set, on DuckDB and PostgreSQL, against
values worked out by hand below. One warehouse per engine, built once, with the
attribution window set to 24 hours; as_of = Friday 2024-03-15 12:00 UTC.

Tenant 1 (UTC), services api and web:
  D101 production api  DEPLOYED     finished 03-04 10:00, commit 06:00 (4 h);
                        caused incidents 1001 and 1002 (explicit links): counted once
  D102 ' Prod ' web     DEPLOYED     finished 03-05 12:00, commit 03-04 12:00 (24 h);
                        fixes_sr_id 1001 (rework); tenant 2's incident 2001 links to it
  D103 production api  ROLLED_BACK  finished 03-06 09:00; caused incident 1003
  D104 staging api     DEPLOYED     finished 03-06 10:00: ignored; incident 1004 links to
                        it (stands: no production deployment caused 1004)
  D105 production api  DEPLOYED     finished 03-07 08:00, commit 09:00 (after: flagged,
                        left out of the lead time); incident 1005 (no link, api, created
                        exactly 24 h later) attributed by the window
  D106 production web  DEPLOYED     finished 03-08 00:00, no commit_at; incident 1006 (no
                        link, web, created 24 h and 1 s later): just outside the window;
                        fixes_sr_id 2001, another tenant's incident: not rework
  D107 production api  DEPLOYED     finished 03-12 10:00, commit 08:30 (1.5 h); incident
                        1008 (explicit) resolved at 09:00, before it finished: -1 h,
                        flagged and left out of the recovery time, D107 still failed
  D108 production api  FAILED (not counted); D109 DEPLOYED finished after as_of;
  D110 IN_PROGRESS; incident 1009 links to deployment 999, which does not exist (flagged)
Tenant 2 (America/New_York; DST starts Sunday 10 March, 02:00 local; its own row makes
'prod' not production):
  D201 production pay DEPLOYED finished 03-06 15:00 UTC, commit 13:00 (2 h)
  D202 PRODUCTION pay DEPLOYED finished 03-11 04:30 UTC = Mon 11 Mar 00:30 EDT (the week
       of 11 March; with the winter offset it would be Sunday, the DST week), commit
       03-10 04:30 (24 h)
  D203 production pay DEPLOYED finished 03-11 03:30 UTC = Sun 10 Mar 23:30 EDT (DST week)
  D204 prod pay DEPLOYED: not production for tenant 2
Tenant 3 (UTC): one staging deployment only: NO_DATA for the five KPIs.
Tenant 4 (UTC): D401 production web ROLLED_BACK finished 03-05 10:00 and D402 production
  db FAILED finished 03-06 10:00, nothing DEPLOYED: it has finished production
  deployments, so every period has a frequency, 0 (not NO_DATA); its change failure rate
  is 1 of 1 (D402 FAILED is not in it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from harness import ENGINES, Warehouse, normalise, ts

D = date.fromisoformat
AS_OF = "2024-03-15T12:00:00Z"
WINDOW = {"incident_attribution_window_hours": 24}
DORA_KPIS = ("DEPLOYMENT_FREQUENCY", "CHANGE_LEAD_TIME", "CHANGE_FAILURE_RATE",
             "FAILED_DEPLOYMENT_RECOVERY_TIME", "DEPLOYMENT_REWORK_RATE")

TENANTS_CSV = """tenant_id,tenant_name,timezone
1,Utc Shop,UTC
2,New York,America/New_York
3,Staging Only,UTC
4,Rolled Back,UTC
"""

ENVIRONMENTS_CSV = """tenant_id,environment,is_production
,production,true
,prod,true
2,prod,false
"""


def _dep(dep_id: int, tenant: int, service: str, environment: str, status: str,
         started: str, finished: str | None = None, commit: str | None = None,
         fixes: int | None = None) -> dict[str, Any]:
    return {"deployment_id": dep_id, "tenant_id": tenant, "service": service,
            "environment": environment, "status": status, "started_at": ts(started),
            "finished_at": ts(finished) if finished else None,
            "commit_at": ts(commit) if commit else None, "fixes_sr_id": fixes}


def _incident(sr_id: int, tenant: int, service: str, created: str, resolved: str | None,
              caused_by: int | None = None) -> dict[str, Any]:
    return {"sr_id": sr_id, "tenant_id": tenant, "request_type": "INCIDENT",
            "priority": "P2", "status": "DONE" if resolved else "OPEN", "service": service,
            "team": "ops", "assignee_id": 1, "created_at": ts(created),
            "updated_at": ts(resolved or created),
            "resolved_at": ts(resolved) if resolved else None,
            "caused_by_deployment_id": caused_by}


DEPLOYMENTS = [
    _dep(101, 1, "api", "production", "DEPLOYED", "2024-03-04 09:00", "2024-03-04 10:00",
         "2024-03-04 06:00"),
    _dep(102, 1, "web", " Prod ", "DEPLOYED", "2024-03-05 11:00", "2024-03-05 12:00",
         "2024-03-04 12:00", fixes=1001),
    _dep(103, 1, "api", "production", "ROLLED_BACK", "2024-03-06 08:00", "2024-03-06 09:00"),
    _dep(104, 1, "api", "staging", "DEPLOYED", "2024-03-06 09:30", "2024-03-06 10:00",
         "2024-03-06 08:00"),
    _dep(105, 1, "api", "production", "DEPLOYED", "2024-03-07 07:00", "2024-03-07 08:00",
         "2024-03-07 09:00"),
    _dep(106, 1, "web", "production", "DEPLOYED", "2024-03-07 23:00", "2024-03-08 00:00",
         fixes=2001),
    _dep(107, 1, "api", "production", "DEPLOYED", "2024-03-12 09:00", "2024-03-12 10:00",
         "2024-03-12 08:30"),
    _dep(108, 1, "api", "production", "FAILED", "2024-03-13 09:00", "2024-03-13 10:00"),
    _dep(109, 1, "api", "production", "DEPLOYED", "2024-03-15 11:30", "2024-03-15 13:00"),
    _dep(110, 1, "api", "production", "IN_PROGRESS", "2024-03-15 11:00"),
    _dep(201, 2, "pay", "production", "DEPLOYED", "2024-03-06 14:00", "2024-03-06 15:00",
         "2024-03-06 13:00"),
    _dep(202, 2, "pay", "PRODUCTION", "DEPLOYED", "2024-03-11 04:00", "2024-03-11 04:30",
         "2024-03-10 04:30"),
    _dep(203, 2, "pay", "production", "DEPLOYED", "2024-03-11 03:00", "2024-03-11 03:30"),
    _dep(204, 2, "pay", "prod", "DEPLOYED", "2024-03-07 10:00", "2024-03-07 11:00",
         "2024-03-07 09:00"),
    _dep(301, 3, "app", "staging", "DEPLOYED", "2024-03-01 10:00", "2024-03-01 11:00",
         "2024-03-01 09:00"),
    _dep(401, 4, "web", "production", "ROLLED_BACK", "2024-03-05 09:00", "2024-03-05 10:00",
         "2024-03-05 08:00"),
    _dep(402, 4, "db", "production", "FAILED", "2024-03-06 09:00", "2024-03-06 10:00"),
]

SERVICE_REQUESTS = [
    _incident(1001, 1, "api", "2024-03-04 11:00", "2024-03-04 14:00", caused_by=101),  # 4 h
    _incident(1002, 1, "api", "2024-03-04 12:00", "2024-03-05 10:00", caused_by=101),  # 24 h
    _incident(1003, 1, "api", "2024-03-06 09:30", "2024-03-06 11:00", caused_by=103),  # 2 h
    _incident(1004, 1, "api", "2024-03-06 10:30", "2024-03-06 12:00", caused_by=104),
    _incident(1005, 1, "api", "2024-03-08 08:00", "2024-03-08 18:00"),  # window: 34 h
    _incident(1006, 1, "web", "2024-03-09 00:00:01", "2024-03-09 02:00"),
    _incident(1008, 1, "api", "2024-03-12 08:00", "2024-03-12 09:00", caused_by=107),  # -1 h
    _incident(1009, 1, "api", "2024-03-13 08:00", "2024-03-13 09:00", caused_by=999),
    _incident(2001, 2, "pay", "2024-03-07 12:00", "2024-03-07 13:00", caused_by=102),
    _incident(3001, 3, "app", "2024-03-02 12:00", "2024-03-02 13:00", caused_by=301),
]

RAW = {"deployments": DEPLOYMENTS, "service_requests": SERVICE_REQUESTS, "sr_events": []}


@pytest.fixture(scope="module", params=ENGINES)
def dora(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One warehouse per engine with the set above built at AS_OF, window 24 hours; the
    shipped KPI definitions, targets and benchmarks."""
    warehouse = Warehouse(request.param, tmp_path_factory.mktemp(f"dora_{request.param}"))
    try:
        warehouse.write_file("seeds/tenants.csv", TENANTS_CSV)
        warehouse.write_file("seeds/deployment_environments.csv", ENVIRONMENTS_CSV)
        warehouse.load_raw(RAW)
        warehouse.build(AS_OF, variables=WINDOW)
        yield warehouse
    finally:
        warehouse.drop()


def facts(warehouse: Warehouse) -> dict[tuple, dict[str, Any]]:
    rows = warehouse.query(
        "select * from marts.fct_kpi_values where kpi_name in "
        f"({', '.join(repr(k) for k in DORA_KPIS)})")
    return {(r["tenant_id"], r["kpi_name"], r["grain"], r["period_start"]):
            {k: normalise(v) for k, v in r.items()} for r in rows}


# (tenant, kpi, grain, period_start): (value, numerator, denominator, achievement, status)
EXPECTED = {
    # tenant 1, March (as_of on the 15th at noon: days 1..15 have started, 15 days).
    # DEPLOYED production finished by as_of: 101, 102 (' Prod '), 105, 106, 107 = 5;
    # 7 x 5 / 15 = 2.333 -> 2.33; 2.33 / 5 = 46.6 % RED
    (1, "DEPLOYMENT_FREQUENCY", "MONTHLY", D("2024-03-01")): (2.33, 5.0, 15.0, 46.6, "RED"),
    # lead times 101 4 h, 102 24 h, 107 1.5 h (105 commit after finish, 106 no commit):
    # median 4.00 <= 24: GREEN
    (1, "CHANGE_LEAD_TIME", "MONTHLY", D("2024-03-01")): (4.0, None, 3.0, 100.0, "GREEN"),
    # DEPLOYED or ROLLED_BACK: 101, 102, 103, 105, 106, 107 = 6; failed: 101 (two
    # incidents, once), 103 (rolled back), 105 (window), 107 (negative recovery still
    # failed) = 4; 66.666 -> 66.7 > 18: RED, 15 / 66.7 = 22.49 -> 22.5
    (1, "CHANGE_FAILURE_RATE", "MONTHLY", D("2024-03-01")): (66.7, 4.0, 6.0, 22.5, "RED"),
    # recoveries: 1001 4 h, 1002 24 h, 1003 2 h, 1005 34 h (08:00 on the 7th to 18:00 on
    # the 8th); 1008 negative, left out: median of 2, 4, 24, 34 = 14.00
    (1, "FAILED_DEPLOYMENT_RECOVERY_TIME", "MONTHLY", D("2024-03-01")):
        (14.0, None, 4.0, 100.0, "GREEN"),
    # DEPLOYED: 5; 102 fixes incident 1001 (tenant 1); 106 fixes tenant 2's 2001: not
    # rework. 1 / 5 = 20.0 > 12: RED, 10 / 20 = 50.0
    (1, "DEPLOYMENT_REWORK_RATE", "MONTHLY", D("2024-03-01")): (20.0, 1.0, 5.0, 50.0, "RED"),
    # week of 4 March: 101, 102, 105, 106 over 7 days = 4.00
    (1, "DEPLOYMENT_FREQUENCY", "WEEKLY", D("2024-03-04")): (4.0, 4.0, 7.0, 80.0, "YELLOW"),
    # week of 11 March to date: Mon..Fri = 5 days, 107: 7 x 1 / 5 = 1.40
    (1, "DEPLOYMENT_FREQUENCY", "WEEKLY", D("2024-03-11")): (1.4, 1.0, 5.0, 28.0, "RED"),
    # week of 4 March: 101, 102, 103, 105, 106; failed 101, 103, 105: 60.0
    (1, "CHANGE_FAILURE_RATE", "WEEKLY", D("2024-03-04")): (60.0, 3.0, 5.0, 25.0, "RED"),
    (1, "CHANGE_LEAD_TIME", "WEEKLY", D("2024-03-04")): (14.0, None, 2.0, 100.0, "GREEN"),
    # a day without deployment has a value, 0; the current day has started: 1 day
    (1, "DEPLOYMENT_FREQUENCY", "DAILY", D("2024-03-09")): (0.0, 0.0, 1.0, 0.0, "RED"),
    (1, "DEPLOYMENT_FREQUENCY", "DAILY", D("2024-03-15")): (0.0, 0.0, 1.0, 0.0, "RED"),
    (1, "DEPLOYMENT_FREQUENCY", "DAILY", D("2024-03-04")): (7.0, 1.0, 1.0, 140.0, "GREEN"),
    # tenant 2, New York. March: 201, 202, 203 (204 is 'prod': not production for
    # tenant 2); days 1..15 started before 08:00 EDT on the 15th: 7 x 3 / 15 = 1.40
    (2, "DEPLOYMENT_FREQUENCY", "MONTHLY", D("2024-03-01")): (1.4, 3.0, 15.0, 28.0, "RED"),
    # the DST week (4..10 March local, 167 hours): 201 and 203 (23:30 EDT on Sunday)
    (2, "DEPLOYMENT_FREQUENCY", "WEEKLY", D("2024-03-04")): (2.0, 2.0, 7.0, 40.0, "RED"),
    # week of 11 March: 202 (00:30 EDT Monday); Mon..Fri started: 7 x 1 / 5
    (2, "DEPLOYMENT_FREQUENCY", "WEEKLY", D("2024-03-11")): (1.4, 1.0, 5.0, 28.0, "RED"),
    # 201 2 h, 202 24 h (203 no commit): median 13.00
    (2, "CHANGE_LEAD_TIME", "MONTHLY", D("2024-03-01")): (13.0, None, 2.0, 100.0, "GREEN"),
    # incident 2001 links to tenant 1's deployment: no production deployment of tenant 2
    # caused it, and it does not make tenant 1's 102 failed
    (2, "CHANGE_FAILURE_RATE", "MONTHLY", D("2024-03-01")): (0.0, 0.0, 3.0, 100.0, "GREEN"),
    (2, "FAILED_DEPLOYMENT_RECOVERY_TIME", "MONTHLY", D("2024-03-01")):
        (None, None, 0.0, None, "NO_DATA"),
    (2, "DEPLOYMENT_REWORK_RATE", "MONTHLY", D("2024-03-01")): (0.0, 0.0, 3.0, 100.0, "GREEN"),
    # tenant 3: no production deployment by as_of: no value for any of the five
    (3, "DEPLOYMENT_FREQUENCY", "MONTHLY", D("2024-03-01")): (None, 0.0, 0.0, None, "NO_DATA"),
    (3, "DEPLOYMENT_FREQUENCY", "DAILY", D("2024-03-01")): (None, 0.0, 0.0, None, "NO_DATA"),
    (3, "CHANGE_LEAD_TIME", "MONTHLY", D("2024-03-01")): (None, None, 0.0, None, "NO_DATA"),
    (3, "CHANGE_FAILURE_RATE", "MONTHLY", D("2024-03-01")): (None, 0.0, 0.0, None, "NO_DATA"),
    (3, "FAILED_DEPLOYMENT_RECOVERY_TIME", "MONTHLY", D("2024-03-01")):
        (None, None, 0.0, None, "NO_DATA"),
    (3, "DEPLOYMENT_REWORK_RATE", "MONTHLY", D("2024-03-01")): (None, 0.0, 0.0, None, "NO_DATA"),
    # tenant 4: finished production deployments, none DEPLOYED: a frequency of 0 in every
    # period (0 / 5 = 0.0 % RED), over the days started (15 in March, 7 in a whole week)
    (4, "DEPLOYMENT_FREQUENCY", "MONTHLY", D("2024-03-01")): (0.0, 0.0, 15.0, 0.0, "RED"),
    (4, "DEPLOYMENT_FREQUENCY", "WEEKLY", D("2024-03-04")): (0.0, 0.0, 7.0, 0.0, "RED"),
    (4, "DEPLOYMENT_FREQUENCY", "DAILY", D("2024-03-05")): (0.0, 0.0, 1.0, 0.0, "RED"),
    # D401 rolled back, 1 of 1 (D402 FAILED is neither DEPLOYED nor ROLLED_BACK): 100.0,
    # 15 / 100 = 15.0 % RED
    (4, "CHANGE_FAILURE_RATE", "MONTHLY", D("2024-03-01")): (100.0, 1.0, 1.0, 15.0, "RED"),
    # nothing DEPLOYED: no lead time, no rework rate
    (4, "CHANGE_LEAD_TIME", "MONTHLY", D("2024-03-01")): (None, None, 0.0, None, "NO_DATA"),
    (4, "DEPLOYMENT_REWORK_RATE", "MONTHLY", D("2024-03-01")): (None, 0.0, 0.0, None, "NO_DATA"),
}


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}-{k[1]}-{k[2]}-{k[3]}")
def test_values_by_hand(dora: Warehouse, key: tuple) -> None:
    found = facts(dora)
    assert key in found
    row = found[key]
    value, numerator, denominator, achievement, status = EXPECTED[key]
    assert (row["value"], row["numerator"], row["denominator"], row["achievement_pct"],
            row["status"]) == (value, numerator, denominator, achievement, status)


def test_every_period_of_a_deploying_tenant_has_a_frequency(dora: Warehouse) -> None:
    rows = dora.query("select tenant_id, grain, value from marts.fct_kpi_values "
                      "where kpi_name = 'DEPLOYMENT_FREQUENCY'")
    assert rows
    for row in rows:
        if row["tenant_id"] == 3:
            assert row["value"] is None
        else:
            assert row["value"] is not None, row


def test_service_breakdowns(dora: Warehouse) -> None:
    rows = dora.query(
        "select kpi_name, breakdown, breakdown_value, value, numerator, denominator "
        "from marts.fct_kpi_breakdowns where tenant_id = 1 and grain = 'MONTHLY' "
        "and period_start = date '2024-03-01' and kpi_name in "
        f"({', '.join(repr(k) for k in DORA_KPIS)})")
    found = {(r["kpi_name"], r["breakdown"], r["breakdown_value"]):
             (normalise(r["value"]), normalise(r["numerator"]), normalise(r["denominator"]))
             for r in rows}
    assert found == {
        # a service keeps the tenant's 15 days; the numerators add up to 5
        ("DEPLOYMENT_FREQUENCY", "SERVICE", "api"): (1.4, 3.0, 15.0),    # 101, 105, 107
        ("DEPLOYMENT_FREQUENCY", "SERVICE", "web"): (0.93, 2.0, 15.0),   # 102, 106
        ("CHANGE_LEAD_TIME", "SERVICE", "api"): (2.75, None, 2.0),       # 4, 1.5
        ("CHANGE_LEAD_TIME", "SERVICE", "web"): (24.0, None, 1.0),       # 102
        ("CHANGE_FAILURE_RATE", "SERVICE", "api"): (100.0, 4.0, 4.0),    # 101, 103, 105, 107
        ("CHANGE_FAILURE_RATE", "SERVICE", "web"): (0.0, 0.0, 2.0),      # 102, 106
        # the causing deployments' service: all four recoveries are api's
        ("FAILED_DEPLOYMENT_RECOVERY_TIME", "SERVICE", "api"): (14.0, None, 4.0),
        ("DEPLOYMENT_REWORK_RATE", "SERVICE", "api"): (0.0, 0.0, 3.0),
        ("DEPLOYMENT_REWORK_RATE", "SERVICE", "web"): (50.0, 1.0, 2.0),
    }


def test_flags(dora: Warehouse) -> None:
    rows = dora.query("select source_table, raw_key, tenant_id, flag_reason "
                      "from marts.flagged_raw_rows")
    assert sorted((r["source_table"], r["raw_key"], r["tenant_id"], r["flag_reason"])
                  for r in rows) == [
        ("deployments", "105", 1, "COMMIT_AFTER_FINISHED"),
        ("service_requests", "1008", 1, "NEGATIVE_RECOVERY_TIME"),
        ("service_requests", "1009", 1, "CAUSING_DEPLOYMENT_NOT_FOUND"),
    ]
    quality = {r["source_table"]: r["flagged_rows"] for r in dora.query(
        "select source_table, flagged_rows from marts.raw_data_quality")}
    assert quality == {"deployments": 1, "service_requests": 2, "sr_events": 0}


ATTRIBUTION = {
    1001: ("EXPLICIT", 101), 1002: ("EXPLICIT", 101), 1003: ("EXPLICIT", 103),
    1004: ("NOT_PRODUCTION", None),   # a staging deployment: stands, not re-attributed
    1005: ("WINDOW", 105),            # exactly 24 h after 105 finished
    # 1006: 24 h and 1 s after 106: no row
    1008: ("EXPLICIT", 107), 1009: ("NOT_FOUND", None),
    2001: ("NOT_PRODUCTION", None),   # tenant 1's deployment
    3001: ("NOT_PRODUCTION", None),   # staging
}


def test_attribution_with_the_window(dora: Warehouse) -> None:
    rows = dora.query("select sr_id, attribution, deployment_id "
                      "from intermediate.int_incidents__deployment_attribution")
    assert {r["sr_id"]: (r["attribution"], r["deployment_id"]) for r in rows} == ATTRIBUTION


def test_attribution_without_the_window(dora: Warehouse) -> None:
    # the default (null): explicit links only; dbt show writes nothing
    result = dora.dbt("show", "--select", "int_incidents__deployment_attribution",
                      "--limit", "-1", as_of=AS_OF)
    table = result.result.results[0].agate_table
    found = {int(row["sr_id"]): (row["attribution"],
                                 None if row["deployment_id"] is None else int(row["deployment_id"]))
             for row in table.rows}
    assert found == {k: v for k, v in ATTRIBUTION.items() if v[0] != "WINDOW"}


# (tenant, grain, period_start, service): values and levels (DORA_2023)
SCORECARD = {
    # 2.33 >= 1: HIGH; 4.00 <= 24: ELITE; 66.7 > 15: LOW; 14.00 <= 24: HIGH; worst LOW
    (1, "MONTHLY", D("2024-03-01"), None): (
        2.33, 4.0, 66.7, 14.0, 20.0, "HIGH", "ELITE", "LOW", "HIGH", "LOW"),
    # 1.40 HIGH, 2.75 ELITE, 100.0 LOW, 14.00 HIGH
    (1, "MONTHLY", D("2024-03-01"), "api"): (
        1.4, 2.75, 100.0, 14.0, 0.0, "HIGH", "ELITE", "LOW", "HIGH", "LOW"),
    # 0.93 >= 0.23: MEDIUM; 24.00 <= 24: ELITE (at the threshold); 0.0 ELITE; no recovery
    (1, "MONTHLY", D("2024-03-01"), "web"): (
        0.93, 24.0, 0.0, None, 50.0, "MEDIUM", "ELITE", "ELITE", None, "MEDIUM"),
    # 1.40 HIGH, 13.00 ELITE, 0.0 ELITE, no recovery: worst of the three present HIGH
    (2, "MONTHLY", D("2024-03-01"), None): (
        1.4, 13.0, 0.0, None, 0.0, "HIGH", "ELITE", "ELITE", None, "HIGH"),
    (2, "WEEKLY", D("2024-03-04"), None): (
        2.0, 2.0, 0.0, None, 0.0, "HIGH", "ELITE", "ELITE", None, "HIGH"),
    # no value, no level
    (3, "MONTHLY", D("2024-03-01"), None): (
        None, None, None, None, None, None, None, None, None, None),
    # 0.00 a week: LOW (the catch-all); 100.0 LOW; worst LOW
    (4, "MONTHLY", D("2024-03-01"), None): (
        0.0, None, 100.0, None, None, "LOW", None, "LOW", None, "LOW"),
    # web: D401's failure rate; no frequency row (nothing DEPLOYED); db (D402 FAILED) has
    # a measurement in none of the rates: no row
    (4, "MONTHLY", D("2024-03-01"), "web"): (
        None, None, 100.0, None, None, None, None, "LOW", None, "LOW"),
}


def test_dora_scorecard(dora: Warehouse) -> None:
    rows = dora.query("select * from marts.dora_scorecard")
    found = {(r["tenant_id"], r["grain"], r["period_start"], r["service"]): r for r in rows}
    for key, expected in SCORECARD.items():
        row = found[key]
        assert tuple(normalise(row[c]) for c in (
            "deployment_frequency", "change_lead_time_hours", "change_failure_rate_pct",
            "failed_deployment_recovery_time_hours", "deployment_rework_rate_pct",
            "deployment_frequency_level", "change_lead_time_level", "change_failure_rate_level",
            "failed_deployment_recovery_time_level", "overall_level")) == expected, key
    # services of tenant 1's March: api and web only (no staging-only service, no
    # environment); tenant 3 has no service rows
    assert sorted(s for (t, g, p, s) in found if t == 1 and g == "MONTHLY"
                  and p == D("2024-03-01") and s is not None) == ["api", "web"]
    assert not [k for k in found if k[0] == 3 and k[3] is not None]
    # web's rows: weekly and monthly, the grains of the breakdowns (no DAILY, as shipped)
    assert sorted(g for (t, g, p, s) in found if t == 4 and s is not None) == ["MONTHLY", "WEEKLY"]
    march = found[(1, "MONTHLY", D("2024-03-01"), None)]
    assert (march["period_end"], march["is_complete"]) == (D("2024-04-01"), False)
    assert found[(2, "WEEKLY", D("2024-03-04"), None)]["is_complete"] is True


def test_other_benchmark_set(dora: Warehouse) -> None:
    # DORA_2021: change failure rate 66.7 > 30: LOW; lead time 4 h:
    # 2021's elite is under 1 h, so HIGH (<= 168)
    dora.dbt("run", "--select", "dora_scorecard", as_of=AS_OF,
             variables={**WINDOW, "dora_benchmark_set": "DORA_2021"})
    try:
        row = dora.query("select change_lead_time_level, change_failure_rate_level, "
                         "deployment_frequency_level from marts.dora_scorecard "
                         "where tenant_id = 1 and grain = 'MONTHLY' "
                         "and period_start = date '2024-03-01' and service is null")[0]
        # 2.33 a week: 2021's elite is 7, high 0.23
        assert (row["change_lead_time_level"], row["change_failure_rate_level"],
                row["deployment_frequency_level"]) == ("HIGH", "LOW", "HIGH")
    finally:
        dora.dbt("run", "--select", "dora_scorecard", as_of=AS_OF, variables=WINDOW)


def test_dim_kpi_says_how_the_dora_kpis_count(dora: Warehouse) -> None:
    rows = {r["kpi_name"]: (r["aggregation"], r["denominator_basis"], r["breakdowns"])
            for r in dora.query("select * from marts.dim_kpi")}
    # the definitions: two ratios over measurements, one over elapsed days, two
    # medians; all five break down by SERVICE only
    assert {k: rows[k] for k in DORA_KPIS} == {
        "DEPLOYMENT_FREQUENCY": ("RATIO", "ELAPSED_DAYS", "SERVICE"),
        "CHANGE_LEAD_TIME": ("PERCENTILE", None, "SERVICE"),
        "CHANGE_FAILURE_RATE": ("RATIO", "MEASUREMENTS", "SERVICE"),
        "FAILED_DEPLOYMENT_RECOVERY_TIME": ("PERCENTILE", None, "SERVICE"),
        "DEPLOYMENT_REWORK_RATE": ("RATIO", "MEASUREMENTS", "SERVICE"),
    }
    # a KPI of the web app: a ratio over its measurements, every breakdown of a request
    assert rows["FCR"] == ("RATIO", "MEASUREMENTS", None)


def test_raw_table_without_fixes_sr_id(dora: Warehouse) -> None:
    """A loader's raw table without the optional column: staging reads it as null. Runs
    last in the module: it changes the raw table and rebuilds the deployments' models."""
    cascade = " cascade" if dora.engine == "postgres" else ""
    if dora.engine == "duckdb":
        # DuckDB refuses to drop a column a view depends on: drop the staging view first
        dora.execute("drop view if exists staging.stg_itsm__deployments")
    dora.execute(f"alter table raw.deployments drop column fixes_sr_id{cascade}")
    dora.dbt("run", "--select", "stg_itsm__deployments", "int_deployments__validated",
             "int_deployments__accepted", "int_deployments__production",
             "int_kpi__deployment_rework_rate", as_of=AS_OF, variables=WINDOW)
    staged = dora.query("select count(*) as n, count(fixes_sr_id) as with_fix "
                        "from staging.stg_itsm__deployments")[0]
    assert (staged["n"], staged["with_fix"]) == (len(DEPLOYMENTS), 0)
    rework = dora.query("select tenant_id, sum(numerator) as reworked, count(*) as deployed "
                        "from intermediate.int_kpi__deployment_rework_rate group by tenant_id")
    assert {r["tenant_id"]: (normalise(r["reworked"]), r["deployed"]) for r in rework} == {
        1: (0.0, 5), 2: (0.0, 3)}
