"""A run-failure sensor: a clear log line for every failed run, and a hook for alerts."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

# Append your own (Slack, e-mail, PagerDuty...): each gets the message of a failed run.
ALERT_HANDLERS: list[Callable[[str], None]] = []


def failure_message(job_name: str, run_id: str, error: str | None) -> str:
    return (
        f"KPI run failed: job {job_name}, run {run_id}: {error or 'no error message'}. "
        f"The marts keep their previous values; fix the cause and re-run the job or the "
        f"failed partitions (the run is idempotent)."
    )


@dg.run_failure_sensor(
    name="kpi_run_failure_sensor",
    description="Logs a clear message for every failed run and calls the alert handlers.",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def kpi_run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
    error = context.failure_event.message if context.failure_event else None
    message = failure_message(context.dagster_run.job_name, context.dagster_run.run_id, error)
    context.log.error(message)
    for handler in ALERT_HANDLERS:
        handler(message)
