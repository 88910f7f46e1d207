"""Plain-Python reference implementation (an oracle) of the KPI specification.

It is written from the specification only (issue 2: raw contract, seeds contract, time,
a request's history, the five KPIs, targets and traffic lights, outputs), independently of
the dbt SQL, so that tests can compare the marts built by dbt with what it computes.

Standard library only. Raw rows are dicts keyed by the raw contract's column names with
timestamps as naive ``datetime`` in UTC (aware datetimes are converted to naive UTC).

Entry points:

* ``compute(...) -> Result``: ``fct_kpi_values``, ``kpi_scorecard`` and ``tenant_kpi_status``
  as dicts (see ``Result``), plus per-request derived facts for debugging.
* ``load_seeds(seed_dir)``: the CSV seeds of SEED_NAMES with their types converted.
* ``round_half_up(x, decimals)`` and ``traffic_light(...)``: the rounding and status rules.
* ``is_production(...)``, ``attribute_incidents(...)``, ``dora_level(...)`` and
  ``overall_level(...)``: the DORA rules of issue 16 (production deployments, incident
  attribution, performance levels); ``compute`` measures the five DORA KPIs with them and
  fills ``Result.dora_scorecard``.
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from math import fsum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

UTC = timezone.utc
GRAINS = ("DAILY", "WEEKLY", "MONTHLY")
CLOSED_STATUSES = frozenset({"DONE", "CANCELLED"})
FINISHED_DEPLOYMENT_STATUSES = frozenset({"DEPLOYED", "FAILED", "ROLLED_BACK"})
DORA_KPIS = (
    "DEPLOYMENT_FREQUENCY", "CHANGE_LEAD_TIME", "CHANGE_FAILURE_RATE",
    "FAILED_DEPLOYMENT_RECOVERY_TIME", "DEPLOYMENT_REWORK_RATE",
)
BUILTIN_KPIS = (
    "MTTR", "MTTR_MEDIAN", "MTTR_P90", "FCR", "SLA_COMPLIANCE", "SR_BACKLOG",
    "DEPLOY_SUCCESS_RATE", *DORA_KPIS,
)
# issue 16: the shipped deployment_environments rows (blank tenant: every tenant)
SHIPPED_DEPLOYMENT_ENVIRONMENTS = (
    {"tenant_id": None, "environment": "production", "is_production": True},
    {"tenant_id": None, "environment": "prod", "is_production": True},
)
DORA_LEVELS = ("ELITE", "HIGH", "MEDIUM", "LOW")  # level_rank 1 .. 4
# issue 16: benchmark set DORA_2023, each KPI's thresholds in DORA_LEVELS order (None: the
# catch-all); DEPLOYMENT_FREQUENCY is higher-better, the others lower-better
DORA_2023 = {
    "CHANGE_LEAD_TIME": (24.0, 168.0, 720.0, None),
    "CHANGE_FAILURE_RATE": (5.0, 10.0, 15.0, None),
    "FAILED_DEPLOYMENT_RECOVERY_TIME": (1.0, 24.0, 168.0, None),
    "DEPLOYMENT_FREQUENCY": (7.0, 1.0, 0.23, None),
}
# the dora_scorecard's value columns, and the level column of the four with levels
DORA_VALUE_COLUMNS = {
    "DEPLOYMENT_FREQUENCY": "deployment_frequency",
    "CHANGE_LEAD_TIME": "change_lead_time_hours",
    "CHANGE_FAILURE_RATE": "change_failure_rate_pct",
    "FAILED_DEPLOYMENT_RECOVERY_TIME": "failed_deployment_recovery_time_hours",
    "DEPLOYMENT_REWORK_RATE": "deployment_rework_rate_pct",
}
DORA_LEVEL_COLUMNS = {
    "DEPLOYMENT_FREQUENCY": "deployment_frequency_level",
    "CHANGE_LEAD_TIME": "change_lead_time_level",
    "CHANGE_FAILURE_RATE": "change_failure_rate_level",
    "FAILED_DEPLOYMENT_RECOVERY_TIME": "failed_deployment_recovery_time_level",
}

DEFAULT_GREEN_PCT = 95.0
DEFAULT_YELLOW_PCT = 80.0
DEFAULT_LOWER_BETTER_YELLOW_RATIO = 1.2


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    # (tenant_id, kpi_name, grain, period_start) -> period_end, is_complete, value, numerator,
    # denominator, target, direction, achievement_pct, status
    kpi_values: dict[tuple[int, str, str, date], dict] = field(default_factory=dict)
    # (tenant_id, kpi_name) -> grain, period_start, value, target, achievement_pct, status,
    # previous_period_start, previous_value, previous_status
    scorecard: dict[tuple[int, str], dict] = field(default_factory=dict)
    # tenant_id -> green_count, yellow_count, red_count, no_data_count, overall_status
    tenant_status: dict[int, dict] = field(default_factory=dict)
    # sr_id -> tenant_id, request_type, priority, created_at, last_status, is_resolved,
    # resolved_at (resolution time or None), reopen_count, assignee_count, on_hold_hours,
    # open_intervals (the cutoff ranges (a, b] in which it counts in SR_BACKLOG)
    request_facts: dict[int, dict] = field(default_factory=dict)
    # (tenant_id, kpi_name, ("sr", sr_id) or ("deployment", deployment_id)) -> local_date,
    # measured_value: every measurement counted in a flow KPI (fct_kpi_contributions)
    contributions: dict[tuple[int, str, tuple[str, int]], dict] = field(default_factory=dict)
    # sr_id -> the production deployment that caused the incident (None: none), for every
    # incident created at or before as_of
    incident_causes: dict[int, int | None] = field(default_factory=dict)
    # (tenant_id, grain, period_start, service) -> period_end, is_complete, the five values
    # and four levels (DORA_VALUE_COLUMNS, DORA_LEVEL_COLUMNS), overall_level; service None
    # is the tenant's total
    dora_scorecard: dict[tuple[int, str, date, str | None], dict] = field(
        default_factory=dict)


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def round_half_up(x: float | int | None, decimals: int | None) -> float | None:
    """Round half away from zero on the decimal value of ``x`` (2.675 -> 2.68): its shortest
    repr, first taken to 10 decimals so that binary floating-point error in a computed
    value (77.8 / 80 * 100 = 97.24999999999999) does not decide a tie (97.25 -> 97.3)."""
    if x is None:
        return None
    if decimals is None:
        return float(x)
    d = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-10), rounding=ROUND_HALF_UP)
    q = Decimal(1).scaleb(-int(decimals))
    return float(d.quantize(q, rounding=ROUND_HALF_UP))


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """The continuous percentile of ``values`` (SQL's percentile_cont): sorted, the value
    at 0-based position fraction x (n - 1), linearly interpolated between the two values
    around it; None without values. The position is worked out in decimals, so 0.9 x 10
    is exactly 9."""
    if not values:
        return None
    ordered = sorted(values)
    position = Decimal(str(fraction)) * (len(ordered) - 1)
    lower = int(position)  # floor: position >= 0
    upper = min(lower + 1, len(ordered) - 1)
    weight = float(position - lower)
    return ordered[lower] + weight * (ordered[upper] - ordered[lower])


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def hours_between(start: datetime, end: datetime) -> float:
    """Exact elapsed time in hours (integer microseconds / 3.6e9, one float rounding)."""
    return _micros(end - start) / 3_600_000_000


def _naive_utc(ts: Any) -> datetime | None:
    if ts is None or ts == "":
        return None
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    elif isinstance(ts, date) and not isinstance(ts, datetime):
        ts = datetime.combine(ts, time())
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _as_bool(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        s = v.strip().lower()
        if s in ("true", "t", "1", "yes", "y"):
            return True
        if s in ("false", "f", "0", "no", "n"):
            return False
        raise ValueError(f"not a boolean: {v!r}")
    return bool(v)


def _as_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


def _as_int(v: Any) -> int | None:
    if v is None or v == "":
        return None
    return int(v)


def _as_date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return date.fromisoformat(str(v).strip())


# --------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------


def period_start_of(local_day: date, grain: str) -> date:
    if grain == "DAILY":
        return local_day
    if grain == "WEEKLY":
        return local_day - timedelta(days=local_day.weekday())
    if grain == "MONTHLY":
        return local_day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


def next_period_start(start: date, grain: str) -> date:
    if grain == "DAILY":
        return start + timedelta(days=1)
    if grain == "WEEKLY":
        return start + timedelta(days=7)
    if grain == "MONTHLY":
        return date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def previous_period_start(start: date, grain: str) -> date:
    if grain == "DAILY":
        return start - timedelta(days=1)
    if grain == "WEEKLY":
        return start - timedelta(days=7)
    if grain == "MONTHLY":
        return (start - timedelta(days=1)).replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


class _TenantClock:
    """UTC <-> tenant-local conversions for one timezone, with small caches."""

    def __init__(self, tz_name: str):
        self.tz = ZoneInfo(tz_name)
        self._midnight_cache: dict[date, datetime] = {}

    def local_day(self, ts_utc: datetime) -> date:
        return ts_utc.replace(tzinfo=UTC).astimezone(self.tz).date()

    def local_midnight_utc(self, day: date) -> datetime:
        """Local midnight of ``day`` as a naive UTC instant (fold=0 for ambiguous/gap)."""
        got = self._midnight_cache.get(day)
        if got is None:
            got = datetime.combine(day, time(), tzinfo=self.tz).astimezone(UTC)
            got = got.replace(tzinfo=None)
            self._midnight_cache[day] = got
        return got


# --------------------------------------------------------------------------------------
# Traffic lights
# --------------------------------------------------------------------------------------


def traffic_light(
    value: float | None,
    target: float,
    direction: str,
    green_pct: float = DEFAULT_GREEN_PCT,
    yellow_pct: float = DEFAULT_YELLOW_PCT,
    lower_better_yellow_ratio: float = DEFAULT_LOWER_BETTER_YELLOW_RATIO,
) -> tuple[float | None, str]:
    """Return (achievement_pct rounded to 1 decimal, status) for an already rounded value.

    Thresholds are compared in exact decimals (value x 100 >= 95 x target; value <= 1.2 x
    target), as written, not through binary floats (1.2 * 3 = 3.5999999999999996)."""
    if value is None:
        return None, "NO_DATA"
    dv, dt = Decimal(repr(float(value))), Decimal(repr(float(target)))
    if direction == "HIGHER_BETTER":
        if not target > 0:
            raise ValueError(f"HIGHER_BETTER target must be > 0, got {target!r}")
        raw = value / target * 100
        if dv * 100 >= Decimal(repr(float(green_pct))) * dt:
            status = "GREEN"
        elif dv * 100 >= Decimal(repr(float(yellow_pct))) * dt:
            status = "YELLOW"
        else:
            status = "RED"
        return round_half_up(raw, 1), status
    if direction == "LOWER_BETTER":
        if dv <= dt:
            return 100.0, "GREEN"
        raw = target / value * 100  # value > target >= 0 here, so value > 0
        ratio = Decimal(repr(float(lower_better_yellow_ratio)))
        status = "YELLOW" if dv <= ratio * dt else "RED"
        return round_half_up(raw, 1), status
    raise ValueError(f"unknown direction {direction!r}")


# --------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------

_INT_COLUMNS = {"tenant_id", "value_decimals", "level_rank"}
_FLOAT_COLUMNS = {
    "percentile",
    "default_target",
    "target",
    "resolution_hours",
    "value_multiplier",
    "green_threshold_pct",
    "yellow_threshold_pct",
    "lower_better_yellow_ratio",
    "threshold",
}
_DATE_COLUMNS = {"valid_from", "valid_to"}
_BOOL_COLUMNS = {"is_enabled", "pause_on_hold", "is_builtin", "is_production"}
SEED_NAMES = ("tenants", "kpi_definitions", "kpi_targets", "sla_policies",
              "deployment_environments", "dora_benchmarks", "business_calendars", "holidays")


def _convert_seed_value(column: str, raw: str | None) -> Any:
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "":
        return None
    if column in _INT_COLUMNS or column.endswith("_id"):
        return int(raw)
    if column in _FLOAT_COLUMNS:
        return float(raw)
    if column in _DATE_COLUMNS:
        return date.fromisoformat(raw)
    if column in _BOOL_COLUMNS or raw.lower() in ("true", "false"):
        return _as_bool(raw)
    return raw


def load_seeds(seed_dir: Path | str) -> dict[str, list[dict]]:
    """Read the seeds' CSVs (SEED_NAMES) with typed values; a missing file is no rows."""
    seed_dir = Path(seed_dir)
    out: dict[str, list[dict]] = {}
    for name in SEED_NAMES:
        path = seed_dir / f"{name}.csv"
        rows: list[dict] = []
        if path.exists():
            with path.open(newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    rows.append({k: _convert_seed_value(k, v) for k, v in row.items()})
        out[name] = rows
    return out


# --------------------------------------------------------------------------------------
# Request history
# --------------------------------------------------------------------------------------


def _status_timeline(req: dict, status_events: list[tuple], as_of: datetime) -> list[tuple]:
    """Sorted [(event_at, sort_key, status)] for one request (events already <= as_of)."""
    if status_events:
        return sorted(status_events, key=lambda e: (e[0], e[1]))
    created = req["created_at"]
    timeline: list[tuple] = [(created, -2, "OPEN")]
    status = req.get("status")
    if status == "DONE":
        resolved_at = _naive_utc(req.get("resolved_at"))
        if resolved_at is not None and resolved_at <= as_of:
            timeline.append((resolved_at, -1, "DONE"))
    elif status == "CANCELLED":
        updated_at = _naive_utc(req.get("updated_at"))
        if updated_at is not None and updated_at <= as_of:
            timeline.append((updated_at, -1, "CANCELLED"))
    timeline.sort(key=lambda e: (e[0], e[1]))
    return timeline


def _open_intervals(created: datetime, timeline: list[tuple]) -> list[tuple]:
    """Cutoff ranges (a, b] (b None = +inf) during which the request counts in the backlog.

    For a cutoff c the status is that of the last event with event_at < c (OPEN if none),
    and the request must have created_at < c.
    """
    points: list[tuple[datetime, str]] = []
    for t, _, s in timeline:
        if points and points[-1][0] == t:
            points[-1] = (t, s)  # same instant: the later event (by id) decides
        else:
            points.append((t, s))
    intervals: list[tuple] = []
    lower: datetime | None = None  # None = -inf
    is_open = True
    for t, s in points:
        if is_open:
            a = created if lower is None or lower < created else lower
            if a < t:
                intervals.append((a, t))
        lower = t
        is_open = s not in CLOSED_STATUSES
    if is_open:
        a = created if lower is None or lower < created else lower
        intervals.append((a, None))
    return intervals


# --------------------------------------------------------------------------------------
# DORA (issue 16): production deployments, incident attribution, levels
# --------------------------------------------------------------------------------------


def _environment_key(environment: Any) -> str | None:
    """An environment as the mapping matches it: trimmed, lower case; None when empty."""
    if environment is None:
        return None
    text = str(environment).strip().lower()
    return text or None


def production_mapping(rows: Iterable[dict]) -> dict[tuple[int | None, str], bool]:
    """deployment_environments rows as (tenant_id, None for every tenant; environment key)
    -> is_production (a later duplicate row wins)."""
    mapping: dict[tuple[int | None, str], bool] = {}
    for row in rows:
        key = _environment_key(row.get("environment"))
        if key is not None:
            mapping[(_as_int(row.get("tenant_id")), key)] = bool(
                _as_bool(row.get("is_production")))
    return mapping


def is_production(mapping: dict[tuple[int | None, str], bool], tenant_id: int,
                  environment: Any) -> bool:
    """The tenant's own row for the environment, else the every-tenant row, else not
    production."""
    key = _environment_key(environment)
    if key is None:
        return False
    own = mapping.get((tenant_id, key))
    return own if own is not None else mapping.get((None, key), False)


def _window_candidates(production: dict[int, dict]) -> dict[tuple[int, Any], list[tuple]]:
    """The DEPLOYED, finished production deployments by (tenant, service), as sorted
    (finished_at, deployment_id)."""
    found: dict[tuple[int, Any], list[tuple]] = defaultdict(list)
    for deployment_id, d in production.items():
        if d.get("status") == "DEPLOYED" and d["finished_at"] is not None \
                and d.get("service") is not None:
            found[(d["tenant_id"], d["service"])].append((d["finished_at"], deployment_id))
    for rows in found.values():
        rows.sort()
    return found


def _window_cause(request: dict, candidates: dict[tuple[int, Any], list[tuple]],
                  window_hours: float) -> int | None:
    """The latest candidate of the request's tenant and service finished at or before its
    created_at (ties: highest deployment_id), if at most window_hours before it."""
    if request.get("service") is None:
        return None
    found = candidates.get((request["tenant_id"], request["service"]), [])
    created = request["created_at"]
    position = bisect_right(found, (created, math.inf))
    if position == 0:
        return None
    finished, deployment_id = found[position - 1]
    within = _micros(created - finished) <= Decimal(str(window_hours)) * 3_600_000_000
    return deployment_id if within else None


def attribute_incidents(incidents: Iterable[dict], production: dict[int, dict],
                        window_hours: float | None = None) -> dict[int, int | None]:
    """sr_id -> the production deployment that caused the incident, or None.

    An explicit caused_by_deployment_id stands as written: the deployment when it is a
    production deployment of the incident's tenant, else none (not re-attributed). Without
    a link, and with window_hours set, the window finds it (``_window_cause``)."""
    candidates = _window_candidates(production) if window_hours is not None else {}
    causes: dict[int, int | None] = {}
    for request in incidents:
        link = _as_int(request.get("caused_by_deployment_id"))
        if link is not None:
            deployment = production.get(link)
            same_tenant = deployment is not None and deployment["tenant_id"] == request[
                "tenant_id"]
            causes[int(request["sr_id"])] = link if same_tenant else None
        elif window_hours is not None:
            causes[int(request["sr_id"])] = _window_cause(request, candidates, window_hours)
        else:
            causes[int(request["sr_id"])] = None
    return causes


def _dora_deployment_measurements(production: dict[int, dict], causes: dict[int, int | None],
                                  incident_keys: set[tuple[int, int]],
                                  as_of: datetime) -> Iterator[tuple]:
    """(tenant, KPI, measured_at, value, key, service) of every production deployment
    finished at or before as_of, for the four deployment KPIs."""
    failed = {deployment_id for deployment_id in causes.values() if deployment_id is not None}
    for deployment_id in sorted(production):
        d = production[deployment_id]
        finished, status, tid = d["finished_at"], d.get("status"), d["tenant_id"]
        if finished is None or finished > as_of:
            continue
        key, service = ("deployment", deployment_id), d.get("service")
        if status in FINISHED_DEPLOYMENT_STATUSES:
            # every finished one is measured (the tenant has a frequency), DEPLOYED counts
            yield (tid, "DEPLOYMENT_FREQUENCY", finished, 1.0 if status == "DEPLOYED" else 0.0,
                   key, service)
        if status == "DEPLOYED":
            committed = _naive_utc(d.get("commit_at"))
            if committed is not None and committed <= finished:
                yield (tid, "CHANGE_LEAD_TIME", finished, hours_between(committed, finished),
                       key, service)
            fixes = _as_int(d.get("fixes_sr_id"))
            rework = 1.0 if (tid, fixes) in incident_keys else 0.0
            yield tid, "DEPLOYMENT_REWORK_RATE", finished, rework, key, service
        if status in ("DEPLOYED", "ROLLED_BACK"):
            changed_failed = status == "ROLLED_BACK" or deployment_id in failed
            yield (tid, "CHANGE_FAILURE_RATE", finished, 1.0 if changed_failed else 0.0, key,
                   service)


def _dora_recovery_measurements(production: dict[int, dict], causes: dict[int, int | None],
                                request_facts: dict[int, dict]) -> Iterator[tuple]:
    """(tenant, KPI, measured_at, value, key, service) of every resolved incident caused
    by a finished production deployment, at its resolution; a negative duration is left
    out. The service is the causing deployment's."""
    for sr_id in sorted(causes):
        deployment_id, facts = causes[sr_id], request_facts[sr_id]
        if deployment_id is None or not facts["is_resolved"]:
            continue
        finished, resolved = production[deployment_id]["finished_at"], facts["resolved_at"]
        if finished is None or resolved < finished:
            continue
        yield (facts["tenant_id"], "FAILED_DEPLOYMENT_RECOVERY_TIME", resolved,
               hours_between(finished, resolved), ("sr", sr_id),
               production[deployment_id].get("service"))


def days_started(clock: _TenantClock, start: date, end: date, as_of: datetime) -> int:
    """The local days of the period [start, end) that start before as_of."""
    count, day = 0, start
    while day < end and clock.local_midnight_utc(day) < as_of:
        count += 1
        day += timedelta(days=1)
    return count


def service_key(service: Any) -> str:
    """A service as a breakdown shows it: trimmed, case kept, '(none)' when null or
    empty."""
    text = service.strip() if isinstance(service, str) else service
    return "(none)" if text is None or text == "" else str(text)


def benchmark_levels(rows: Iterable[dict] | None = None, benchmark_set: str = "DORA_2023",
                     ) -> dict[str, list[tuple[int, str, float | None]]]:
    """KPI -> [(level_rank, level, threshold)] of a benchmark set, best first: from
    dora_benchmarks rows, or (rows None) the issue's DORA_2023."""
    levels: dict[str, list[tuple[int, str, float | None]]] = defaultdict(list)
    if rows is None:
        if benchmark_set != "DORA_2023":
            raise ValueError(f"no built-in benchmark set {benchmark_set!r}")
        for kpi, thresholds in DORA_2023.items():
            for rank, (level, threshold) in enumerate(zip(DORA_LEVELS, thresholds,
                                                          strict=True), start=1):
                levels[kpi].append((rank, level, threshold))
    else:
        for row in rows:
            if row["benchmark_set"] == benchmark_set:
                levels[row["kpi_name"]].append(
                    (int(row["level_rank"]), row["level"], _as_float(row.get("threshold"))))
    return {kpi: sorted(found) for kpi, found in levels.items()}


def dora_level(kpi_name: str, value: float | None,
               levels: dict[str, list[tuple[int, str, float | None]]]) -> str | None:
    """The best level whose threshold the (rounded) value meets: at or below it for a
    lower-better KPI, at or above it for DEPLOYMENT_FREQUENCY; a null threshold is the
    catch-all. Null value, or a KPI without levels: None. Compared in exact decimals."""
    if value is None:
        return None
    higher_better = kpi_name == "DEPLOYMENT_FREQUENCY"
    exact = Decimal(repr(float(value)))
    for _, level, threshold in levels.get(kpi_name, ()):
        if threshold is None:
            return level
        bound = Decimal(repr(float(threshold)))
        if (exact >= bound) if higher_better else (exact <= bound):
            return level
    return None


def overall_level(levels: Iterable[str | None]) -> str | None:
    """The worst of the levels present (None when none is)."""
    present = [level for level in levels if level is not None]
    return max(present, key=DORA_LEVELS.index) if present else None


# --------------------------------------------------------------------------------------
# Main computation
# --------------------------------------------------------------------------------------


def compute(
    service_requests: list[dict],
    sr_events: list[dict],
    deployments: list[dict],
    tenants: list[dict],
    kpi_definitions: list[dict],
    kpi_targets: list[dict],
    sla_policies: list[dict],
    as_of: datetime,
    default_timezone: str = "UTC",
    deployment_environments: Iterable[dict] | None = None,
    dora_benchmarks: Iterable[dict] | None = None,
    dora_benchmark_set: str = "DORA_2023",
    incident_attribution_window_hours: float | None = None,
    business_calendars: Iterable[dict] = (),
    holidays: Iterable[dict] = (),
) -> Result:
    """The marts from raw rows and seeds, as of ``as_of``. The DORA KPIs are measured when
    kpi_definitions has them; ``deployment_environments`` None is the shipped mapping,
    ``dora_benchmarks`` None the issue's DORA_2023 set; ``incident_attribution_window_hours``
    is the var of that name (None: explicit links only). A policy with a calendar_name
    measures its SLA on that calendar of ``business_calendars`` and ``holidays`` (the seeds'
    rows), in the tenant's timezone (business_sla_elapsed_hours)."""
    business_calendars = list(business_calendars)
    holidays = list(holidays)
    as_of = _naive_utc(as_of)
    result = Result()

    # ---- seeds ----------------------------------------------------------------------
    tenant_tz: dict[int, str] = {}
    seed_tenant_ids: list[int] = []
    for t in tenants:
        tid = _as_int(t.get("tenant_id"))
        if tid is None:
            continue
        seed_tenant_ids.append(tid)
        tz = t.get("timezone")
        tenant_tz[tid] = tz if tz not in (None, "") else default_timezone

    definitions: dict[str, dict] = {}
    for d in kpi_definitions:
        definitions[d["kpi_name"]] = d

    targets_by_kpi: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for idx, row in enumerate(kpi_targets):
        targets_by_kpi[row["kpi_name"]].append((idx, row))

    policies: dict[tuple, dict] = {}
    for p in sla_policies:
        key = (_as_int(p.get("tenant_id")), p["request_type"], p["priority"])
        policies[key] = p  # a later duplicate row wins

    def policy_for(tenant_id: int, request_type: str, priority: str) -> dict | None:
        got = policies.get((tenant_id, request_type, priority))
        if got is None:
            got = policies.get((None, request_type, priority))
        return got

    # ---- raw facts up to as_of ------------------------------------------------------
    requests: dict[int, dict] = {}
    for r in service_requests:
        created = _naive_utc(r.get("created_at"))
        if created is None or created > as_of:
            continue
        row = dict(r)
        row["created_at"] = created
        row["tenant_id"] = int(r["tenant_id"])
        requests[int(r["sr_id"])] = row

    status_events: dict[int, list[tuple]] = defaultdict(list)
    assignees: dict[int, set] = defaultdict(set)
    for e in sr_events:
        sr_id = int(e["sr_id"])
        if sr_id not in requests:
            continue
        at = _naive_utc(e.get("event_at"))
        if at is None or at > as_of:
            continue
        kind = e.get("event_type")
        if kind == "STATUS":
            if e.get("new_status") is None:
                continue
            status_events[sr_id].append((at, int(e["event_id"]), e["new_status"]))
        elif kind == "ASSIGNMENT":
            if e.get("new_assignee_id") is not None:
                assignees[sr_id].add(e["new_assignee_id"])

    deps: list[dict] = []
    for d in deployments:
        started = _naive_utc(d.get("started_at"))
        if started is None or started > as_of:
            continue
        row = dict(d)
        row["started_at"] = started
        row["finished_at"] = _naive_utc(d.get("finished_at"))
        row["tenant_id"] = int(d["tenant_id"])
        deps.append(row)
    environments = production_mapping(SHIPPED_DEPLOYMENT_ENVIRONMENTS
                                      if deployment_environments is None
                                      else deployment_environments)
    production = {int(d["deployment_id"]): d for d in deps
                  if is_production(environments, d["tenant_id"], d.get("environment"))}
    # the tenants whose DORA KPIs have values: a production deployment finished by as_of
    dora_tenants = {d["tenant_id"] for d in production.values()
                    if d["finished_at"] is not None and d["finished_at"] <= as_of
                    and d.get("status") in FINISHED_DEPLOYMENT_STATUSES}

    # ---- tenants with activity, clocks and periods ------------------------------------
    first_activity: dict[int, datetime] = {}
    for r in requests.values():
        tid = r["tenant_id"]
        if tid not in first_activity or r["created_at"] < first_activity[tid]:
            first_activity[tid] = r["created_at"]
    for d in deps:
        tid = d["tenant_id"]
        if tid not in first_activity or d["started_at"] < first_activity[tid]:
            first_activity[tid] = d["started_at"]

    clocks: dict[int, _TenantClock] = {}
    # periods[tid][grain] = list of (period_start, period_end, end_utc)
    periods: dict[int, dict[str, list[tuple[date, date, datetime]]]] = {}
    for tid, first in first_activity.items():
        clock = _TenantClock(tenant_tz.get(tid, default_timezone))
        clocks[tid] = clock
        first_day = clock.local_day(first)
        last_day = clock.local_day(as_of)
        periods[tid] = {}
        for grain in GRAINS:
            lst = []
            start = period_start_of(first_day, grain)
            last = period_start_of(last_day, grain)
            while start <= last:
                end = next_period_start(start, grain)
                lst.append((start, end, clock.local_midnight_utc(end)))
                start = end
            periods[tid][grain] = lst

    # ---- per-request facts ------------------------------------------------------------
    # flow[(tid, kpi, grain, period_start)] = [numerator parts list, denominator count]
    flow: dict[tuple, list] = defaultdict(lambda: [[], 0])
    # the DORA KPIs' flow by service: (tid, kpi, grain, period_start, service) -> the same
    service_flow: dict[tuple, list] = defaultdict(lambda: [[], 0])
    backlog_bounds: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))

    def add_flow(tid: int, kpi: str, measured_at: datetime, num: float, key: tuple[str, int],
                 den: int = 1) -> None:
        day = clocks[tid].local_day(measured_at)
        result.contributions[(tid, kpi, key)] = {"local_date": day, "measured_value": num}
        for grain in GRAINS:
            slot = flow[(tid, kpi, grain, period_start_of(day, grain))]
            slot[0].append(num)
            slot[1] += den

    for sr_id, r in requests.items():
        tid = r["tenant_id"]
        created = r["created_at"]
        timeline = _status_timeline(r, status_events.get(sr_id, []), as_of)
        last_status = timeline[-1][2]
        resolved = last_status == "DONE"
        resolution = timeline[-1][0] if resolved else None
        reopen_count = sum(
            1
            for prev, nxt in zip(timeline, timeline[1:], strict=False)
            if prev[2] == "DONE" and nxt[2] not in CLOSED_STATUSES
        )
        if assignees.get(sr_id):
            assignee_count = len(assignees[sr_id])
        else:
            assignee_count = 1 if r.get("assignee_id") is not None else 0
        on_hold = None
        micros = 0
        holds: list[tuple[datetime, datetime]] = []  # (start, end) on hold before resolution
        if resolved:
            for cur, nxt in zip(timeline, timeline[1:], strict=False):
                if cur[2] != "ON_HOLD":
                    continue
                a = max(cur[0], created)
                b = min(nxt[0], resolution)
                if b > a:
                    holds.append((a, b))
                    delta = b - a
                    micros += (delta.days * 86_400 + delta.seconds) * 1_000_000
                    micros += delta.microseconds
            on_hold = micros / 3_600_000_000
        result.request_facts[sr_id] = {
            "tenant_id": tid,
            "request_type": r.get("request_type"),
            "priority": r.get("priority"),
            "created_at": created,
            "last_status": last_status,
            "is_resolved": resolved,
            "resolved_at": resolution,
            "reopen_count": reopen_count,
            "assignee_count": assignee_count,
            "on_hold_hours": on_hold,
            # cutoff ranges (a, b] (b None: still open) in which it counts in the backlog
            "open_intervals": _open_intervals(created, timeline),
        }

        starts, ends = backlog_bounds[tid]
        for a, b in result.request_facts[sr_id]["open_intervals"]:
            starts.append(a)
            if b is not None:
                ends.append(b)

        if not resolved:
            continue
        elapsed = hours_between(created, resolution)
        if r.get("request_type") == "INCIDENT":
            for kpi in ("MTTR", "MTTR_MEDIAN", "MTTR_P90"):
                add_flow(tid, kpi, resolution, elapsed, ("sr", sr_id))
        fcr_ok = reopen_count == 0 and assignee_count <= 1
        add_flow(tid, "FCR", resolution, 1.0 if fcr_ok else 0.0, ("sr", sr_id))
        policy = policy_for(tid, r.get("request_type"), r.get("priority"))
        if policy is not None:
            # compared exactly, in integer microseconds (the timestamps' resolution)
            calendar = policy.get("calendar_name") or None
            if calendar is None:
                effective = _micros(resolution - created)
                if _as_bool(policy.get("pause_on_hold")):
                    effective -= micros
            else:
                effective = round(3_600_000_000 * business_sla_elapsed_hours(
                    business_calendars, holidays, calendar, tenant_tz.get(tid, default_timezone),
                    created, resolution, holds, bool(_as_bool(policy.get("pause_on_hold")))))
            ok = effective <= Decimal(str(policy["resolution_hours"])) * 3_600_000_000
            add_flow(tid, "SLA_COMPLIANCE", resolution, 1.0 if ok else 0.0,
                     ("sr", sr_id))

    for d in deps:
        fin = d["finished_at"]
        if fin is None or fin > as_of or d.get("status") not in FINISHED_DEPLOYMENT_STATUSES:
            continue
        success = 1.0 if d["status"] == "DEPLOYED" else 0.0
        add_flow(d["tenant_id"], "DEPLOY_SUCCESS_RATE", fin, success,
                 ("deployment", int(d["deployment_id"])))

    incidents = [r for r in requests.values() if r.get("request_type") == "INCIDENT"]
    result.incident_causes = attribute_incidents(incidents, production,
                                                 incident_attribution_window_hours)
    incident_keys = {(r["tenant_id"], int(r["sr_id"])) for r in incidents}
    measurements = [
        *_dora_deployment_measurements(production, result.incident_causes, incident_keys,
                                       as_of),
        *_dora_recovery_measurements(production, result.incident_causes,
                                     result.request_facts),
    ]
    for tid, kpi, measured_at, value, key, service in measurements:
        if kpi not in definitions:
            continue  # the model side measures only defined KPIs
        add_flow(tid, kpi, measured_at, value, key)
        if kpi == "DEPLOYMENT_FREQUENCY" and value == 0:
            continue  # a service's frequency row needs a DEPLOYED deployment
        day = clocks[tid].local_day(measured_at)
        for grain in GRAINS:
            slot = service_flow[(tid, kpi, grain, period_start_of(day, grain),
                                 service_key(service))]
            slot[0].append(value)
            slot[1] += 1

    for starts, ends in backlog_bounds.values():
        starts.sort()
        ends.sort()

    # ---- targets --------------------------------------------------------------------
    def target_row(tid: int, kpi: str, period_start: date) -> dict | None:
        best_own = best_all = None
        for idx, row in targets_by_kpi.get(kpi, ()):
            vf = _as_date(row.get("valid_from"))
            vt = _as_date(row.get("valid_to"))
            if vf is not None and vf > period_start:
                continue
            if vt is not None and not period_start < vt:
                continue
            key = (vf or date.min, idx)  # latest valid_from; tie -> later row in the file
            row_tid = _as_int(row.get("tenant_id"))
            if row_tid == tid:
                if best_own is None or key > best_own[0]:
                    best_own = (key, row)
            elif row_tid is None:
                if best_all is None or key > best_all[0]:
                    best_all = (key, row)
        chosen = best_own or best_all
        return None if chosen is None else chosen[1]

    # ---- KPI values -----------------------------------------------------------------
    for tid, by_grain in periods.items():
        for kpi, definition in definitions.items():
            if kpi not in BUILTIN_KPIS:
                continue  # the oracle only knows how to measure the built-ins
            aggregation = (definition.get("aggregation") or "RATIO").upper()
            multiplier = _as_float(definition.get("value_multiplier"))
            multiplier = 1.0 if multiplier is None else multiplier
            decimals = _as_int(definition.get("value_decimals"))
            direction = definition["direction"]
            green = _as_float(definition.get("green_threshold_pct"))
            yellow = _as_float(definition.get("yellow_threshold_pct"))
            ratio = _as_float(definition.get("lower_better_yellow_ratio"))
            green = DEFAULT_GREEN_PCT if green is None else green
            yellow = DEFAULT_YELLOW_PCT if yellow is None else yellow
            ratio = DEFAULT_LOWER_BETTER_YELLOW_RATIO if ratio is None else ratio
            starts, ends = backlog_bounds.get(tid, ([], []))
            for grain in GRAINS:
                for start, end, end_utc in by_grain[grain]:
                    trow = target_row(tid, kpi, start)
                    if trow is None or _as_bool(trow.get("is_enabled")) is False:
                        continue
                    target = _as_float(trow.get("target"))
                    if target is None:
                        target = _as_float(definition.get("default_target"))
                    if kpi == "SR_BACKLOG":
                        cutoff = min(end_utc, as_of)
                        count = bisect_left(starts, cutoff) - bisect_left(ends, cutoff)
                        numerator: float | None = float(count)
                        denominator: float | None = None
                    else:
                        parts, den = flow.get((tid, kpi, grain, start), ([], 0))
                        numerator = fsum(parts)
                        denominator = float(den)
                    if kpi == "DEPLOYMENT_FREQUENCY" and tid in dora_tenants:
                        # per local day started; without a finished production deployment
                        # no value: 0 over 0 (the issue leaves it open; the engine's way)
                        denominator = float(days_started(clocks[tid], start, end, as_of))
                    if aggregation == "PERCENTILE":
                        parts, den = flow.get((tid, kpi, grain, start), ([], 0))
                        fraction = _as_float(definition.get("percentile"))
                        pct = percentile_cont(parts, fraction)
                        raw_value = None if pct is None else multiplier * pct
                        numerator = None
                        denominator = float(len(parts))
                    elif aggregation == "RATIO":
                        raw_value = multiplier * numerator / denominator if denominator else None
                    else:  # STOCK / SUM: the value is the numerator itself
                        raw_value = numerator * multiplier
                        denominator = None
                    if kpi in DORA_KPIS and tid not in dora_tenants:
                        raw_value = None  # no production deployment finished by as_of
                    value = round_half_up(raw_value, decimals)
                    achievement, status = traffic_light(
                        value, target, direction, green, yellow, ratio
                    )
                    result.kpi_values[(tid, kpi, grain, start)] = {
                        "period_end": end,
                        "is_complete": end_utc <= as_of,
                        "value": value,
                        "numerator": numerator,
                        "denominator": denominator,
                        "target": target,
                        "direction": direction,
                        "achievement_pct": achievement,
                        "status": status,
                    }

    # ---- DORA scorecard ---------------------------------------------------------------
    levels = benchmark_levels(dora_benchmarks, dora_benchmark_set)
    for tid, by_grain in periods.items():
        for grain in GRAINS:
            for start, end, end_utc in by_grain[grain]:
                _fill_dora_scorecard(result, definitions, levels, service_flow, tid, grain,
                                     (start, end, end_utc), tid in dora_tenants)

    # ---- scorecard and tenant status --------------------------------------------------
    for tid in periods:
        clock = clocks[tid]
        now_day = clock.local_day(as_of)
        for kpi, definition in definitions.items():
            grain = definition.get("default_grain")
            if grain not in GRAINS:
                continue
            current = period_start_of(now_day, grain)
            row = result.kpi_values.get((tid, kpi, grain, current))
            if row is None:
                continue  # not enabled (or not measured) in the current period
            prev_start = previous_period_start(current, grain)
            prev = result.kpi_values.get((tid, kpi, grain, prev_start))
            result.scorecard[(tid, kpi)] = {
                "grain": grain,
                "period_start": current,
                "value": row["value"],
                "target": row["target"],
                "achievement_pct": row["achievement_pct"],
                "status": row["status"],
                "previous_period_start": prev_start,
                "previous_value": None if prev is None else prev["value"],
                "previous_status": None if prev is None else prev["status"],
            }

    all_tenants = list(dict.fromkeys(list(seed_tenant_ids) + sorted(periods)))
    for tid in all_tenants:
        counts = {"GREEN": 0, "YELLOW": 0, "RED": 0, "NO_DATA": 0}
        for (s_tid, _), card in result.scorecard.items():
            if s_tid == tid:
                counts[card["status"]] += 1
        if counts["RED"]:
            overall = "RED"
        elif counts["YELLOW"]:
            overall = "YELLOW"
        elif counts["GREEN"]:
            overall = "GREEN"
        else:
            overall = "NO_DATA"
        result.tenant_status[tid] = {
            "green_count": counts["GREEN"],
            "yellow_count": counts["YELLOW"],
            "red_count": counts["RED"],
            "no_data_count": counts["NO_DATA"],
            "overall_status": overall,
        }

    return result


