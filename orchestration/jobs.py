"""Jobs that write the warehouse.

- kpi_daily_job (partitioned by UTC day): one `dbt build` of everything (core, the three
  grain fact tables, marts) with the window of its day or range of days, then the
  scorecard report. Each fact table recomputes its grain's periods overlapping the window,
  so a run over yesterday and today also refreshes their weeks and months (and finalizes
  last week on Mondays, last month on the 1st); the run records those partitions.
- kpi_full_refresh_job: the same build without a window (every period), for the first
  load and recoveries, then the report.
- kpi_daily_facts_job, kpi_weekly_facts_job, kpi_monthly_facts_job: asset jobs for
  backfills and recalculations of one grain's partitions from what the core holds (the
  core is not run), then the marts and the report.
"""


from collections.abc import Callable, Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import OpExecutionContext
from dagster_dbt import DbtCliResource, DbtProject

from orchestration.assets import (
    BUILD,
    REPORT_KEY,
    WAREHOUSE_POOL,
    KpiAssets,
    publish_report,
    run_dbt,
    translator,
)
from orchestration.partitions import partition_keys_overlapping

RUN_TAGS = {"kpi/warehouse": "write"}
GRAINS = ("daily", "weekly", "monthly")


def build_dbt_build_op(
    name: str,
    description: str,
    assets: KpiAssets,
    project: DbtProject,
    window_of: Callable[[OpExecutionContext], dg.TimeWindow | None],
) -> dg.OpDefinition:
    """An op running one `dbt build` of the whole project with the window `window_of` its
    context (None: every period). dbt's events become Dagster's: each model or seed a
    materialization, each test an asset check result; a fact table's materialization is
    recorded for every partition of its grain overlapping the window (every partition
    without one). Transient database errors are retried (run_dbt)."""
    partitions = {
        key: assets_def.partitions_def
        for assets_def in assets.facts.values()
        for key in assets_def.keys
        if isinstance(assets_def.partitions_def, dg.TimeWindowPartitionsDefinition)
    }

    @dg.op(
        name=name,
        description=description,
        out={"built": dg.Out(dg.Nothing)},
        pool=WAREHOUSE_POOL,
    )
    def dbt_build(context: OpExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        window = window_of(context)
        recorded = {
            key: (partition_keys_overlapping(definition, window) if window
                  else definition.get_partition_keys())
            for key, definition in partitions.items()
        }
        events = run_dbt(context, dbt, BUILD, window=window, manifest=project.manifest_path,
                         dagster_dbt_translator=translator)
        for event in events:
            key = getattr(event, "asset_key", None)
            if isinstance(event, dg.AssetMaterialization) and key in recorded:
                for partition in recorded[key]:
                    yield dg.AssetMaterialization(
                        asset_key=key, partition=partition, metadata=event.metadata
                    )
            else:
                yield event
        yield dg.Output(None, "built")

    return dbt_build


def build_report_op(project: DbtProject) -> dg.OpDefinition:
    @dg.op(
        name="render_scorecard_report",
        description="Renders the scorecard report from the rebuilt marts.",
        ins={"built": dg.In(dg.Nothing)},
        out={},
        pool=WAREHOUSE_POOL,
    )
    def render_scorecard_report() -> Iterator[dg.AssetMaterialization]:
        yield dg.AssetMaterialization(asset_key=REPORT_KEY, metadata=publish_report(project))

    return render_scorecard_report


def build_daily_job(
    assets: KpiAssets,
    project: DbtProject,
    partitions: Mapping[str, dg.TimeWindowPartitionsDefinition],
    report: dg.OpDefinition,
) -> dg.JobDefinition:
    dbt_build_window = build_dbt_build_op(
        name="dbt_build_window",
        description=(
            "dbt build of every seed, model and test with the window of the run's day(s): "
            "the core's changed requests, the periods of each grain overlapping the window."
        ),
        assets=assets,
        project=project,
        window_of=lambda context: context.partition_time_window,
    )

    @dg.job(
        name="kpi_daily_job",
        description=(
            "What kpi_daily_schedule runs: one dbt build of the core, the daily, weekly and "
            "monthly facts and the marts, over the UTC day(s) of the partition or range "
            "(their weeks and months too), then the scorecard report."
        ),
        partitions_def=partitions["daily"],
        tags=RUN_TAGS,
    )
    def kpi_daily_job() -> None:
        report(dbt_build_window())

    return kpi_daily_job


def build_full_refresh_job(
    assets: KpiAssets, project: DbtProject, report: dg.OpDefinition
) -> dg.JobDefinition:
    """Every period of the fact tables is recomputed, each table in one delete + insert
    transaction (not `--full-refresh`, whose table swap drops the fct_kpi_values view for a
    while and can deadlock with readers), so BI readers see the old rows or the new ones.
    Each fact partition is recorded as materialized."""
    dbt_build_full_refresh = build_dbt_build_op(
        name="dbt_build_full_refresh",
        description="dbt build of every seed, model and test, every period recomputed.",
        assets=assets,
        project=project,
        window_of=lambda context: None,
    )

    @dg.job(
        name="kpi_full_refresh_job",
        description=(
            "First load and recoveries: recomputes everything from the raw tables, in "
            "place. (A change of the fact tables' columns needs `dbt build "
            "--full-refresh` by hand.)"
        ),
        tags=RUN_TAGS,
    )
    def kpi_full_refresh_job() -> None:
        report(dbt_build_full_refresh())

    return kpi_full_refresh_job


def build_facts_jobs(assets: KpiAssets) -> list[Any]:
    """Per grain: its fact asset (one run per range: single-run backfill policy), the
    marts and the report. The core is not in it: a recalculation reads what the last
    daily or full refresh run left there."""
    return [
        dg.define_asset_job(
            name=f"kpi_{grain}_facts_job",
            description=(
                f"Backfill or recalculation of {grain} partitions (UTC): recomputes their "
                "facts from the core as it stands (run config `kpis` restricts the KPIs), "
                "rebuilds the marts and renders the scorecard report."
            ),
            # partitioned like the grain's facts (Dagster infers it from them)
            selection=dg.AssetSelection.assets(assets.facts[grain], assets.marts, assets.report),
            tags=RUN_TAGS,
        )
        for grain in GRAINS
    ]


def build_jobs(
    assets: KpiAssets,
    project: DbtProject,
    partitions: Mapping[str, dg.TimeWindowPartitionsDefinition],
) -> dict[str, Any]:
    """Every job that writes the warehouse, by name."""
    report = build_report_op(project)
    jobs: list[Any] = [
        build_daily_job(assets, project, partitions, report),
        build_full_refresh_job(assets, project, report),
        *build_facts_jobs(assets),
    ]
    return {job.name: job for job in jobs}
