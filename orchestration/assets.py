"""Every dbt seed, model and source as a Dagster asset, dbt tests as asset checks.

Five dbt asset definitions, because Dagster runs one partitions definition per step:
- `kpi_core`: seeds, staging and intermediate models, dim_kpi and the data-quality marts
  (rejected_raw_rows, flagged_raw_rows, raw_data_quality; not partitioned): materialized
  alone, a full rebuild of the core;
- `kpi_daily_facts`, `kpi_weekly_facts`, `kpi_monthly_facts`: the fact table of each
  grain, partitioned by UTC day, Monday week and month; a partition (or a range, in one
  run) is passed to dbt as the recompute window KPI_MIN_DATE / KPI_MAX_DATE, and
  recomputed from what the core holds (the core is not run);
- `kpi_marts`: fct_kpi_values (the union view), kpi_scorecard, tenant_kpi_status,
  kpi_scorecard_trend, fct_kpi_breakdowns (every grain's periods: without a window when
  materialized alone).
And one asset outside dbt, `reports/kpi_scorecard_report`: the HTML scorecard rendered from
the marts (itsm_kpi/report.py), depending on exactly those it reads (report.MARTS_READ).
The scheduled run does not go through these steps: kpi_daily_job (jobs.py) builds all of
them in one dbt invocation and records their materializations.
Dagster decides when and which window; dbt decides what.
"""


