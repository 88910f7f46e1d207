"""Operational settings of the Dagster layer, read from the environment once."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    partitions_start: str = "2025-01-01"  # first UTC day of the partitions
    # first UTC day after the partitions ('' = none: they run to the current period);
    # for a history that stops (an archived source, a replay of a past snapshot)
    partitions_end: str = ""
    schedule_timezone: str = "UTC"  # timezone of the schedules' cron

    @classmethod
    def from_env(cls) -> Settings:
        settings = cls(
            partitions_start=os.environ.get("KPI_PARTITIONS_START", cls.partitions_start),
            partitions_end=os.environ.get("KPI_PARTITIONS_END", cls.partitions_end).strip(),
            schedule_timezone=os.environ.get("KPI_SCHEDULE_TIMEZONE", cls.schedule_timezone),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.partitions_start):
            raise SettingsError(
                "KPI_PARTITIONS_START must be a date like 2025-01-01, "
                f"got {self.partitions_start!r}"
            )
        if self.partitions_end and not (
                re.fullmatch(r"\d{4}-\d{2}-\d{2}", self.partitions_end)
                and self.partitions_end > self.partitions_start):
            raise SettingsError(
                "KPI_PARTITIONS_END must be empty or a date like 2026-01-01 after "
                f"KPI_PARTITIONS_START ({self.partitions_start}), got {self.partitions_end!r}"
            )
        try:
            ZoneInfo(self.schedule_timezone)
        except Exception as error:  # ZoneInfoNotFoundError, ValueError
            raise SettingsError(
                f"KPI_SCHEDULE_TIMEZONE must be an IANA timezone, got {self.schedule_timezone!r}"
            ) from error
