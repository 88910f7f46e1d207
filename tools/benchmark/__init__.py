"""`make bench` (`python -m tools.benchmark`): how fast the KPI engine is."""