import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import (
    DagsterDbtTranslator,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from itsm_kpi import report
from itsm_kpi.environment import patched_env

FACT_MODELS = {
    "daily": "fct_kpi_values_daily",
    "weekly": "fct_kpi_values_weekly",
    "monthly": "fct_kpi_values_monthly",
}
# fct_kpi_breakdowns is with the marts, not the core: a backfill or recalculation of a
# grain's facts (kpi_<grain>_facts_job) rebuilds it from the facts' inputs as they stand
MART_MODELS = ("fct_kpi_values kpi_scorecard tenant_kpi_status kpi_scorecard_trend "
               "fct_kpi_breakdowns dora_scorecard "
               "alert_routes kpi_status_history kpi_status_transitions kpi_alerts")
CORE_EXCLUDE = f"tag:kpi_facts {MART_MODELS}"
# every dbt step takes the warehouse pool: with a limit of 1 (dagster.yaml), two runs
# never write the same warehouse at once (DuckDB also allows a single writer)
WAREHOUSE_POOL = "kpi_warehouse"
# errors worth a retry: the database went away, not the data or the SQL
TRANSIENT_ERROR = re.compile(
    r"could not connect|connection (refused|reset|already closed|timed out)"
    r"|server closed the connection|terminating connection|ssl syscall error"
    r"|could not set lock|database is locked|timeout expired|connection to server"
    r"|deadlock detected|could not serialize access",
    re.IGNORECASE,
)
TRANSIENT_RETRIES = 3
# dagster-dbt logs "A dbt subsetted execution is not being performed. Using the default dbt
# selection arguments [...]" (INFO, on the dagster.builtin logger) whenever one of the asset
# definitions below runs whole: Materialize all, a fact partition, a grain's facts job. That
# is the normal case (dbt gets the definition's own --select / --exclude, which the "Running
# dbt command" line shows anyway), not a failed subset, but it reads like one. Only that
# note is dropped; a subset run's "... is being performed" note with its arguments stays.
FULL_SELECTION_NOTE = "A dbt subsetted execution is not being performed"


def _not_full_selection_note(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(FULL_SELECTION_NOTE)


logging.getLogger("dagster.builtin").addFilter(_not_full_selection_note)

# what every scheduled step runs: dbt unit tests check the SQL logic on fixed inputs, so
# they belong to CI (`make test`), not to each production refresh (dbt's own advice)
BUILD = ["build", "--exclude-resource-type", "unit_test"]


# the `where` placeholder of the intermediate models' tests (dbt_project.yml, macro
# rows_of_this_run): on a model with a meta.replace_scope, the rows a windowed run replaced
ROWS_OF_THIS_RUN = "__rows_of_this_run__"


def _node(manifest: Mapping[str, Any], unique_id: str | None) -> Mapping[str, Any]:
    return manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id) or {}


def _listed(values: Any) -> str:
    return ", ".join(map(str, values)) if isinstance(values, list | tuple) else str(values)


def check_description(manifest: Mapping[str, Any], unique_id: str) -> str:
    """What the dbt test `unique_id` checks, as its asset check says it: the description
    written in the yml (dbt's `description`, else meta.description, which is all
    dagster-dbt reads), else one built from a generic test's name and arguments, such as
    "unique_combination_of_columns: tenant_id, kpi_name, period_start of
    fct_kpi_values_daily" or "accepted_values: status of kpi_scorecard in GREEN, YELLOW,
    RED, NO_DATA"."""
    test = manifest["nodes"][unique_id]
    config = test.get("config") or {}
    written = test.get("description") or (config.get("meta") or {}).get("description")
    if written:
        return " ".join(str(written).split())
    metadata = test.get("test_metadata") or {}
    arguments = {key: value for key, value in (metadata.get("kwargs") or {}).items()
                 if key not in ("model", "quote")}
    columns = arguments.pop("column_name", None) or arguments.pop("combination_of_columns",
                                                                   None)
    attached = _node(manifest, test.get("attached_node"))
    subject = str(attached.get("name") or test.get("attached_node"))
    text = f"{metadata.get('name') or test['name']}: "
    text += f"{_listed(columns)} of {subject}" if columns else subject
    if "values" in arguments:
        text += f" in {_listed(arguments.pop('values'))}"
    if "to" in arguments and "field" in arguments:
        found = re.search(r"""ref\(\s*['"]([^'"]+)['"]""", str(arguments["to"]))
        text += f" in {found.group(1) if found else arguments['to']}.{arguments['field']}"
        del arguments["to"], arguments["field"]
    text += "".join(f"; {key}: {_listed(value)}" for key, value in arguments.items())
    where = config.get("where")
    if where == ROWS_OF_THIS_RUN:
        scoped = ((attached.get("config") or {}).get("meta") or {}).get("replace_scope")
        text += " (on a windowed run, the rows it replaced)" if scoped else ""
    elif where:
        text += f" (where {where})"
    return text


class KpiTranslator(DagsterDbtTranslator):
    """Groups assets by layer: raw (sources), seeds, staging, intermediate, marts; every
    dbt test's asset check carries a description (check_description)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            return "raw"
        if resource_type == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "default"

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=check_description(manifest, unique_id),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
        )


translator = KpiTranslator()


def run_as_of(context: AssetExecutionContext | dg.OpExecutionContext) -> str:
    """One as_of for every dbt step of a run (its start), unless KPI_AS_OF is set."""
    if os.environ.get("KPI_AS_OF"):
        return os.environ["KPI_AS_OF"]
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record and record.start_time else None
    moment = (
        datetime.fromtimestamp(started, timezone.utc) if started else datetime.now(timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_transient_error(text: str) -> bool:
    """True when a dbt failure reads like the database went away rather than bad SQL or
    data: worth a retry."""
    return bool(TRANSIENT_ERROR.search(text))


class FactsConfig(dg.Config):
    """Run configuration of the fact-table assets."""

    kpis: list[str] = []  # recompute only these KPIs (a manual recalculation); empty: all


def run_dbt(
    context: AssetExecutionContext | dg.OpExecutionContext,
    dbt: DbtCliResource,
    args: list[str],
    window: dg.TimeWindow | None = None,
    kpis: list[str] | None = None,
    **cli_options: Any,
) -> Iterator[Any]:
    """Streams a dbt command's events. The run's settings go through environment variables
    (they keep dbt's partial parsing), every one of them set, so nothing is inherited from
    the process: as_of, the window [start, end) (empty: every period) and the KPIs (empty:
    all). Retries transient database errors; removes the invocation's target folder
    afterwards, so they do not pile up; dbt writes no dbt.log there (dagster-dbt points
    DBT_LOG_PATH at that folder: a debug line per query and event, about 7 % of a
    build's CPU, deleted with it; the run's events and errors reach Dagster's log from
    dbt's JSON output). `cli_options` go to DbtCliResource.cli (an op passes the manifest
    and translator an asset definition gives by itself)."""
    env = {"KPI_AS_OF": run_as_of(context), "KPI_MIN_DATE": "", "KPI_MAX_DATE": "",
           "KPI_ONLY": ",".join(kpis or []), "DBT_LOG_LEVEL_FILE": "none"}
    if window is not None:
        env["KPI_MIN_DATE"] = window.start.strftime("%Y-%m-%d")
        env["KPI_MAX_DATE"] = window.end.strftime("%Y-%m-%d")
        context.log.info(f"recompute window [{env['KPI_MIN_DATE']}, {env['KPI_MAX_DATE']}) UTC")
    if kpis:
        context.log.info(f"recomputing only {env['KPI_ONLY']}")
    with patched_env(env):
        invocation = dbt.cli(args, context=context, raise_on_error=False, **cli_options)
    try:
        yield from invocation.stream()
        raise_for_failure(context, invocation)
    finally:
        shutil.rmtree(invocation.target_path, ignore_errors=True)


def raise_for_failure(
    context: AssetExecutionContext | dg.OpExecutionContext, invocation: Any
) -> None:
    """Nothing when the dbt invocation succeeded; RetryRequested when it failed on a
    transient database error (the step is retried); else the dbt error."""
    if invocation.is_successful():
        return
    error = invocation.get_error() or DagsterDbtCliRuntimeError("dbt failed")
    messages = " ".join(
        str(result.get("message") or "")
        for result in (_run_results(invocation) or {}).get("results", [])
    )
    if is_transient_error(f"{error} {messages}"):
        context.log.warning(f"transient database error, retrying: {error}")
        raise dg.RetryRequested(max_retries=TRANSIENT_RETRIES, seconds_to_wait=10) from error
    raise error


def _run_results(invocation: Any) -> dict[str, Any] | None:
    try:
        return invocation.get_artifact("run_results.json")
    except Exception:  # no artifact when dbt failed before running anything
        return None


REPORT_KEY = dg.AssetKey(["reports", "kpi_scorecard_report"])


def publish_report(project: DbtProject) -> dict[str, Any]:
    """Renders the scorecard report from the marts of the project's target (into
    KPI_REPORT_DIR) and returns its materialization metadata: the asset and the report op
    of the daily and full refresh jobs share it."""
    written = report.publish(project.target, base=Path(project.project_dir))
    return {
        **{f"path_{language}": dg.MetadataValue.path(str(path))
           for language, path in written.paths.items()},
        "tenant_count": dg.MetadataValue.int(written.tenant_count),
        **{f"tenants_{status.lower()}": dg.MetadataValue.int(count)
           for status, count in written.status_counts.items()},
        "summary": dg.MetadataValue.md(written.markdown),
    }


def build_report_asset(project: DbtProject, marts: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """The report asset, depending on exactly the marts report.py reads (MARTS_READ; keys
    by the manifest behind `marts`, so open_request_aging and dim_kpi, built with the
    core, too)."""

    @dg.asset(
        key=REPORT_KEY,
        deps=[get_asset_key_for_model([marts], name) for name in report.MARTS_READ],
        group_name="reports",
        kinds={"html"},
        description=(
            "The scorecard report people look at: per tenant, each KPI's traffic light, value "
            "against target and a 12-period trend; scorecard.en.html and scorecard.ko.html "
            "in KPI_REPORT_DIR (default reports/)."
        ),
        # reads the warehouse: not while a run writes it (DuckDB: one writer, no reader)
        pool=WAREHOUSE_POOL,
    )
    def kpi_scorecard_report() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=publish_report(project))

    return kpi_scorecard_report


@dataclass(frozen=True)
class KpiAssets:
    core: dg.AssetsDefinition
    facts: dict[str, dg.AssetsDefinition]  # by grain
    marts: dg.AssetsDefinition
    report: dg.AssetsDefinition

    def all(self) -> list[dg.AssetsDefinition]:
        return [self.core, *self.facts.values(), self.marts, self.report]


def build_assets(
    project: DbtProject,
    partitions: Mapping[str, dg.TimeWindowPartitionsDefinition],
) -> KpiAssets:
    """The five dbt asset definitions of `project` and the report; a backfill of a fact
    table's range runs once, with the whole range as the window. A fact asset depends on
    the core (int_kpi__period_values) in the lineage, but does not run it."""

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        exclude=CORE_EXCLUDE,
        name="kpi_core",
        dagster_dbt_translator=translator,
        pool=WAREHOUSE_POOL,
    )
    def kpi_core(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        # materialized alone, the core has no window: a full rebuild (the daily job's
        # single dbt build gives it the run's window)
        yield from run_dbt(context, dbt, BUILD)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=MART_MODELS,
        name="kpi_marts",
        dagster_dbt_translator=translator,
        pool=WAREHOUSE_POOL,
    )
    def kpi_marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from run_dbt(context, dbt, BUILD)

    facts: dict[str, dg.AssetsDefinition] = {}
    for grain, model in FACT_MODELS.items():

        @dbt_assets(
            manifest=project.manifest_path,
            project=project,
            select=model,
            name=f"kpi_{grain}_facts",
            partitions_def=partitions[grain],
            backfill_policy=dg.BackfillPolicy.single_run(),
            dagster_dbt_translator=translator,
            pool=WAREHOUSE_POOL,
        )
        def fact_assets(
            context: AssetExecutionContext, dbt: DbtCliResource, config: FactsConfig
        ) -> Iterator[Any]:
            yield from run_dbt(
                context, dbt, BUILD, window=context.partition_time_window, kpis=config.kpis
            )

        facts[grain] = fact_assets
    return KpiAssets(core=kpi_core, facts=facts, marts=kpi_marts,
                     report=build_report_asset(project, kpi_marts))