def _dora_row(values: dict[str, float | None],
              levels: dict[str, list[tuple[int, str, float | None]]]) -> dict:
    """A dora_scorecard row's values and levels from the five KPIs' values."""
    row: dict[str, Any] = {DORA_VALUE_COLUMNS[kpi]: values.get(kpi) for kpi in DORA_KPIS}
    for kpi, column in DORA_LEVEL_COLUMNS.items():
        row[column] = dora_level(kpi, values.get(kpi), levels)
    row["overall_level"] = overall_level(row[column] for column in DORA_LEVEL_COLUMNS.values())
    return row


def _service_value(definition: dict, parts: list[float], denominator: float) -> float | None:
    """A DORA KPI's value over one service's measurements (RATIO: over ``denominator``)."""
    multiplier = _as_float(definition.get("value_multiplier"))
    multiplier = 1.0 if multiplier is None else multiplier
    if (definition.get("aggregation") or "RATIO").upper() == "PERCENTILE":
        pct = percentile_cont(parts, _as_float(definition.get("percentile")))
        raw = None if pct is None else multiplier * pct
    else:
        raw = multiplier * fsum(parts) / denominator if denominator else None
    return round_half_up(raw, _as_int(definition.get("value_decimals")))


def _fill_dora_scorecard(result: Result, definitions: dict[str, dict],
                         levels: dict[str, list[tuple[int, str, float | None]]],
                         service_flow: dict[tuple, list], tid: int, grain: str,
                         period: tuple[date, date, datetime], has_data: bool) -> None:
    """The tenant's total row (service None) of one period, from its fct_kpi_values rows,
    and a row per service with a measurement of an enabled DORA KPI in the period (a KPI
    without a measurement of the service: null); nothing when no DORA KPI is enabled."""
    start, end, _ = period
    enabled = {kpi: result.kpi_values[(tid, kpi, grain, start)] for kpi in DORA_KPIS
               if (tid, kpi, grain, start) in result.kpi_values}
    if not enabled:
        return
    common = {"period_end": end, "is_complete": next(iter(enabled.values()))["is_complete"]}
    totals = {kpi: row["value"] for kpi, row in enabled.items()}
    result.dora_scorecard[(tid, grain, start, None)] = {**common, **_dora_row(totals, levels)}
    if not has_data:
        return
    services = sorted({key[4] for key in service_flow
                       if key[0] == tid and key[1] in enabled and key[2:4] == (grain, start)})
    for service in services:
        values: dict[str, float | None] = {}
        for kpi, row in enabled.items():
            parts, count = service_flow.get((tid, kpi, grain, start, service), ([], 0))
            denominator = row["denominator"] if kpi == "DEPLOYMENT_FREQUENCY" else count
            values[kpi] = _service_value(definitions[kpi], parts, denominator) if parts else None
        result.dora_scorecard[(tid, grain, start, service)] = {
            **common, **_dora_row(values, levels)}


