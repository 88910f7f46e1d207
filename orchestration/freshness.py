"""The raw tables as observable source assets: an observation runs `dbt source freshness`
(the freshness declared in models/staging/itsm/_itsm__sources.yml) and records each
table's last load time, with an asset check that passes, warns or errors as dbt says, so
a stalled feed is visible in the asset graph."""

import shutil
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

SOURCE_NAME = "itsm"
SOURCE_TABLES = ("service_requests", "sr_events", "deployments")
CHECK_NAME = "dbt_source_freshness"
OBSERVE_CRON = "15 * * * *"  # hourly


def build_source_observations(project: DbtProject) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=[SOURCE_NAME, table], group_name="raw",
            description=f"Raw table {table} of the ITSM application (README: raw contract).",
        )
        for table in SOURCE_TABLES
    ]
    check_specs = [
        dg.AssetCheckSpec(
            name=CHECK_NAME, asset=spec.key,
            description="dbt source freshness: warns after a day without new rows, errors "
            "after three.",
        )
        for spec in specs
    ]

    with warnings.catch_warnings():
        # Observing external assets has no stable API in Dagster 1.13: both
        # observable_source_asset decorators are beta and warn when called, on every load
        # of the definitions (`make ui`'s log, each run). This use is deliberate and
        # tested (test_orchestration); only that one warning is silenced.
        warnings.filterwarnings(
            "ignore", category=dg.BetaWarning,
            message="Function `multi_observable_source_asset` is currently in beta")
        observable = dg.multi_observable_source_asset(
            specs=specs,
            check_specs=check_specs,
            name="itsm_source_freshness",
            description="Runs dbt source freshness on the raw tables.",
            required_resource_keys={"dbt"},
        )

    @observable
    def itsm_source_freshness(context: dg.AssetExecutionContext) -> Iterator[Any]:
        dbt: DbtCliResource = context.resources.dbt
        invocation = dbt.cli(["source", "freshness"], manifest=project.manifest_path,
                             raise_on_error=False)
        try:
            invocation.wait()
            results = invocation.get_artifact("sources.json").get("results", [])
        finally:
            shutil.rmtree(invocation.target_path, ignore_errors=True)
        by_table = {result["unique_id"].split(".")[-1]: result for result in results}
        for table in SOURCE_TABLES:
            result = by_table.get(table)
            yield observation(table, result)

    return itsm_source_freshness


def observation(table: str, result: dict[str, Any] | None) -> dg.ObserveResult:
    """dbt's freshness result for one table as an observation with its check."""
    key = dg.AssetKey([SOURCE_NAME, table])
    if result is None:
        return dg.ObserveResult(asset_key=key, check_results=[dg.AssetCheckResult(
            asset_key=key, check_name=CHECK_NAME, passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"error": "dbt returned no freshness result for this table"})])
    status = str(result.get("status"))
    metadata: dict[str, Any] = {"dbt_freshness_status": status}
    if result.get("max_loaded_at"):
        loaded = datetime.fromisoformat(str(result["max_loaded_at"]))
        metadata["dagster/last_updated_timestamp"] = dg.MetadataValue.timestamp(loaded)
        metadata["hours_since_last_row"] = round(
            float(result.get("max_loaded_at_time_ago_in_s") or 0) / 3600, 1)
    if result.get("message"):
        metadata["message"] = str(result["message"])
    return dg.ObserveResult(
        asset_key=key,
        metadata=metadata,
        check_results=[dg.AssetCheckResult(
            asset_key=key, check_name=CHECK_NAME, passed=status == "pass",
            severity=(dg.AssetCheckSeverity.WARN if status == "warn"
                      else dg.AssetCheckSeverity.ERROR),
            metadata=metadata,
        )],
    )


def build_freshness_schedule(observations: dg.AssetsDefinition,
                             schedule_timezone: str) -> dg.ScheduleDefinition:
    job = dg.define_asset_job("kpi_source_freshness_job", selection=[observations],
                              description="Observes the raw tables' freshness with dbt.")
    return dg.ScheduleDefinition(
        name="kpi_source_freshness_schedule", cron_schedule=OBSERVE_CRON,
        execution_timezone=schedule_timezone, job=job,
        description="Hourly: dbt source freshness of the raw tables.",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
