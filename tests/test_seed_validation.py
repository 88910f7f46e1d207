"""Bad configuration stops the build with a named dbt test, before any mart is built; an
unknown timezone only warns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fixtures_hand
import pytest
from harness import ENGINES, Warehouse

# the seeds and every test whose parents are all seeds: what validates the configuration
SEEDS_AND_THEIR_TESTS = ("build", "--select", "resource_type:seed",
                         "--indirect-selection", "cautious")
SEED_TESTS = {
    "assert_kpi_targets_name_known_kpis",
    "assert_kpi_target_windows_do_not_overlap",
    "assert_kpi_target_windows_are_not_empty",
    "assert_higher_better_targets_are_positive",
    "assert_sla_resolution_hours_are_positive",
    "assert_sla_policies_are_unique_per_tenant_request_type_priority",
    "assert_tenant_timezones_are_known",
    "assert_deployment_environments_are_unique",
    "assert_elapsed_days_kpis_are_ratios",
    "assert_alert_channels_are_well_formed",
    "assert_alert_mutes_are_alone",
    "assert_alert_rules_name_known_kpis",
    "assert_daily_digest_rules_have_no_kpi",
    "assert_feed_stale_rules_are_global",
    "assert_business_calendar_weekdays_are_iso",
    "assert_business_calendar_times_are_well_formed",
    "assert_business_calendar_rows_end_after_start",
    "assert_business_calendar_rows_do_not_overlap",
    "assert_business_calendar_rows_are_unique",
    "assert_sla_policy_calendars_are_known",
    "assert_holidays_name_known_calendars",
    "assert_holidays_are_unique",
}
ALERT_RULES_CSV = (Warehouse.seed_dir() / "alert_rules.csv").read_text()
CALENDARS_CSV = (Warehouse.seed_dir() / "business_calendars.csv").read_text()
HOLIDAYS_HEADER = "calendar_name,holiday_date,holiday_name\n"


@pytest.fixture(scope="module", params=ENGINES)
def seeds_only(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """One project copy and database per engine, shared by the cases that only load the
    seeds and run their tests, with its parsed manifest: the cases change seed rows only,
    which dbt reads when it loads them, so it runs them without parsing the project again
    (2.4 s a case, 1.9 s without the parse)."""
    warehouse = Warehouse(request.param, tmp_path_factory.mktemp(f"seeds_{request.param}"))
    warehouse.manifest = warehouse.dbt("parse").result
    yield warehouse
    warehouse.drop()


def seed_build(warehouse: Warehouse, seed: str | None = None, content: str = "",
               **others: str) -> Any:
    """Writes the hand-made fixture's seeds, then `content` into seeds/<seed>.csv (and
    each of `others` into seeds/<name>.csv), and builds the seeds with their tests."""
    warehouse.write_file("seeds/tenants.csv", fixtures_hand.TENANTS_CSV)
    warehouse.write_file("seeds/kpi_targets.csv", fixtures_hand.KPI_TARGETS_CSV)
    warehouse.write_file("seeds/sla_policies.csv", fixtures_hand.SLA_POLICIES_CSV)
    for shipped in ("deployment_environments", "kpi_definitions", "alert_rules",
                    "business_calendars", "holidays"):
        warehouse.write_file(f"seeds/{shipped}.csv",
                             (Warehouse.seed_dir() / f"{shipped}.csv").read_text())
    if seed is not None:
        warehouse.write_file(f"seeds/{seed}.csv", content)
    for name, other in others.items():
        warehouse.write_file(f"seeds/{name}.csv", other)
    return warehouse.dbt(*SEEDS_AND_THEIR_TESTS, as_of=fixtures_hand.AS_OF,
                         expect_success=False, manifest=warehouse.manifest)


def statuses(result: Any) -> dict[str, str]:
    """Status of every node a dbt invocation ran, by name (tests: pass, fail, warn...)."""
    return {r.node.name: str(r.status) for r in result.result.results}


def failures(result: Any, name: str) -> int:
    """Rows the named test returned."""
    return next(r.failures for r in result.result.results if r.node.name == name)


def test_higher_better_target_must_be_positive(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    warehouse.write_file("seeds/kpi_targets.csv",
                         fixtures_hand.KPI_TARGETS_CSV + "2,FCR,0,2024-03-01,,true\n")
    result = warehouse.dbt("build", as_of=fixtures_hand.AS_OF, expect_success=False)
    assert not result.success
    failed = {r.node.name for r in result.result.results if str(r.status) in ("fail", "error")}
    assert "assert_higher_better_targets_are_positive" in failed
    # the marts were not built over bad configuration
    skipped = {r.node.name for r in result.result.results if str(r.status) == "skipped"}
    assert "fct_kpi_values" in skipped


BAD_SEEDS = [
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + ",MTTRR,4,,,true\n",
                 "assert_kpi_targets_name_known_kpis", 1, id="unknown-kpi"),
    # a second default row against the open-ended default MTTR row
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + ",MTTR,3,2024-01-01,2024-02-01,true\n",
                 "assert_kpi_target_windows_do_not_overlap", 1, id="overlap-default-rows"),
    # tenant 3 has [-inf, 2024-03-01) and [2024-03-01, +inf): this row overlaps both
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + "3,MTTR,3,2024-02-15,2024-03-15,true\n",
                 "assert_kpi_target_windows_do_not_overlap", 2, id="overlap-tenant-rows"),
    # the same row twice overlaps itself
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + "3,DEPLOY_SUCCESS_RATE,95,,,false\n",
                 "assert_kpi_target_windows_do_not_overlap", 1, id="overlap-duplicate-row"),
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + "2,FCR,80,2024-03-01,2024-03-01,true\n",
                 "assert_kpi_target_windows_are_not_empty", 1, id="empty-window"),
    pytest.param("kpi_targets", fixtures_hand.KPI_TARGETS_CSV + "2,FCR,80,2024-03-01,2024-02-01,true\n",
                 "assert_kpi_target_windows_are_not_empty", 1, id="reversed-window"),
    pytest.param("sla_policies", fixtures_hand.SLA_POLICIES_CSV + "2,INCIDENT,P1,-1,false,\n",
                 "assert_sla_resolution_hours_are_positive", 1, id="negative-sla-hours"),
    pytest.param("sla_policies", fixtures_hand.SLA_POLICIES_CSV + "2,INCIDENT,P1,0,false,\n",
                 "assert_sla_resolution_hours_are_positive", 1, id="zero-sla-hours"),
    pytest.param("sla_policies", fixtures_hand.SLA_POLICIES_CSV + ",INCIDENT,P1,6,false,\n",
                 "assert_sla_policies_are_unique_per_tenant_request_type_priority", 1,
                 id="duplicate-default-sla-policy"),
    pytest.param("sla_policies", fixtures_hand.SLA_POLICIES_CSV + "1,SERVICE_REQUEST,P3,12,true,\n",
                 "assert_sla_policies_are_unique_per_tenant_request_type_priority", 1,
                 id="duplicate-tenant-sla-policy"),
    # ' Prod ' is the shipped prod row (environments match trimmed, case-insensitively)
    pytest.param("deployment_environments",
                 "tenant_id,environment,is_production\n,production,true\n,prod,true\n, Prod ,false\n",
                 "assert_deployment_environments_are_unique", 1,
                 id="duplicate-default-environment"),
    pytest.param("deployment_environments",
                 "tenant_id,environment,is_production\n,production,true\n2,staging,true\n2,STAGING,false\n",
                 "assert_deployment_environments_are_unique", 1,
                 id="duplicate-tenant-environment"),
    pytest.param("kpi_definitions",
                 # CHANGE_LEAD_TIME (the first PERCENTILE DORA row) made ELAPSED_DAYS
                 (Warehouse.seed_dir() / "kpi_definitions.csv").read_text().replace(
                     ",PERCENTILE,0.5,1,2,95,80,1.2,true,,SERVICE",
                     ",PERCENTILE,0.5,1,2,95,80,1.2,true,ELAPSED_DAYS,SERVICE", 1),
                 "assert_elapsed_days_kpis_are_ratios", 1, id="elapsed-days-percentile"),
    # alert rules (README "Alerts"): what would route nothing, or not as written
    pytest.param("alert_rules", ALERT_RULES_CSV + ",,TURNED_RED,Ops-Team\n",
                 "assert_alert_channels_are_well_formed", 1, id="alert-channel-not-a-name"),
    pytest.param("alert_rules", ALERT_RULES_CSV + "2,MTTR,TURNED_RED,none\n2,MTTR,TURNED_RED,pager\n",
                 "assert_alert_mutes_are_alone", 1, id="alert-mute-beside-a-channel"),  # one group
    pytest.param("alert_rules", ALERT_RULES_CSV + ",MTTRR,TURNED_RED,ops\n",
                 "assert_alert_rules_name_known_kpis", 1, id="alert-unknown-kpi"),
    pytest.param("alert_rules", ALERT_RULES_CSV + ",MTTR,DAILY_DIGEST,ops\n",
                 "assert_daily_digest_rules_have_no_kpi", 1, id="alert-digest-with-a-kpi"),
    pytest.param("alert_rules", ALERT_RULES_CSV + "2,,FEED_STALE,ops\n",
                 "assert_feed_stale_rules_are_global", 1, id="alert-stale-feed-for-a-tenant"),
    # business calendars and holidays (README "Business-hours SLAs"); the shipped
    # business_days calendar is Monday to Friday 09:00-18:00
    pytest.param("business_calendars", CALENDARS_CSV + "business_days,8,09:00,12:00\n",
                 "assert_business_calendar_weekdays_are_iso", 1, id="calendar-bad-weekday"),
    pytest.param("business_calendars", CALENDARS_CSV + "business_days,6,09:60,12:00\n",
                 "assert_business_calendar_times_are_well_formed", 1, id="calendar-bad-time"),
    pytest.param("business_calendars", CALENDARS_CSV + "business_days,6,12:00,09:00\n",
                 "assert_business_calendar_rows_end_after_start", 1,
                 id="calendar-end-before-start"),
    # Monday 17:00-19:00 shares 17:00-18:00 with Monday 09:00-18:00
    pytest.param("business_calendars", CALENDARS_CSV + "business_days,1,17:00,19:00\n",
                 "assert_business_calendar_rows_do_not_overlap", 1, id="calendar-overlap"),
    pytest.param("sla_policies", fixtures_hand.SLA_POLICIES_CSV + "2,INCIDENT,P1,4,false,nights\n",
                 "assert_sla_policy_calendars_are_known", 1, id="policy-unknown-calendar"),
    pytest.param("holidays", HOLIDAYS_HEADER + "business_dayz,2025-12-25,Christmas\n",
                 "assert_holidays_name_known_calendars", 1, id="holiday-unknown-calendar"),
]


@pytest.mark.parametrize(("seed", "content", "test_name", "bad_rows"), BAD_SEEDS)
def test_bad_seed_fails_its_named_test(seeds_only: Warehouse, seed: str, content: str,
                                       test_name: str, bad_rows: int) -> None:
    result = seed_build(seeds_only, seed, content)
    assert not result.success
    status = statuses(result)
    assert SEED_TESTS <= status.keys()
    assert {name for name, s in status.items() if s != "pass" and s != "success"} == {test_name}
    assert status[test_name] == "fail"
    assert failures(result, test_name) == bad_rows


def test_overlapping_windows_stop_the_build_before_the_marts(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    warehouse.write_file("seeds/kpi_targets.csv",
                         fixtures_hand.KPI_TARGETS_CSV + "1,FCR,90,2024-01-01,,true\n"
                         "1,FCR,85,2024-03-01,2024-04-01,true\n")
    result = warehouse.dbt("build", as_of=fixtures_hand.AS_OF, expect_success=False)
    assert not result.success
    status = statuses(result)
    assert {name for name, s in status.items() if s in ("fail", "error")} == {
        "assert_kpi_target_windows_do_not_overlap"}
    assert status["fct_kpi_values"] == "skipped"
    assert status["kpi_scorecard"] == "skipped"


def test_touching_windows_do_not_overlap(seeds_only: Warehouse) -> None:
    # valid_to of one window = valid_from of the next, for the default rows and a tenant's
    # (tenant 3's MTTR rows in the fixture touch on 2024-03-01 too); tenant rows may
    # cover the same dates as the default rows
    result = seed_build(seeds_only, "kpi_targets", fixtures_hand.KPI_TARGETS_CSV.replace(
        ",FCR,80,,,true\n",
        ",FCR,80,,2024-02-01,true\n,FCR,85,2024-02-01,2024-03-01,true\n,FCR,90,2024-03-01,,true\n",
    ) + "2,FCR,70,2024-01-01,2024-03-10,true\n2,FCR,75,2024-03-10,,false\n")
    assert result.success
    status = statuses(result)
    assert {status[name] for name in SEED_TESTS} == {"pass"}


def test_lunch_breaks_and_24_hour_days_are_valid_calendars(seeds_only: Warehouse) -> None:
    # rows that touch (12:00) do not overlap; 24:00 ends a day; a policy may name a
    # calendar, a holiday its calendar
    result = seed_build(
        seeds_only, "business_calendars",
        CALENDARS_CSV + "lunch,1,09:00,12:00\nlunch,1,12:00,17:00\nalways,7,00:00,24:00\n",
        holidays=HOLIDAYS_HEADER + "lunch,2025-12-25,Christmas\n",
        sla_policies=fixtures_hand.SLA_POLICIES_CSV + "2,INCIDENT,P1,4,false,always\n",
    )
    assert result.success
    status = statuses(result)
    assert {status[name] for name in SEED_TESTS} == {"pass"}


def test_unknown_timezone_warns_and_the_build_goes_on(seeds_only: Warehouse) -> None:
    # names are compared exactly, as the IANA database spells them
    result = seed_build(seeds_only, "tenants", fixtures_hand.TENANTS_CSV
                        + "4,Mars Base,Mars/Olympus_Mons\n5,Lower Case,asia/seoul\n")
    assert result.success
    status = statuses(result)
    assert status["assert_tenant_timezones_are_known"] == "warn"
    assert failures(result, "assert_tenant_timezones_are_known") == 2
    assert {status[name] for name in SEED_TESTS - {"assert_tenant_timezones_are_known"}} == {
        "pass"}
