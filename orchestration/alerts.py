"""The alert sensor: after each successful refresh (and every KPI_ALERT_POLL_MINUTES),
delivers the alerts of marts.kpi_alerts, FEED_STALE alerts for the raw tables whose dbt
source freshness errors, and the daily digests (itsm_kpi.alerts does the work; its state
is this sensor's cursor). Every alert also goes to the sensor's Dagster log; the tick
says what was delivered, what failed and when it is retried."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
from dagster_dbt import DbtProject

from itsm_kpi import alerts
from orchestration.freshness import CHECK_NAME, SOURCE_NAME, SOURCE_TABLES

# the runs whose success may change the marts' lights (a UI "Materialize" is an asset job)
REFRESH_JOBS = ("kpi_daily_job", "kpi_full_refresh_job", "kpi_daily_facts_job",
                "kpi_weekly_facts_job", "kpi_monthly_facts_job", "__ASSET_JOB")
DAILY_JOB = "kpi_daily_job"  # the digest goes out after it
INTERVAL_SECONDS = 60


def latest_refresh(instance: dg.DagsterInstance, after: float | None,
                   now: datetime) -> tuple[float | None, bool]:
    """End time (epoch) of the newest successful refresh run that ended after `after`
    (first tick: in the last KPI_ALERT_START_HOURS), and whether one of those was the
    daily job."""
    since = (datetime.fromtimestamp(after, timezone.utc) if after
             else now - timedelta(hours=alerts.Settings.from_env().start_hours))
    records = instance.get_run_records(dg.RunsFilter(
        statuses=[dg.DagsterRunStatus.SUCCESS], updated_after=since))
    ended = [(record.end_time, record.dagster_run.job_name) for record in records
             if record.end_time and record.end_time > since.timestamp()
             and record.dagster_run.job_name in REFRESH_JOBS]
    if not ended:
        return None, False
    return max(end for end, _ in ended), any(job == DAILY_JOB for _, job in ended)


def feed_statuses(instance: dg.DagsterInstance) -> list[alerts.Feed]:
    """The latest dbt source freshness check of each raw table (orchestration/freshness)."""
    feeds = []
    for table in SOURCE_TABLES:
        key = dg.AssetCheckKey(dg.AssetKey([SOURCE_NAME, table]), CHECK_NAME)
        record = instance.get_latest_asset_check_evaluation_record(key)
        event = record.event if record else None
        evaluation = event.dagster_event.event_specific_data if (
            event and event.dagster_event) else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation):
            continue  # never observed, or still running
        metadata = {name: getattr(value, "value", value)
                    for name, value in evaluation.metadata.items()}
        feeds.append(alerts.Feed(
            table=table, status=str(metadata.get("dbt_freshness_status")),
            observed_at=event.timestamp,
            hours_since_last_row=metadata.get("hours_since_last_row"),
            last_row_at=metadata.get("dagster/last_updated_timestamp")))
    return feeds


def build_alert_sensor(project: DbtProject) -> dg.SensorDefinition:
    """The sensor delivering alerts from the marts of `project`'s target."""

    @dg.sensor(
        name="kpi_alert_sensor",
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Delivers KPI light changes (marts.kpi_alerts), stale raw feeds and daily digests "
            "to the channels of seeds/alert_rules.csv (KPI_ALERT_URL_<CHANNEL>); failed "
            "deliveries are retried with backoff; its cursor records what was delivered."
        ),
    )
    def kpi_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        settings = alerts.Settings.from_env()
        state = alerts.State.load(context.cursor)
        now = datetime.now(timezone.utc)
        refreshed_at, daily = latest_refresh(context.instance, state.refresh_seen, now)

        def log(event: str, message: alerts.Message) -> None:
            text = f"{event}: [{message.channel}] {message.title} (key {message.key})"
            if event == "failed":
                context.log.warning(f"{text}: {message.error}; try {message.attempts + 1} "
                                    f"from {message.next_at}")
            elif event == "unconfigured":
                context.log.warning(f"{text}: channel {message.channel} has no URL "
                                    f"({alerts.URL_VARIABLE.format(message.channel.upper())})"
                                    f"\n{message.body}")
            else:
                context.log.info(f"{text}\n{message.body}")

        result = alerts.tick(state, now=now, refreshed_at=refreshed_at, daily_refreshed=daily,
                             feeds=feed_statuses(context.instance), engine=project.target,
                             base=project.project_dir, settings=settings, log=log)
        context.log.info(result.summary)
        return dg.SensorResult(cursor=result.state.dump(),
                               skip_reason=dg.SkipReason(result.summary))

    return kpi_alert_sensor
