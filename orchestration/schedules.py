"""The KPI schedule (cron in KPI_SCHEDULE_TIMEZONE, UTC by default). Partitions are UTC
periods.

kpi_daily_schedule, 00:30 every day: one kpi_daily_job run over yesterday and today (two
daily partitions). Its single dbt build finalizes yesterday and refreshes today at every
grain: their week (on Mondays also last week, final) and their month (on the 1st also last
month, final). The core runs once a day.
"""

from __future__ import annotations

from datetime import date, timedelta, timezone

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
DAILY_CRON = "30 0 * * *"
CRONS = {"daily": DAILY_CRON}  # by grain, as scripts/ read them


def partition_range(grain: str, today: date) -> tuple[date, date]:
    """First and last partition of `grain` (their start days) that the daily tick on UTC
    day `today` refreshes: it runs over the daily partitions, the others are the periods
    they fall in."""
    yesterday = today - timedelta(days=1)
    if grain == "daily":
        return yesterday, today
    if grain == "weekly":
        return (yesterday - timedelta(days=yesterday.weekday()),
                today - timedelta(days=today.weekday()))
    return yesterday.replace(day=1), today.replace(day=1)


def build_daily_schedule(
    job: dg.JobDefinition,
    partitions: dg.TimeWindowPartitionsDefinition,
    schedule_timezone: str,
) -> dg.ScheduleDefinition:
    def evaluate(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        today = context.scheduled_execution_time.astimezone(timezone.utc).date()
        first, last = (day.isoformat() for day in partition_range("daily", today))
        keys = partitions.get_partition_keys(current_time=context.scheduled_execution_time)
        if last not in keys:
            return dg.SkipReason(f"partition {last} is before the partitions start")
        if first not in keys:
            first = keys[0]
        return dg.RunRequest(
            run_key=f"daily-{first}-{last}", tags={RANGE_START: first, RANGE_END: last}
        )

    return dg.ScheduleDefinition(
        name="kpi_daily_schedule",
        cron_schedule=DAILY_CRON,
        execution_timezone=schedule_timezone,
        job=job,
        execution_fn=evaluate,
        description=(
            "00:30 every day: kpi_daily_job over yesterday (final) and today, and so their "
            "weeks and months (last week on Mondays, last month on the 1st)."
        ),
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
