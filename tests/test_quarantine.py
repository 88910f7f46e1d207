"""Bad raw rows are quarantined with a reason code, never crash the build and never
change the KPIs of the good rows; per raw table, raw = accepted + rejected.

Each bad row below is written by hand with the reason it must get. The KPI marts built
over clean data plus the bad rows must equal the marts built over the clean data alone
(the hand fixture, whose values test_kpis_by_hand.py checks).
"""

from __future__ import annotations

import copy

import fixtures_hand
import pytest
from harness import RAW_COLUMNS, Warehouse, normalise, ts

COMPARED = ("tenant_id", "kpi_name", "grain", "period_start", "numerator", "denominator",
            "value", "target", "achievement_pct", "status")

# rows of the clean fixture that are themselves rejected: request 109 is created 12 hours
# after as_of (beyond the 1-hour tolerance), and so are its two events
FIXTURE_REJECTIONS = {
    ("service_requests", "109", "CREATED_IN_FUTURE"),
    ("sr_events", str(next(e["event_id"] for e in fixtures_hand.SR_EVENTS
                           if e["sr_id"] == 109 and e["new_status"] == "OPEN")),
     "EVENT_IN_FUTURE"),
    ("sr_events", str(next(e["event_id"] for e in fixtures_hand.SR_EVENTS
                           if e["sr_id"] == 109 and e["new_status"] == "DONE")),
     "EVENT_IN_FUTURE"),
}

# tenant 5's timezone is not a timezone (and tries an injection: seed values are data,
# read as a column, never spliced into SQL)
TENANTS_WITH_BAD_TIMEZONE = (fixtures_hand.TENANTS_CSV
                             + "5,Mars,UTC'; drop table raw.sr_events; --\n")


def _sr(sr_id, tenant=1, rtype="INCIDENT", prio="P2", status="OPEN",
        created="2024-03-12 00:00", resolved=None, updated=None):
    return {
        "sr_id": sr_id, "tenant_id": tenant, "request_type": rtype, "priority": prio,
        "status": status, "service": "svc", "team": "team", "assignee_id": None,
        "created_at": ts(created) if created else None,
        "updated_at": ts(updated or created or "2024-03-12 00:00"),
        "resolved_at": ts(resolved) if resolved else None, "caused_by_deployment_id": None,
    }


def _event(event_id, sr_id=101, tenant=1, at="2024-03-05 01:00", etype="STATUS",
           status="IN_PROGRESS", assignee=None):
    return {"event_id": event_id, "sr_id": sr_id, "tenant_id": tenant,
            "event_at": ts(at) if at else None, "event_type": etype, "new_status": status,
            "new_assignee_id": assignee}


def _dep(dep_id, tenant=1, status="DEPLOYED", started="2024-03-06 00:00",
         finished="2024-03-06 00:30"):
    return {"deployment_id": dep_id, "tenant_id": tenant, "service": "svc",
            "environment": "production", "status": status,
            "started_at": ts(started) if started else None,
            "finished_at": ts(finished) if finished else None, "commit_at": None}


