"""UTC partitions of the KPI fact tables: days, ISO weeks (Monday) and months. Each
definition ends with the current, still running period (end_offset=1), so the scorecard
can be refreshed to date."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import Settings


def build_partitions(settings: Settings) -> dict[str, dg.TimeWindowPartitionsDefinition]:
    start = settings.partitions_start
    return {
        "daily": dg.DailyPartitionsDefinition(start_date=start, timezone="UTC", end_offset=1),
        # day_offset=1: weeks start on Monday like the KPI weeks (Dagster's default is Sunday)
        "weekly": dg.WeeklyPartitionsDefinition(
            start_date=start, timezone="UTC", day_offset=1, end_offset=1
        ),
        "monthly": dg.MonthlyPartitionsDefinition(
            start_date=start[:8] + "01", timezone="UTC", end_offset=1
        ),
    }
