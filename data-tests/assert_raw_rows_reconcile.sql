-- Nothing is lost silently: for every raw table, the rows read equal the rows accepted
-- plus the rows rejected. Returns the tables that do not add up. On a windowed run, raw
-- rows dated before the window (its start moved back by lookback_days) that arrived since
-- the last run are not read by the incremental core: backfill their dates (the Dagster
-- job of that grain), or run kpi_full_refresh_job.
select
    source_table,
    raw_rows,
    accepted_rows,
    rejected_rows,
    raw_rows - accepted_rows - rejected_rows as unaccounted_rows,
    'raw rows dated before this run' || chr(39) || 's window arrived late, or rows were removed: '
        || 'backfill their dates or run kpi_full_refresh_job' as hint
from {{ ref('raw_data_quality') }}
where raw_rows <> accepted_rows + rejected_rows
