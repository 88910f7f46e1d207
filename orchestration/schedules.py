"""Schedules (cron in KPI_SCHEDULE_TIMEZONE, UTC by default). Partitions are UTC periods.

- kpi_daily_schedule, 00:30 every day: finalizes yesterday and refreshes today (one run
  over the two daily partitions);
- kpi_weekly_schedule, 01:00 every day: refreshes the week to date; on Mondays it also
  finalizes last week;
- kpi_monthly_schedule, 01:30 every day: refreshes the month to date; on the 1st it also
  finalizes last month.
Together they keep the scorecard at most a day old at every grain.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta, timezone
from typing import Any

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
CRONS = {"daily": "30 0 * * *", "weekly": "0 1 * * *", "monthly": "30 1 * * *"}


def partition_range(grain: str, today: date) -> tuple[date, date]:
    """First and last partition (their start days) a tick on UTC day `today` refreshes."""
    if grain == "daily":
        return today - timedelta(days=1), today
    if grain == "weekly":
        monday = today - timedelta(days=today.weekday())
        return (monday - timedelta(days=7) if today == monday else monday), monday
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return (previous if today == first else first), first


def build_schedules(
    jobs: Mapping[str, Any],
    partitions: Mapping[str, dg.TimeWindowPartitionsDefinition],
    schedule_timezone: str,
) -> list[dg.ScheduleDefinition]:
    schedules = []
    for grain in ("daily", "weekly", "monthly"):

        def evaluate(
            context: dg.ScheduleEvaluationContext, grain: str = grain
        ) -> dg.RunRequest | dg.SkipReason:
            today = context.scheduled_execution_time.astimezone(timezone.utc).date()
            first, last = partition_range(grain, today)
            keys = partitions[grain].get_partition_keys(
                current_time=context.scheduled_execution_time
            )
            first_key, last_key = first.isoformat(), last.isoformat()
            if last_key not in keys:
                return dg.SkipReason(f"partition {last_key} is before the partitions start")
            if first_key not in keys:
                first_key = keys[0]
            return dg.RunRequest(
                run_key=f"{grain}-{first_key}-{last_key}",
                tags={RANGE_START: first_key, RANGE_END: last_key},
            )

        schedules.append(
            dg.ScheduleDefinition(
                name=f"kpi_{grain}_schedule",
                cron_schedule=CRONS[grain],
                execution_timezone=schedule_timezone,
                job=jobs[grain],
                execution_fn=evaluate,
                description=__doc__.split("\n\n")[1].split("- ")[
                    ["daily", "weekly", "monthly"].index(grain) + 1
                ].strip().rstrip(";").replace("\n  ", " "),
                default_status=dg.DefaultScheduleStatus.RUNNING,
            )
        )
    return schedules
