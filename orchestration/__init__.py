"""Orchestration layer of the KPI engine: the Dagster definitions (`definitions.py`), the
`kpi` command line and the demo-data generator. No SQL or KPI rule lives here."""
