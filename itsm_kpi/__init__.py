"""The KPI engine's application code beside the dbt project: the `kpi` command line
(`cli.py`), the scorecard report (`report.py`), the demo-data generator (`demo_data.py`)
and the one way to reach the warehouse (`warehouse.py`). The Dagster layer
(`orchestration/`) and the tools (`tools/`) import it; it imports neither."""
