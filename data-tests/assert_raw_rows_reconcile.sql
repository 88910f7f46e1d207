-- Nothing is lost silently: for every raw table, the rows read equal the rows accepted
-- plus the rows rejected. Returns the tables that do not add up.
select
    source_table,
    raw_rows,
    accepted_rows,
    rejected_rows,
    raw_rows - accepted_rows - rejected_rows as unaccounted_rows
from {{ ref('raw_data_quality') }}
where raw_rows <> accepted_rows + rejected_rows
