"""Adding a KPI takes one SQL model plus one row in kpi_definitions.csv and a target row:
the README's "Add a KPI" example, read from the README as written (the model, the
definition and target rows of P1 incidents opened, a SUM, and the 75th percentile of
deployment minutes, a PERCENTILE), added to a copy of the project, shows up in the marts
with the right values at all three grains. The same build has the built-in percentile KPIs MTTR_MEDIAN and MTTR_P90
enabled, checked against values worked out by hand."""

from __future__ import annotations

import csv
import re
import textwrap
from collections.abc import Iterator
from datetime import date

import fixtures_hand
import pytest
from harness import ENGINES, REPO_ROOT, Warehouse, normalise

D = date.fromisoformat

def readme_example() -> dict[str, list[str]]:
    """The README's "Add a KPI" example as written: the model (its one sql block), and the
    lines of its csv blocks, told apart by their number of fields."""
    section = readme_section("Add a KPI")

    def blocks(language: str) -> list[str]:
        return [textwrap.dedent(block.split("```", 1)[0])
                for block in section.split(f"   ```{language}\n")[1:]]

    (model,) = blocks("sql")
    lines = [line for block in blocks("csv") for line in block.splitlines() if line]
    widths = {seed: len(seed_header(seed)) for seed in ("kpi_definitions", "kpi_targets")}
    by_seed: dict[str, list[str]] = {seed: [] for seed in widths}
    for line in lines:
        (fields,) = csv.reader([line])
        seeds = [seed for seed, width in widths.items() if len(fields) == width]
        assert seeds, f"not a whole row of either seed: {line}"
        by_seed[seeds[0]].append(line)
    return {"model": [model], **by_seed}


def readme_section(title: str) -> str:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index(f"\n## {title}"):]
    return section[:section.index("\n## ", 1)]


def seed_header(seed: str) -> list[str]:
    with (REPO_ROOT / "seeds" / f"{seed}.csv").open(encoding="utf-8") as file:
        return next(csv.reader(file))


def first_fields(lines: list[str], index: int) -> list[str]:
    return [next(csv.reader([line]))[index] for line in lines]


def test_readme_example_is_complete() -> None:
    """Every csv line of the example is a whole row of kpi_definitions.csv or
    kpi_targets.csv, each of the two KPIs has one of each, and the columns the README lists
    are the files' headers, in order."""
    example = readme_example()
    assert first_fields(example["kpi_definitions"], 0) == ["P1_INCIDENTS_OPENED",
                                                           "DEPLOY_MINUTES_P75"]
    assert first_fields(example["kpi_targets"], 1) == ["P1_INCIDENTS_OPENED",
                                                       "DEPLOY_MINUTES_P75"]
    (model,) = example["model"]
    assert "'P1_INCIDENTS_OPENED' as kpi_name" in model
    assert "'DEPLOY_MINUTES_P75' as kpi_name" in model
    section = " ".join(readme_section("Add a KPI").split())
    listed = section[section.index("columns in the file's order: "):]
    assert re.findall(r"`(\w+)`", listed[:listed.index(")")]) == seed_header("kpi_definitions")
    listed = section[section.index("to `kpi_targets.csv` (columns "):]
    assert re.findall(r"`(\w+)`", listed[:listed.index(";")]) == seed_header("kpi_targets")
    # and the seeds section names every column of the catalogue
    seeds = readme_section("The seeds")
    catalogue = seeds[seeds.index("**`kpi_definitions.csv`**"):seeds.index("**`kpi_targets")]
    named = {name.strip() for quoted in re.findall(r"`([^`]+)`", catalogue)
             for name in quoted.split(",")}
    assert [column for column in seed_header("kpi_definitions") if column not in named] == []


# targets of the hand fixture's percentile KPIs, beside the README's
PERCENTILE_TARGET_ROWS = ",MTTR_MEDIAN,4,,,true\n,MTTR_P90,24,,,true\n"


@pytest.fixture(scope="module", params=ENGINES)
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          ) -> Iterator[Warehouse]:
    """The hand scenario with the custom KPIs and the percentile KPIs, built once per
    engine."""
    warehouse = Warehouse(request.param, tmp_path_factory.mktemp(f"custom-{request.param}"))
    try:
        fixtures_hand.install(warehouse)
        example = readme_example()
        (model,) = example["model"]
        warehouse.write_file("models/intermediate/kpis/int_kpi__custom.sql", model)
        definitions = (warehouse.project_dir / "seeds/kpi_definitions.csv").read_text()
        warehouse.write_file("seeds/kpi_definitions.csv", definitions
                             + "".join(f"{line}\n" for line in example["kpi_definitions"]))
        warehouse.write_file("seeds/kpi_targets.csv", fixtures_hand.KPI_TARGETS_CSV
                             + "".join(f"{line}\n" for line in example["kpi_targets"])
                             + PERCENTILE_TARGET_ROWS)
        warehouse.build(fixtures_hand.AS_OF)
        yield warehouse
    finally:
        warehouse.drop()


