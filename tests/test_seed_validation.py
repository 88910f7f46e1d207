"""Bad configuration stops the build with a named dbt test, before any mart is built."""

from __future__ import annotations

import fixtures_hand
from harness import Warehouse


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