# --- business-hours SLA clocks (issue 19) ---------------------------------------------


def _local_minute_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Naive UTC instant of `minute` minutes after local midnight of `day` (1440 = the next
    day's 00:00). A wall-clock time the clocks skip is read in the offset before the change
    (fold=0), so it moves forward by the gap; one that occurs twice is the first."""
    local = datetime.combine(day, time()) + timedelta(minutes=minute)
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def business_seconds(calendar_rows: Iterable[dict], holidays: Iterable[dict],
                     calendar_name: str, tz_name: str, start: datetime, end: datetime) -> float:
    """Business seconds of a calendar (business_calendars rows: calendar_name, weekday
    1 = Monday, start_time and end_time HH:MM, 24:00 allowed), read in timezone
    `tz_name`, between two naive UTC instants: the overlap of [start, end] with each
    business interval of every local day around them, holidays (holiday_date, local)
    skipped. 0 when end <= start."""
    if end <= start:
        return 0.0
    tz = ZoneInfo(tz_name)

    def minutes(text: str) -> int:
        hours, mins = text.split(":")
        return int(hours) * 60 + int(mins)

    by_weekday: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in calendar_rows:
        if row["calendar_name"] == calendar_name:
            by_weekday[int(row["weekday"])].append((minutes(row["start_time"]), minutes(row["end_time"])))
    days_off = {_as_date(h["holiday_date"]) for h in holidays if h["calendar_name"] == calendar_name}
    utc_start = start.replace(tzinfo=UTC)
    utc_end = end.replace(tzinfo=UTC)
    day = utc_start.astimezone(tz).date() - timedelta(days=1)
    last = utc_end.astimezone(tz).date() + timedelta(days=1)
    total = timedelta()
    while day <= last:
        if day not in days_off:
            for first_minute, last_minute in by_weekday.get(day.isoweekday(), []):
                low = max(_local_minute_to_utc(day, first_minute, tz), start)
                high = min(_local_minute_to_utc(day, last_minute, tz), end)
                if high > low:
                    total += high - low
        day += timedelta(days=1)
    return _micros(total) / 1_000_000


def business_sla_elapsed_hours(calendar_rows: Iterable[dict], holidays: Iterable[dict],
                               calendar_name: str | None, tz_name: str, created: datetime,
                               end: datetime, holds: Iterable[tuple[datetime, datetime]],
                               pause_on_hold: bool) -> float:
    """The SLA clock of a request from `created` to `end` (its resolution, or as_of):
    business hours of its policy's calendar (None = 24/7, every hour), less those of each
    stretch on hold (naive UTC start, end) when the policy pauses on hold."""
    calendar_rows = list(calendar_rows)
    holidays = list(holidays)

    def clock(start: datetime, stop: datetime) -> float:
        if calendar_name is None:
            return max((stop - start).total_seconds(), 0.0)
        return business_seconds(calendar_rows, holidays, calendar_name, tz_name, start, stop)

    elapsed = clock(created, end)
    if pause_on_hold:
        elapsed -= sum(clock(max(start, created), stop) for start, stop in holds)
    return elapsed / 3600.0
