"""Partition-ready runs and var validation.

- Recomputing the KPI facts window by window (vars min_date / max_date, as Dagster will)
  gives exactly the rows of one full build.
- Values that reach SQL from vars or env are validated: injection attempts stop the build
  with a clear error and the raw tables are untouched.
"""

from __future__ import annotations

from datetime import date, timedelta

import fixtures_hand
import pytest
from harness import Warehouse, normalise

COMPARED = ("tenant_id", "kpi_name", "grain", "period_start", "period_end", "is_complete",
            "value", "numerator", "denominator", "target", "direction", "achievement_pct",
            "status", "as_of")


def fact_rows(warehouse: Warehouse, relation: str = "marts.fct_kpi_values") -> list[tuple]:
    if relation == "grain tables":
        relation = "(" + " union all ".join(
            f"select * from marts.fct_kpi_values_{g}" for g in ("daily", "weekly", "monthly")
        ) + ") as grain_tables"
    rows = warehouse.query(f"select {', '.join(COMPARED)} from {relation}")
    return sorted(tuple(normalise(r[c]) for c in COMPARED) for r in rows)


def test_windowed_runs_equal_full_build(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    warehouse.build(fixtures_hand.AS_OF)
    full = fact_rows(warehouse)
    assert len(full) == 309

    # start again from empty fact tables built for one window only
    for grain in ("daily", "weekly", "monthly"):
        warehouse.execute(f"drop table marts.fct_kpi_values_{grain} cascade")
    start = date(2024, 2, 15)
    warehouse.build(fixtures_hand.AS_OF, "--select", "tag:kpi_facts",
                    variables={"min_date": str(start), "max_date": str(start + timedelta(days=5))})
    partial = fact_rows(warehouse, "grain tables")
    assert 0 < len(partial) < len(full)

    # then 5-day UTC windows up to as_of: each recomputes the tenant periods overlapping it
    day = start + timedelta(days=5)
    while day <= date(2024, 3, 16):
        warehouse.dbt("run", "--select", "tag:kpi_facts", as_of=fixtures_hand.AS_OF,
                      variables={"min_date": str(day), "max_date": str(day + timedelta(days=5))})
        day += timedelta(days=5)
    assert fact_rows(warehouse, "grain tables") == full
    warehouse.dbt("run", "--select", "fct_kpi_values", as_of=fixtures_hand.AS_OF)  # the view
    assert fact_rows(warehouse) == full


def test_window_rerun_replaces_rows_of_a_disabled_kpi(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    warehouse.build(fixtures_hand.AS_OF)
    # disable FCR for tenant 1 from 11 March, then recompute only 11-16 March (UTC)
    warehouse.write_file(
        "seeds/kpi_targets.csv",
        fixtures_hand.KPI_TARGETS_CSV + "1,FCR,80,2024-03-11,,false\n",
    )
    warehouse.dbt("seed", as_of=fixtures_hand.AS_OF)
    warehouse.dbt("run", "--select", "tag:kpi_facts", as_of=fixtures_hand.AS_OF,
                  variables={"min_date": "2024-03-11", "max_date": "2024-03-16"})
    days = {
        r["period_start"]
        for r in warehouse.query(
            "select period_start from marts.fct_kpi_values "
            "where tenant_id = 1 and kpi_name = 'FCR' and grain = 'DAILY'"
        )
    }
    # KST days from 11 March start at 15:00 UTC on 10 March, inside the window's
    # neighbourhood: 10 March KST overlaps the window (it ends 15:00 UTC 10 March)? No:
    # 10 March KST = [9 Mar 15:00, 10 Mar 15:00) UTC, before the window; kept.
    assert date(2024, 3, 10) in days
    assert not {d for d in days if d >= date(2024, 3, 11)}


INJECTION = "2024-01-01'; drop table raw.service_requests; --"


@pytest.mark.parametrize(
    ("variables", "env_as_of", "message"),
    [
        ({}, INJECTION, "Invalid value for 'as_of'"),
        ({"as_of": INJECTION}, None, "Invalid value for 'as_of'"),
        ({"min_date": INJECTION}, fixtures_hand.AS_OF, "Invalid value for 'min_date'"),
        ({"max_date": "2024-13-01"}, fixtures_hand.AS_OF, "Invalid value for 'max_date'"),
        ({"default_timezone": "UTC'; drop table raw.sr_events; --"}, fixtures_hand.AS_OF,
         "Invalid value for 'default_timezone'"),
    ],
    ids=["env-as_of", "var-as_of", "min_date", "max_date", "default_timezone"],
)
def test_bad_vars_are_refused(warehouse: Warehouse, variables: dict, env_as_of: str | None,
                              message: str) -> None:
    fixtures_hand.install(warehouse)
    result = warehouse.dbt("build", as_of=env_as_of, variables=variables, expect_success=False)
    assert not result.success
    logs = (warehouse.project_dir / "logs" / "dbt.log").read_text()
    assert message in logs
    # the raw tables are all still there, with their rows
    counts = warehouse.query(
        "select (select count(*) from raw.service_requests) as requests, "
        "(select count(*) from raw.sr_events) as events"
    )
    assert counts == [{"requests": len(fixtures_hand.SERVICE_REQUESTS),
                       "events": len(fixtures_hand.SR_EVENTS)}]
