"""Partition-ready runs and var validation.

- Recomputing the KPI facts window by window (vars min_date / max_date, as Dagster will)
  gives exactly the rows of one full build.
- A window's start moves back by lookback_days (var, default 3 in dbt_project.yml);
  a run without a window is unaffected.
- Values that reach SQL from vars or env are validated before any SQL runs: injection
  attempts stop the build with a clear error and the raw tables are untouched.
"""

from __future__ import annotations

from datetime import date, timedelta

import fixtures_hand
import pytest
from harness import Warehouse, normalise, patched_env

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
    fixtures_hand.install_and_build(warehouse)
    full = fact_rows(warehouse)
    assert len(full) == 309

    # start again from empty fact tables built for one window only
    for grain in ("daily", "weekly", "monthly"):
        warehouse.execute(f"drop table marts.fct_kpi_values_{grain} cascade")
    start = date(2024, 2, 15)
    warehouse.build(fixtures_hand.AS_OF, "--select", "tag:kpi_facts",
                    variables={"min_date": str(start), "max_date": str(start + timedelta(days=5))},
                    data_tests=False)
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
    fixtures_hand.install_and_build(warehouse)
    # disable FCR for tenant 1 from 11 March, then recompute only 11-16 March (UTC)
    warehouse.write_file(
        "seeds/kpi_targets.csv",
        fixtures_hand.KPI_TARGETS_CSV + "1,FCR,80,2024-03-11,,false\n",
    )
    warehouse.dbt("seed", as_of=fixtures_hand.AS_OF)
    # lookback_days 0: the window alone, so 10 March KST lies outside it
    warehouse.dbt("run", "--select", "tag:kpi_facts", as_of=fixtures_hand.AS_OF,
                  variables={"min_date": "2024-03-11", "max_date": "2024-03-16",
                             "lookback_days": 0})
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


@pytest.mark.parametrize(
    ("variables", "env", "start"),
    [
        ({}, {}, None),  # no window: every period, no bound
        ({"min_date": "2024-04-01"}, {}, "2024-03-29"),  # the default lookback, 3 days
        ({"min_date": "2024-04-01", "lookback_days": 0}, {}, "2024-04-01"),
        ({"lookback_days": 10}, {"KPI_MIN_DATE": "2024-03-01"}, "2024-02-20"),
        ({"lookback_days": "1"}, {"KPI_MIN_DATE": "2024-03-01"}, "2024-02-29"),
    ],
    ids=["no-window", "default", "var-0", "env-window", "var-1"],
)
def test_lookback_moves_the_window_start(warehouse: Warehouse, variables: dict,
                                         env: dict[str, str], start: str) -> None:
    with patched_env(env):
        warehouse.dbt("compile", "--select", "fct_kpi_values_daily", as_of=fixtures_hand.AS_OF,
                      variables=variables, settings_as_vars=True)
    compiled = (warehouse.project_dir / "target" / "compiled" / "kpi_engine" / "models"
                / "marts" / "kpi" / "fct_kpi_values_daily.sql").read_text()
    if start is None:
        assert "period_end_at >" not in compiled
    else:
        assert f"period_end_at > cast('{start} 00:00:00' as timestamp)" in compiled


INJECTION = "2024-01-01'; drop table raw.service_requests; --"


