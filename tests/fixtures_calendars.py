"""Business-hours SLAs for the demo data's builds, so the reference oracle's clock
(reference.kpi_reference.business_sla_elapsed_hours, written apart from the SQL) checks the
SQL's on thousands of generated requests: the shipped seeds with incidents P3 on the
shipped business_days calendar (two holidays in spring 2026) and service requests P2 on a
calendar with a lunch break, in the tenants' timezones (Seoul, New York and London; the
last two change clocks in March). test_against_reference and test_spark_jobs build with
them and give the same rows to the oracle."""

from __future__ import annotations

from pathlib import Path

from harness import Warehouse

# (request_type, priority) of the shipped default policies -> calendar
CALENDAR_POLICIES = {("INCIDENT", "P3"): "business_days",
                     ("SERVICE_REQUEST", "P2"): "business_days_lunch"}
LUNCH_CALENDAR_ROWS = "".join(f"business_days_lunch,{day},08:30,12:00\n"
                              f"business_days_lunch,{day},13:00,17:30\n" for day in range(1, 6))
HOLIDAYS_CSV = ("calendar_name,holiday_date,holiday_name\n"
                "business_days,2026-04-03,Good Friday\n"
                "business_days,2026-05-25,Memorial Day\n")


def seed_files() -> dict[str, str]:
    """The seeds business_calendars, holidays and sla_policies: the shipped ones with the
    calendars of CALENDAR_POLICIES."""
    seeds = Warehouse.seed_dir()
    policies = []
    for line in (seeds / "sla_policies.csv").read_text().splitlines():
        fields = line.split(",")
        if fields[0] == "" and (calendar := CALENDAR_POLICIES.get((fields[1], fields[2]))):
            assert fields[5] == "", f"shipped policy no longer 24/7: {line}"
            line = ",".join([*fields[:5], calendar])
        policies.append(f"{line}\n")
    on_calendars = [line for line in policies if line.rstrip().endswith(
        tuple(CALENDAR_POLICIES.values()))]
    assert len(on_calendars) == len(CALENDAR_POLICIES), "shipped default policies changed"
    return {"business_calendars": (seeds / "business_calendars.csv").read_text()
            + LUNCH_CALENDAR_ROWS,
            "holidays": HOLIDAYS_CSV,
            "sla_policies": "".join(policies)}


def install(project_dir: Path) -> None:
    """Writes the seeds into a project copy (or any seeds folder's parent)."""
    for name, content in seed_files().items():
        (project_dir / "seeds" / f"{name}.csv").write_text(content)