def facts_of(warehouse: Warehouse, kpi_name: str) -> dict[tuple, tuple]:
    """(tenant_id, grain, period_start) -> (value, numerator, denominator, status)."""
    return {
        (r["tenant_id"], r["grain"], r["period_start"]): (
            normalise(r["value"]), normalise(r["numerator"]), normalise(r["denominator"]),
            r["status"])
        for r in warehouse.query(
            f"select * from marts.fct_kpi_values where kpi_name = '{kpi_name}'")
    }


def test_custom_kpi_in_marts(built: Warehouse) -> None:
    warehouse = built

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


def test_custom_percentile_kpi(built: Warehouse) -> None:
    # deployment minutes of tenant 1 (Seoul, UTC+9), by the local day they finished:
    # 17: 30 min (29 Feb 15:30 UTC = 1 Mar KST), 11: 30 (5 Mar), 12: 20 (5 Mar),
    # 15: 60 (cancelled, 8 Mar), 13: 40 (12 Mar); 16 finished after as_of, 14 never.
    # p75 at position 0.75 x (n - 1) of the sorted values, interpolated:
    rows = facts_of(built, "DEPLOY_MINUTES_P75")
    # March: 20, 30, 30, 40, 60 (odd, a tie): position 3 -> 40; GREEN against 45
    assert rows[(1, "MONTHLY", D("2024-03-01"))] == (40.0, None, 5.0, "GREEN")
    # week of 4 March: 20, 30, 60: position 1.5 -> 30 + 0.5 x 30 = 45; <= 45 GREEN
    assert rows[(1, "WEEKLY", D("2024-03-04"))] == (45.0, None, 3.0, "GREEN")
    # 5 March: 20, 30 (even): position 0.75 -> 20 + 0.75 x 10 = 27.5
    assert rows[(1, "DAILY", D("2024-03-05"))] == (27.5, None, 2.0, "GREEN")
    # week of 26 Feb: 30 alone; February: nothing (NO_DATA, no values)
    assert rows[(1, "WEEKLY", D("2024-02-26"))] == (30.0, None, 1.0, "GREEN")
    assert rows[(1, "MONTHLY", D("2024-02-01"))] == (None, None, 0.0, "NO_DATA")
    # tenant 2: 21, 90 min alone: 90 > 1.2 x 45 = 54 -> RED
    assert rows[(2, "MONTHLY", D("2024-03-01"))] == (90.0, None, 1.0, "RED")


def test_percentile_kpis_by_hand(built: Warehouse) -> None:
    median, p90 = facts_of(built, "MTTR_MEDIAN"), facts_of(built, "MTTR_P90")
    # tenant 1 (Seoul) incidents resolved in March KST: 101 3 h, 102 5 h, 103 6 h (29 Feb
    # 16:00 UTC = 1 Mar KST), 108 10 h; 110 resolves after as_of.
    # median of 3, 5, 6, 10 (even): (5 + 6) / 2 = 5.5 > 1.2 x 4 -> RED
    assert median[(1, "MONTHLY", D("2024-03-01"))] == (5.5, None, 4.0, "RED")
    # p90: position 0.9 x 3 = 2.7 -> 6 + 0.7 x (10 - 6) = 8.8 <= 24 GREEN
    assert p90[(1, "MONTHLY", D("2024-03-01"))] == (8.8, None, 4.0, "GREEN")
    # week of 4 March: 101 (5 Mar) and 108 (7 Mar): 6.5 and 3 + 0.9 x 7 = 9.3; a weekly
    # value is the percentile of the week's incidents, not of its daily values
    assert median[(1, "WEEKLY", D("2024-03-04"))] == (6.5, None, 2.0, "RED")
    assert p90[(1, "WEEKLY", D("2024-03-04"))] == (9.3, None, 2.0, "GREEN")
    # a single incident is its own median and p90: 103 in the week of 26 Feb, 102 on
    # 11 March
    assert median[(1, "WEEKLY", D("2024-02-26"))] == (6.0, None, 1.0, "RED")
    assert p90[(1, "DAILY", D("2024-03-11"))] == (5.0, None, 1.0, "GREEN")
    # no incident: NO_DATA with denominator 0, like the ratios
    assert median[(1, "MONTHLY", D("2024-02-01"))] == (None, None, 0.0, "NO_DATA")
    # tenant 2 (New York): 201 1 h and 203 24 h both resolved on 10 March (local):
    # median 12.5, p90 1 + 0.9 x 23 = 21.7
    assert median[(2, "DAILY", D("2024-03-10"))] == (12.5, None, 2.0, "RED")
    assert p90[(2, "MONTHLY", D("2024-03-01"))] == (21.7, None, 2.0, "GREEN")
    # the scorecard shows them at their default grain, the month
    card = {(r["tenant_id"], r["kpi_name"]): (r["grain"], normalise(r["value"]))
            for r in built.query("select * from marts.kpi_scorecard "
                                 "where kpi_name in ('MTTR_MEDIAN', 'MTTR_P90')")}
    assert card[(1, "MTTR_MEDIAN")] == ("MONTHLY", 5.5)
    assert card[(3, "MTTR_P90")] == ("MONTHLY", 3.0)
