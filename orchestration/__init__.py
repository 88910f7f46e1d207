"""Orchestration layer of the KPI engine: the CLI and the demo-data generator (the Dagster
definitions come with the orchestration issue)."""