# (row, raw key as text, reason) per table; as_of is 2024-03-15 12:00 UTC
BAD_REQUESTS = [
    (_sr(None), None, "KEY_MISSING"),
    (_sr(501, tenant=None), "501", "TENANT_MISSING"),
    (_sr(502, tenant=5), "502", "TENANT_TIMEZONE_INVALID"),
    (_sr(503, rtype="PROBLEM"), "503", "UNKNOWN_REQUEST_TYPE"),
    (_sr(504, prio="P9"), "504", "UNKNOWN_PRIORITY"),
    (_sr(505, status="WAITING"), "505", "UNKNOWN_STATUS"),
    (_sr(506, created=None), "506", "CREATED_AT_MISSING"),
    (_sr(507, created="2024-03-15 13:30"), "507", "CREATED_IN_FUTURE"),
    (_sr(508, status="DONE", created="2024-03-12 10:00", resolved="2024-03-12 09:00"),
     "508", "RESOLVED_BEFORE_CREATED"),
    # an older version of request 101 (the clean row, updated later, is kept)
    (_sr(101, status="OPEN", created="2024-03-04 23:30", updated="2024-03-04 23:31"),
     "101", "DUPLICATE_KEY"),
]
BAD_EVENTS = [
    (_event(None), None, "KEY_MISSING"),
    (_event(9001, sr_id=None), "9001", "REQUEST_MISSING"),
    (_event(9002, tenant=None), "9002", "TENANT_MISSING"),
    (_event(9003, etype="COMMENT", status=None), "9003", "UNKNOWN_EVENT_TYPE"),
    (_event(9004, status=None), "9004", "STATUS_MISSING"),
    (_event(9005, status="PAUSED"), "9005", "UNKNOWN_STATUS"),
    (_event(9006, etype="ASSIGNMENT", status=None), "9006", "ASSIGNEE_MISSING"),
    (_event(9007, at=None), "9007", "EVENT_AT_MISSING"),
    (_event(9008, at="2024-03-15 14:00"), "9008", "EVENT_IN_FUTURE"),
    (_event(9009, sr_id=999), "9009", "UNKNOWN_REQUEST"),
    (_event(9010, sr_id=501), "9010", "REQUEST_REJECTED"),
    (_event(9011, tenant=2), "9011", "TENANT_MISMATCH"),
    (_event(9012, at="2024-03-04 20:00"), "9012", "EVENT_BEFORE_CREATION"),
    (_event(9013, sr_id=502, tenant=5), "9013", "TENANT_TIMEZONE_INVALID"),
    # an exact copy of the first event of the fixture (delivered twice)
    (dict(fixtures_hand.SR_EVENTS[0]), str(fixtures_hand.SR_EVENTS[0]["event_id"]),
     "DUPLICATE_KEY"),
]
BAD_DEPLOYMENTS = [
    (_dep(None), None, "KEY_MISSING"),
    (_dep(81, tenant=None), "81", "TENANT_MISSING"),
    (_dep(82, tenant=5), "82", "TENANT_TIMEZONE_INVALID"),
    (_dep(83, status="EXPLODED"), "83", "UNKNOWN_STATUS"),
    (_dep(84, started=None), "84", "STARTED_AT_MISSING"),
    (_dep(85, started="2024-03-16 00:00", finished=None, status="IN_PROGRESS"), "85",
     "STARTED_IN_FUTURE"),
    (_dep(86, started="2024-03-06 00:00", finished="2024-03-05 23:00"), "86",
     "FINISHED_BEFORE_STARTED"),
    (_dep(87, status="FAILED", finished=None), "87", "FINISHED_AT_MISSING"),
    # a running copy of deployment 11 (the finished row is kept)
    (_dep(11, status="IN_PROGRESS", started="2024-03-05 00:00", finished=None), "11",
     "DUPLICATE_KEY"),
]
BAD = {"service_requests": BAD_REQUESTS, "sr_events": BAD_EVENTS,
       "deployments": BAD_DEPLOYMENTS}


