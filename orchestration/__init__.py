"""Orchestration layer of the KPI engine: the Dagster definitions (`definitions.py`) only.
The command line, the report and the demo data are the application package `itsm_kpi`.
No SQL or KPI rule lives here."""
