"""UTC partitions of the KPI fact tables: days, ISO weeks (Monday) and months. Each
definition ends with the current, still running period (end_offset=1), so the scorecard
can be refreshed to date; or, when KPI_PARTITIONS_END is set, with the last period that
ends by that day."""

from __future__ import annotations

import dagster as dg

from orchestration.settings import Settings


def build_partitions(settings: Settings) -> dict[str, dg.TimeWindowPartitionsDefinition]:
    start = settings.partitions_start
    # Dagster's end_date is exclusive, and end_offset applies only without it
    bounds = {"timezone": "UTC", "end_offset": 1, "end_date": settings.partitions_end or None}
    return {
        "daily": dg.DailyPartitionsDefinition(start_date=start, **bounds),
        # day_offset=1: weeks start on Monday like the KPI weeks (Dagster's default is Sunday)
        "weekly": dg.WeeklyPartitionsDefinition(start_date=start, day_offset=1, **bounds),
        "monthly": dg.MonthlyPartitionsDefinition(start_date=start[:8] + "01", **bounds),
    }


def partition_keys_overlapping(
    definition: dg.TimeWindowPartitionsDefinition, window: dg.TimeWindow
) -> list[str]:
    """The partitions of `definition` whose period overlaps `window`, the week or month the
    window starts in included (Dagster's get_partition_keys_in_time_window starts at the
    first period that starts inside the window), within the definition's bounds."""
    first = definition.get_partition_key_for_timestamp(window.start.timestamp())
    start = min(definition.time_window_for_partition_key(first).start, window.start)
    keys = definition.get_partition_keys_in_time_window(dg.TimeWindow(start, window.end))
    return [key for key in keys if definition.has_partition_key(key)]
