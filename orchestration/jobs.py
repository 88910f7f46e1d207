"""Jobs: one per grain (the warehouse core, that grain's fact table, the marts, the
scorecard report), and the full refresh (no partitions) for the first load and recoveries,
which renders the report too."""


import shutil
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import OpExecutionContext
from dagster_dbt import DbtCliResource, DbtProject

from itsm_kpi.environment import patched_env
from orchestration.assets import (
    BUILD,
    GRAIN_TAG,
    REPORT_KEY,
    WAREHOUSE_POOL,
    KpiAssets,
    _run_as_of,
    publish_report,
    raise_for_failure,
    translator,
)

RUN_TAGS = {"kpi/warehouse": "write"}


def build_grain_jobs(
    assets: KpiAssets,
    partitions: Mapping[str, dg.TimeWindowPartitionsDefinition],
) -> dict[str, Any]:
    return {
        grain: dg.define_asset_job(
            name=f"kpi_{grain}_job",
            description=(
                f"Refreshes the warehouse core, recomputes the {grain} KPI facts of the "
                f"selected {grain} partition(s) (UTC), rebuilds the marts and renders the "
                "scorecard report."
            ),
            selection=dg.AssetSelection.assets(
                assets.core, assets.facts[grain], assets.marts, assets.report
            ),
            partitions_def=partitions[grain],
            tags={**RUN_TAGS, GRAIN_TAG: grain},
        )
        for grain in ("daily", "weekly", "monthly")
    }


def build_full_refresh_job(assets: KpiAssets, project: DbtProject) -> dg.JobDefinition:
    """`dbt build` of the whole project in one step, without a window: every period of the
    fact tables is recomputed, each table in one delete + insert transaction (not
    `--full-refresh`, whose table swap drops the fct_kpi_values view for a while and can
    deadlock with readers), so BI readers see the old rows or the new ones. Each fact
    partition is recorded as materialized. Transient database errors are retried. Then
    the scorecard report is rendered (recorded as the report asset's materialization)."""
    partitioned = {
        key: assets_def.partitions_def
        for assets_def in assets.facts.values()
        for key in assets_def.keys
    }

    @dg.op(
        name="dbt_build_full_refresh",
        description="dbt build of every seed, model and test, every period recomputed.",
        out={"built": dg.Out(dg.Nothing)},
        pool=WAREHOUSE_POOL,
    )
    def dbt_build_full_refresh(
        context: OpExecutionContext, dbt: DbtCliResource
    ) -> Iterator[Any]:
        # no window and no KPI restriction: everything is recomputed
        everything = {"KPI_MIN_DATE": "", "KPI_MAX_DATE": "", "KPI_ONLY": ""}
        with patched_env({"KPI_AS_OF": _run_as_of(context), **everything}):
            invocation = dbt.cli(
                BUILD,
                manifest=project.manifest_path,
                dagster_dbt_translator=translator,
                context=context,
                raise_on_error=False,
            )
        try:
            for event in invocation.stream():
                key = getattr(event, "asset_key", None)
                if isinstance(event, dg.AssetMaterialization) and key in partitioned:
                    for partition in partitioned[key].get_partition_keys():
                        yield dg.AssetMaterialization(
                            asset_key=key, partition=partition, metadata=event.metadata
                        )
                else:
                    yield event
            raise_for_failure(context, invocation)
            yield dg.Output(None, "built")
        finally:
            shutil.rmtree(invocation.target_path, ignore_errors=True)

    @dg.op(
        name="render_scorecard_report",
        description="Renders the scorecard report from the rebuilt marts.",
        ins={"built": dg.In(dg.Nothing)},
        out={},
        pool=WAREHOUSE_POOL,
    )
    def render_scorecard_report() -> Iterator[dg.AssetMaterialization]:
        yield dg.AssetMaterialization(asset_key=REPORT_KEY, metadata=publish_report(project))

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
        render_scorecard_report(dbt_build_full_refresh())

    return kpi_full_refresh_job