def with_normalisation_noise(raw: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The clean fixture with codes written in other cases and with spaces: request 105
    (' service_request ', 'p4', ' done') and its DONE event (' Done'), deployment 12
    ('failed '). They must be read exactly as the clean rows."""
    raw = copy.deepcopy(raw)
    for row in raw["service_requests"]:
        if row["sr_id"] == 105:
            row.update(request_type=" service_request ", priority="p4", status=" done")
    for row in raw["sr_events"]:
        if row["sr_id"] == 105 and row["new_status"] == "DONE":
            row["new_status"] = " Done"
    for row in raw["deployments"]:
        if row["deployment_id"] == 12:
            row["status"] = "failed "
    return raw


def with_resolved_at_mismatch(raw: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Request 102's row says resolved at 16:00; its history says 15:30 (which wins)."""
    for row in raw["service_requests"]:
        if row["sr_id"] == 102:
            row["resolved_at"] = ts("2024-03-10 16:00")
    return raw


def bad_raw() -> dict[str, list[dict]]:
    raw = with_resolved_at_mismatch(with_normalisation_noise(fixtures_hand.RAW))
    for table, rows in BAD.items():
        raw[table] = raw[table] + [copy.deepcopy(row) for row, _, _ in rows]
    return raw


def kpi_facts(warehouse: Warehouse) -> dict[tuple, tuple]:
    rows = warehouse.query(f"select {', '.join(COMPARED)} from marts.fct_kpi_values")
    return {tuple(normalise(r[c]) for c in COMPARED[:4]):
            tuple(normalise(r[c]) for c in COMPARED[4:]) for r in rows}


def rejections(warehouse: Warehouse) -> set[tuple]:
    return {(r["source_table"], r["raw_key"], r["rejection_reason"])
            for r in warehouse.query("select * from marts.rejected_raw_rows")}


def build_clean(warehouse: Warehouse) -> dict[tuple, tuple]:
    fixtures_hand.install_and_build(warehouse)
    return kpi_facts(warehouse)


def test_bad_rows_are_quarantined_and_change_no_kpi(warehouse: Warehouse) -> None:
    clean = build_clean(warehouse)
    assert rejections(warehouse) == FIXTURE_REJECTIONS
    assert warehouse.query("select * from marts.flagged_raw_rows") == []

    warehouse.write_file("seeds/tenants.csv", TENANTS_WITH_BAD_TIMEZONE)
    raw = bad_raw()
    warehouse.load_raw(raw)
    result = warehouse.build(fixtures_hand.AS_OF)
    # the unknown timezone is a loud seed warning, not a failed build
    warned = {r.node.name for r in result.result.results if str(r.status) == "warn"}
    assert "assert_tenant_timezones_are_known" in warned

    expected = FIXTURE_REJECTIONS | {
        (table, key, reason) for table, rows in BAD.items() for _, key, reason in rows
    }
    assert rejections(warehouse) == expected
    # 24 distinct reason codes are exercised here (the other 6 need text raw columns)
    assert len({reason for _, _, reason in expected}) == 24

    # the KPIs of the good rows are exactly those of the clean build: bad rows are out,
    # the normalised codes are read as the clean ones, the history beats resolved_at
    assert kpi_facts(warehouse) == clean

    # nothing is lost: per table, raw = accepted + rejected, with counts worked out here
    quality = {r["source_table"]: r for r in warehouse.query("select * from marts.raw_data_quality")}
    for table, rows in raw.items():
        rejected = sum(1 for t, _, _ in expected if t == table)
        assert quality[table]["raw_rows"] == len(rows)
        assert quality[table]["rejected_rows"] == rejected
        assert quality[table]["accepted_rows"] == len(rows) - rejected
        assert normalise(quality[table]["rejection_rate_pct"]) == normalise(
            100.0 * rejected / len(rows))

    # the rejected row keeps its raw values, readable
    detail = warehouse.query(
        "select rejection_detail, raw_values from marts.rejected_raw_rows "
        "where source_table = 'service_requests' and raw_key = '505'")
    assert detail == [{
        "rejection_detail": "status WAITING is not OPEN, IN_PROGRESS, ON_HOLD, DONE or CANCELLED",
        "raw_values": detail[0]["raw_values"],
    }]
    assert '"status":"WAITING"' in detail[0]["raw_values"]
    assert '"assignee_id":null' in detail[0]["raw_values"]

    # the disagreeing resolved_at is flagged, not rejected
    flags = warehouse.query("select source_table, raw_key, flag_reason from marts.flagged_raw_rows")
    assert flags == [{"source_table": "service_requests", "raw_key": "102",
                      "flag_reason": "RESOLVED_AT_MISMATCH"}]


def test_rejection_rate_warns_past_the_threshold(warehouse: Warehouse) -> None:
    """Each raw table has its own rejection-rate test (a Dagster asset check): with the
    bad rows, every table is far above 1 % (deployments: 9 of 17 rejected); with a 60 % threshold none warns."""
    fixtures_hand.install(warehouse)
    warehouse.write_file("seeds/tenants.csv", TENANTS_WITH_BAD_TIMEZONE)
    warehouse.load_raw(bad_raw())
    selection = ("--select", "+raw_data_quality")
    result = warehouse.build(fixtures_hand.AS_OF, *selection)
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    for table in ("service_requests", "sr_events", "deployments"):
        assert statuses[f"rejection_rate_{table}"] == "warn"
    assert statuses["assert_raw_rows_reconcile"] == "pass"

    result = warehouse.build(fixtures_hand.AS_OF, *selection,
                             variables={"rejection_rate_warn_pct": 60})
    statuses = {r.node.name: str(r.status) for r in result.result.results}
    for table in ("service_requests", "sr_events", "deployments"):
        assert statuses[f"rejection_rate_{table}"] == "pass"


def test_reconciliation_fails_the_build_when_a_row_is_lost(warehouse: Warehouse) -> None:
    """The reconciliation test can fail: a quarantine that drops a reason breaks it."""
    fixtures_hand.install(warehouse)
    warehouse.load_raw(bad_raw())
    model = warehouse.project_dir / "models/marts/quality/rejected_raw_rows.sql"
    model.write_text(model.read_text().replace(
        "    where rejection_reason is not null\n),\n\nevents",
        "    where rejection_reason is not null and rejection_reason <> 'KEY_MISSING'\n),\n\nevents",
    ))
    result = warehouse.dbt("build", "--select", "+raw_data_quality", as_of=fixtures_hand.AS_OF,
                           expect_success=False)
    assert not result.success
    failed = {r.node.name: r.failures for r in result.result.results if str(r.status) == "fail"}
    assert failed == {"assert_raw_rows_reconcile": 1}


def test_first_seen_is_kept_and_fixed_rows_leave(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    raw = bad_raw()
    warehouse.load_raw(raw)
    warehouse.build(fixtures_hand.AS_OF, "--select", "+raw_data_quality", data_tests=False)
    # a day later: request 505 was fixed in the application, a new bad row arrived
    for row in raw["service_requests"]:
        if row["sr_id"] == 505:
            row["status"] = "OPEN"
    raw["service_requests"].append(_sr(509, prio=None))
    warehouse.load_raw(raw)
    later = "2024-03-16T12:00:00Z"
    warehouse.build(later, "--select", "+raw_data_quality", data_tests=False)
    seen = {(r["raw_key"], r["rejection_reason"]): normalise(r["first_seen_at"])
            for r in warehouse.query("select * from marts.rejected_raw_rows "
                                     "where source_table = 'service_requests'")}
    assert ("505", "UNKNOWN_STATUS") not in seen
    assert seen[("509", "UNKNOWN_PRIORITY")] == ts("2024-03-16 12:00")
    assert seen[("504", "UNKNOWN_PRIORITY")] == ts("2024-03-15 12:00")
    # 507 (created 13:30 on 15 March) is no longer in the future on 16 March
    assert ("507", "CREATED_IN_FUTURE") not in seen


TEXT_DDL = {table: "(" + ", ".join(f"{c} text" for c in columns) + ")"
            for table, columns in RAW_COLUMNS.items()}


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return f" {value} " if isinstance(value, int) else str(value)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_text_raw_tables_are_parsed_safely(warehouse: Warehouse) -> None:
    """Raw tables loaded as text (what EL tools often do): keys with spaces and ISO
    timestamps parse to the same KPIs; what does not parse is rejected, never a crash."""
    clean = build_clean(warehouse)
    raw = {table: [{c: as_text(v) for c, v in row.items()} for row in rows]
           for table, rows in fixtures_hand.RAW.items()}
    raw["service_requests"] += [
        {**raw["service_requests"][0], "sr_id": "SR-7"},
        {**raw["service_requests"][0], "sr_id": "701", "tenant_id": "one"},
        {**raw["service_requests"][0], "sr_id": "702", "created_at": "2024-02-30 10:00:00"},
        {**raw["service_requests"][0], "sr_id": "703", "resolved_at": "yesterday"},
    ]
    raw["sr_events"] += [
        {**raw["sr_events"][0], "event_id": "9101", "sr_id": "1e3"},
        {**raw["sr_events"][0], "event_id": "9102", "event_at": "2024-03-05T25:00:00"},
    ]
    raw["deployments"] += [{**raw["deployments"][0], "deployment_id": "12.5"},
                           # the optional fixes_sr_id parses like the other keys
                           {**raw["deployments"][0], "deployment_id": "91",
                            "fixes_sr_id": "SR-101"}]
    with warehouse.connect() as conn:
        cursor = conn.cursor()
        for table, ddl in TEXT_DDL.items():
            cursor.execute(f"drop table raw.{table} cascade")
            cursor.execute(f"create table raw.{table} {ddl}")
    warehouse.load_raw(raw)
    warehouse.build(fixtures_hand.AS_OF, data_tests=False)
    assert kpi_facts(warehouse) == clean
    assert rejections(warehouse) == FIXTURE_REJECTIONS | {
        ("service_requests", "SR-7", "KEY_NOT_NUMERIC"),
        ("service_requests", "701", "TENANT_NOT_NUMERIC"),
        ("service_requests", "702", "VALUE_NOT_PARSEABLE"),
        ("service_requests", "703", "VALUE_NOT_PARSEABLE"),
        ("sr_events", "9101", "REQUEST_NOT_NUMERIC"),
        ("sr_events", "9102", "VALUE_NOT_PARSEABLE"),
        ("deployments", "12.5", "KEY_NOT_NUMERIC"),
        ("deployments", "91", "VALUE_NOT_PARSEABLE"),
    }
    detail = warehouse.query("select rejection_detail from marts.rejected_raw_rows "
                             "where raw_key = '702'")
    assert detail == [{"rejection_detail": "values that do not parse in columns |created_at|"}]
    detail = warehouse.query("select rejection_detail, raw_values from marts.rejected_raw_rows "
                             "where source_table = 'deployments' and raw_key = '91'")
    assert detail[0]["rejection_detail"] == "values that do not parse in columns |fixes_sr_id|"
    assert '"fixes_sr_id":"SR-101"' in detail[0]["raw_values"]


@pytest.mark.parametrize("engine", ["duckdb"])
def test_dagster_shows_a_rejection_rate_check_per_raw_table(warehouse: Warehouse) -> None:
    """The rejection-rate tests are Dagster asset checks on raw_data_quality, one per raw
    table: WARN (not a failed run) past the threshold, and the reconciliation passes.
    DuckDB only: how dagster-dbt turns a dbt warning into a check's severity does not
    depend on the engine, and test_rejection_rate_warns_past_the_threshold runs the
    tests' SQL on both."""
    import dagster as dg
    from test_orchestration import Orchestrated

    orchestrated = Orchestrated(warehouse)
    warehouse.write_file("seeds/tenants.csv", TENANTS_WITH_BAD_TIMEZONE)
    warehouse.load_raw(bad_raw())
    core = next(a for a in orchestrated.defs.assets if a.node_def.name == "kpi_core")
    quality = dg.AssetKey(["marts", "raw_data_quality"])
    check_names = {key.name for key in core.check_keys if key.asset_key == quality}
    assert {"rejection_rate_service_requests", "rejection_rate_sr_events",
            "rejection_rate_deployments", "assert_raw_rows_reconcile"} <= check_names

    from harness import patched_env
    with patched_env(orchestrated.env):
        result = dg.materialize([core], resources=orchestrated.defs.resources,
                                instance=dg.DagsterInstance.ephemeral())
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()
                   if e.asset_key == quality}
    for table in ("service_requests", "sr_events", "deployments"):
        check = evaluations[f"rejection_rate_{table}"]
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert evaluations["assert_raw_rows_reconcile"].passed


@pytest.mark.parametrize("engine", ["duckdb"])
@pytest.mark.parametrize(("variables", "hours"), [
    ({}, 1), ({"future_tolerance_hours": 0}, 0), ({"future_tolerance_hours": 24}, 24),
])
def test_future_tolerance_var_and_default(warehouse: Warehouse, variables: dict,
                                          hours: int) -> None:
    """The tolerance comes from the var (0 included), default 1 hour (dbt_project.yml)."""
    fixtures_hand.install(warehouse)
    warehouse.dbt("compile", "--select", "int_service_requests__validated",
                  as_of=fixtures_hand.AS_OF, variables=variables)
    compiled = next((warehouse.project_dir / "target" / "compiled").rglob(
        "int_service_requests__validated.sql")).read_text()
    assert f"created_at is more than {hours} hour(s) after as_of" in compiled
