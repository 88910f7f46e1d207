"""Tools around the KPI engine (the benchmark, the fault drill): they import the product,
the application package `itsm_kpi` and the Dagster layer `orchestration`, and run its
real jobs rather than copies of its code."""
