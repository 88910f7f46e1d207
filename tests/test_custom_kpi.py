"""Adding a KPI takes one SQL model plus one row in kpi_definitions.csv and a target row:
a custom KPI (P1 incidents opened) added to a copy of the project shows up in the marts
with the right values at all three grains."""

from __future__ import annotations

from datetime import date

import fixtures_hand
from harness import Warehouse, normalise

CUSTOM_MODEL = """
with

requests as (
    select * from {{ ref('stg_itsm__service_requests') }}
),

final as (
    select
        'sr-' || cast(sr_id as {{ dbt.type_string() }}) as measurement_key,
        tenant_id,
        'P1_INCIDENTS_OPENED' as kpi_name,
        created_at as measured_at,
        cast(1.0 as double precision) as numerator,
        cast(null as double precision) as denominator
    from requests
    where request_type = 'INCIDENT'
        and priority = 'P1'
)

select * from final
"""

DEFINITION_ROW = (
    "P1_INCIDENTS_OPENED,P1 인시던트 발생 건수,P1 incidents opened,P1 인시던트 수,"
    "Incidents of priority P1 opened in the period,count,LOWER_BETTER,1,WEEKLY,SUM,1,0,95,80,1.2,false\n"
)
TARGET_ROW = ",P1_INCIDENTS_OPENED,1,,,true\n"


def test_custom_kpi_in_marts(warehouse: Warehouse) -> None:
    fixtures_hand.install(warehouse)
    warehouse.write_file("models/intermediate/kpis/int_kpi__custom.sql", CUSTOM_MODEL)
    definitions = (warehouse.project_dir / "seeds/kpi_definitions.csv").read_text()
    warehouse.write_file("seeds/kpi_definitions.csv", definitions + DEFINITION_ROW)
    warehouse.write_file("seeds/kpi_targets.csv", fixtures_hand.KPI_TARGETS_CSV + TARGET_ROW)
    warehouse.build(fixtures_hand.AS_OF)

    rows = {
        (r["tenant_id"], r["grain"], r["period_start"]): (normalise(r["value"]), r["status"])
        for r in warehouse.query(
            "select * from marts.fct_kpi_values where kpi_name = 'P1_INCIDENTS_OPENED'"
        )
    }
    # P1 incidents: 101 (tenant 1, 23:30 UTC 4 Mar = 08:30 KST 5 Mar), 203 (tenant 2,
    # 12:00 UTC 9 Mar = 07:00 EST 9 Mar), 109 (created after as_of: ignored).
    d = date.fromisoformat
    assert rows[(1, "DAILY", d("2024-03-04"))] == (0.0, "GREEN")
    assert rows[(1, "DAILY", d("2024-03-05"))] == (1.0, "GREEN")
    assert rows[(1, "DAILY", d("2024-03-15"))] == (0.0, "GREEN")
    assert rows[(1, "WEEKLY", d("2024-03-04"))] == (1.0, "GREEN")
    assert rows[(1, "WEEKLY", d("2024-03-11"))] == (0.0, "GREEN")
    assert rows[(1, "MONTHLY", d("2024-02-01"))] == (0.0, "GREEN")
    assert rows[(1, "MONTHLY", d("2024-03-01"))] == (1.0, "GREEN")
    assert rows[(2, "DAILY", d("2024-03-09"))] == (1.0, "GREEN")
    assert rows[(2, "WEEKLY", d("2024-03-04"))] == (1.0, "GREEN")
    assert rows[(2, "MONTHLY", d("2024-03-01"))] == (1.0, "GREEN")
    assert rows[(3, "MONTHLY", d("2024-03-01"))] == (0.0, "GREEN")
    # every period of every tenant has a row (16 + 3 + 2 for tenant 1, ...)
    assert len([k for k in rows if k[0] == 1]) == 21
    assert len(rows) == 21 + 10 + 31 + 6

    scorecard = warehouse.query(
        "select tenant_id, grain, period_start, value from marts.kpi_scorecard "
        "where kpi_name = 'P1_INCIDENTS_OPENED' order by tenant_id"
    )
    # default grain WEEKLY: the week holding as_of (Monday 11 March) in every tenant's zone
    assert [(r["tenant_id"], r["grain"], r["period_start"], normalise(r["value"])) for r in scorecard] == [
        (1, "WEEKLY", d("2024-03-11"), 0.0),
        (2, "WEEKLY", d("2024-03-11"), 0.0),
        (3, "WEEKLY", d("2024-03-11"), 0.0),
        (9, "WEEKLY", d("2024-03-11"), 0.0),
    ]
    dim = warehouse.query("select * from marts.dim_kpi where kpi_name = 'P1_INCIDENTS_OPENED'")
    assert dim[0]["display_name_en"] == "P1 incidents opened"
