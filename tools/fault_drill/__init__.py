"""`make chaos` (`python -m tools.fault_drill`): the fault drill on PostgreSQL."""