# (case, vars, environment, the error the log must show)
BAD_VARS = [
    ("env-as_of", {}, {"KPI_AS_OF": INJECTION}, "Invalid value for 'as_of'"),
    ("var-as_of", {"as_of": INJECTION}, {}, "Invalid value for 'as_of'"),
    ("min_date", {"min_date": INJECTION}, {}, "Invalid value for 'min_date'"),
    ("env-max_date", {}, {"KPI_MAX_DATE": INJECTION}, "Invalid value for 'max_date'"),
    ("max_date", {"max_date": "2024-13-01"}, {}, "Invalid value for 'max_date'"),
    ("default_timezone", {"default_timezone": "UTC'; drop table raw.sr_events; --"}, {},
     "Invalid value for 'default_timezone'"),
    ("kpi_only", {"kpi_only": "MTTR') or 1=1; drop table raw.sr_events; --"}, {},
     "Invalid value for 'kpi_only'"),
    ("lookback_days", {"lookback_days": "3; drop table raw.sr_events"}, {},
     "Invalid value for 'lookback_days'"),
    ("lookback_days-negative", {"lookback_days": -1}, {}, "Invalid value for 'lookback_days'"),
    ("lookback_days-too-large", {"lookback_days": 367}, {}, "Invalid value for 'lookback_days'"),
    ("lookback_days-text", {"lookback_days": "abc"}, {}, "Invalid value for 'lookback_days'"),
    ("raw_schema", {"raw_schema": "raw; drop table raw.sr_events; --"}, {},
     "Invalid value for 'raw_schema'"),
    ("raw_schema-quote", {"raw_schema": 'raw"."x'}, {}, "Invalid value for 'raw_schema'"),
    ("future_tolerance_hours", {"future_tolerance_hours": "1; drop table raw.sr_events"}, {},
     "Invalid value for 'future_tolerance_hours'"),
    ("rejection_rate_warn_pct", {"rejection_rate_warn_pct": "1; drop table raw.sr_events"}, {},
     "Invalid value for 'rejection_rate_warn_pct'"),
    ("incident_attribution_window_hours", {"incident_attribution_window_hours": "24; drop table raw.sr_events"}, {},
     "Invalid value for 'incident_attribution_window_hours'"),
    ("incident_attribution_window_hours-negative", {"incident_attribution_window_hours": -1}, {},
     "Invalid value for 'incident_attribution_window_hours'"),
    ("dora_benchmark_set", {"dora_benchmark_set": "DORA_2023' or '1'='1"}, {},
     "Invalid value for 'dora_benchmark_set'"),
]
# the checks are Jinja, the same on every engine, and each case costs a full dbt parse
# (its --vars): every case on DuckDB, one of each kind (an env value, a var, a number)
# on PostgreSQL as well
ON_POSTGRES = {"env-as_of", "min_date", "lookback_days-negative"}


@pytest.mark.parametrize(
    ("engine", "variables", "env", "message"),
    [pytest.param(engine, *case, id=f"{engine}-{name}")
     for name, *case in BAD_VARS for engine in ("duckdb", "postgres")
     if engine == "duckdb" or name in ON_POSTGRES],
)
def test_bad_vars_are_refused(warehouse: Warehouse, variables: dict, env: dict[str, str],
                              message: str) -> None:
    """Checked before any SQL runs (the on-run-start hook validate_vars, and the macros
    that use the values): the build stops with a clear error, nothing is built."""
    fixtures_hand.install(warehouse)
    env = {"KPI_AS_OF": fixtures_hand.AS_OF, **env}
    if len(env) > 1:
        # parsed first with good values: the bad env value is caught when the run starts
        # (dbt's partial parsing does not re-render the hook for a changed env variable)
        warehouse.dbt("parse", as_of=fixtures_hand.AS_OF)
    with patched_env({k: v for k, v in env.items() if k != "KPI_AS_OF"}):
        result = warehouse.dbt("build", as_of=env["KPI_AS_OF"], variables=variables,
                               expect_success=False, settings_as_vars=True)
    assert not result.success
    logs = (warehouse.project_dir / "logs" / "dbt.log").read_text()
    assert message in logs
    # the raw tables are all still there, with their rows, and nothing else was built
    counts = warehouse.query(
        "select (select count(*) from raw.service_requests) as requests, "
        "(select count(*) from raw.sr_events) as events, "
        "(select count(*) from raw.deployments) as deployments"
    )
    assert counts == [{"requests": len(fixtures_hand.SERVICE_REQUESTS),
                       "events": len(fixtures_hand.SR_EVENTS),
                       "deployments": len(fixtures_hand.DEPLOYMENTS)}]
    built = warehouse.query(
        "select count(*) as n from information_schema.tables where table_schema <> 'raw' "
        "and table_schema not in ('information_schema', 'pg_catalog')"
    )
    assert built == [{"n": 0}]
