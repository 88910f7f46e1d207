"""The scorecard report: self-contained HTML pages, one in English and one in Korean
(scorecard.en.html, scorecard.ko.html, linked to each other), and a Markdown summary.

Presentation only. Every light, value, target and trend point is read as dbt computed it
from marts.tenant_kpi_status, marts.kpi_scorecard and marts.kpi_scorecard_trend (`select *
from` each; no KPI rule lives here); the worst slices of a RED or YELLOW KPI from
marts.fct_kpi_breakdowns (its rows for the scorecard's current periods) and the open
requests past their SLA from marts.open_request_aging (its breached rows); per tenant, a
DORA block from marts.dora_scorecard (values and levels as dbt computed them; labels and
units from marts.dim_kpi). MARTS_READ lists every mart read: the Dagster report asset and
the dbt exposure kpi_scorecard_report declare exactly those. The pages
need no network: inline CSS and SVG, system fonts. Where they go: env KPI_REPORT_DIR
(default reports/ under the project).

    python -m itsm_kpi.report [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from itsm_kpi import warehouse
from itsm_kpi.paths import PROJECT_DIR

Row = dict[str, Any]

RELATIONS = ("tenant_kpi_status", "kpi_scorecard", "kpi_scorecard_trend")
# every marts.X this module queries: the report asset's deps (orchestration/assets.py) and
# the exposure kpi_scorecard_report's depends_on (models/marts/_exposures.yml) are these
MARTS_READ = (*RELATIONS, "fct_kpi_breakdowns", "open_request_aging", "dora_scorecard",
              "dim_kpi")
DORA_SQL = "select * from marts.dora_scorecard"
DIM_KPI_SQL = "select * from marts.dim_kpi"
# the DORA block's grain: the default grain of four of the five DORA KPIs
# (kpi_definitions.csv; DEPLOYMENT_FREQUENCY's is WEEKLY, shown here per month too)
DORA_GRAIN = "MONTHLY"
DORA_TREND_PERIODS = 12  # as kpi_scorecard_trend
# the five DORA KPIs: dora_scorecard's value column and level column (none for rework)
DORA_METRICS = (
    ("DEPLOYMENT_FREQUENCY", "deployment_frequency", "deployment_frequency_level"),
    ("CHANGE_LEAD_TIME", "change_lead_time_hours", "change_lead_time_level"),
    ("CHANGE_FAILURE_RATE", "change_failure_rate_pct", "change_failure_rate_level"),
    ("FAILED_DEPLOYMENT_RECOVERY_TIME", "failed_deployment_recovery_time_hours",
     "failed_deployment_recovery_time_level"),
    ("DEPLOYMENT_REWORK_RATE", "deployment_rework_rate_pct", None),
)
# the units of the five as in kpi_definitions.csv, when dim_kpi has no row for one
DORA_UNITS = {"DEPLOYMENT_FREQUENCY": "deploys/week", "CHANGE_LEAD_TIME": "hours",
              "CHANGE_FAILURE_RATE": "%", "FAILED_DEPLOYMENT_RECOVERY_TIME": "hours",
              "DEPLOYMENT_REWORK_RATE": "%"}
LEVELS = ("ELITE", "HIGH", "MEDIUM", "LOW")  # best first
# the slices of the scorecard's current periods only (the index on fct_kpi_breakdowns'
# keys serves it on PostgreSQL), and the breached open requests only
BREAKDOWNS_SQL = """select * from marts.fct_kpi_breakdowns as breakdowns
where exists (
    select 1 from marts.kpi_scorecard as cards
    where cards.tenant_id = breakdowns.tenant_id
        and cards.kpi_name = breakdowns.kpi_name
        and cards.grain = breakdowns.grain
        and cards.period_start = breakdowns.period_start
)"""
BREACHED_SQL = "select * from marts.open_request_aging where is_sla_breached"
# breakdowns in this order (request KPIs, then deployments'); any other after, by name
BREAKDOWNS = ("TEAM", "SERVICE", "PRIORITY", "REQUEST_TYPE", "ENVIRONMENT")
WORST_SHOWN = 3  # slices per breakdown
ATTENTION = ("RED", "YELLOW")  # the lights whose KPIs get their worst slices shown
LANGUAGES = ("en", "ko")
STATUSES = ("RED", "YELLOW", "GREEN", "NO_DATA")  # worst first
# per light: the dot's colour, a badge's background and text colour
PALETTE = {
    "GREEN": ("#1a7f37", "#dafbe1", "#116329"),
    "YELLOW": ("#d4a72c", "#fff8c5", "#7d4e00"),
    "RED": ("#cf222e", "#ffebe9", "#a40e26"),
    "NO_DATA": ("#8c959f", "#eff2f5", "#59636e"),
}
# per DORA level: its colour, a badge's background and text colour
LEVEL_PALETTE = {
    "ELITE": ("#1a7f37", "#dafbe1", "#116329"),
    "HIGH": ("#4ac26b", "#eefbf1", "#1a7f37"),
    "MEDIUM": ("#d4a72c", "#fff8c5", "#7d4e00"),
    "LOW": ("#cf222e", "#ffebe9", "#a40e26"),
}
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MARKDOWN_ICONS = {"GREEN": "🟢", "YELLOW": "🟡", "RED": "🔴", "NO_DATA": "⚪"}
DASH = "—"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "language_name": "English", "title": "KPI scorecard", "as_of": "As of",
        "overall_status": "Overall status", "tenants": "tenants", "overview": "Overview",
        "tenant": "Tenant", "overall": "Overall", "kpi": "KPI", "status": "Status",
        "period": "Period", "value": "Value", "target": "Target",
        "achievement": "Achievement", "trend": "Trend", "to_date": "to date",
        "GREEN": "Green", "YELLOW": "Yellow", "RED": "Red", "NO_DATA": "No data",
        "not_enabled": "not enabled",
        # a tenant without scorecard rows: the marts cannot tell which of the two it is
        "no_kpis": "No KPI value for the current period. Either no KPI is enabled for this "
                   "tenant (kpi_targets.csv), or the fact tables hold no row yet for the "
                   "period that contains the as-of time: run kpi_daily_job for today.",
        "DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "span": "{count} {unit}",
        "week_of": "week of {}", "previous": "Previous",
        "no_tenants": "No tenant in marts.tenant_kpi_status: is there raw data?",
        "unit_hours": "{} h", "unit_count": "{}", "target_line": "Dashed line: target",
        # the thresholds are each KPI's own (kpi_definitions.csv): not repeated here
        "legend": "Lights as the engine computed them, by each KPI's thresholds "
                  "(kpi_definitions.csv).",
        "breached": "Open requests past their SLA", "worst": "Worst slices",
        "worst_note": "For each Red or Yellow KPI, the {n} slices of each breakdown with the "
                      "lowest achievement in the current period (fct_kpi_breakdowns). Size: "
                      "the requests or deployments counted (the slice's denominator), or "
                      "for a count or a backlog, the count itself.",
        "slice": "Slice", "size": "Size", "no_slices": "no breakdown",
        "TEAM": "Team", "SERVICE": "Service", "PRIORITY": "Priority",
        "REQUEST_TYPE": "Request type", "ENVIRONMENT": "Environment",
        "unit_deploys/week": "{} deploys/week",
        "dora": "DORA", "dora_level": "DORA level", "level": "Level", "service": "Service",
        "ELITE": "Elite", "HIGH": "High", "MEDIUM": "Medium", "LOW": "Low",
        "no_level": "no level", "total": "Total",
        "dora_note": "{period}, {to_date}; levels by DORA's benchmarks (dora_benchmarks.csv). "
                     "The trend: the last {n} months, one dot per month coloured by its level.",
        "dora_no_deployments": "No production deployments in {period}: the DORA KPIs have no "
                               "value (No data).",
        "dora_disabled": "DORA KPIs not in the scorecard: none is enabled for this tenant "
                         "(kpi_targets.csv), so marts.dora_scorecard has no row for it.",
    },
    "ko": {
        "language_name": "한국어", "title": "KPI 스코어카드", "as_of": "기준 시각",
        "overall_status": "전체 현황", "tenants": "테넌트", "overview": "한눈에 보기",
        "tenant": "테넌트", "overall": "종합", "kpi": "KPI", "status": "상태",
        "period": "기간", "value": "실적", "target": "목표",
        "achievement": "달성률", "trend": "추이", "to_date": "진행 중",
        "GREEN": "정상", "YELLOW": "주의", "RED": "위험", "NO_DATA": "데이터 없음",
        "not_enabled": "미사용",
        "no_kpis": "현재 기간의 KPI 값이 없습니다. 이 테넌트에 사용 중인 KPI가 없거나"
                   "(kpi_targets.csv), 기준 시각이 속한 기간의 팩트 행이 아직 없습니다: "
                   "오늘 파티션으로 kpi_daily_job을 실행하십시오.",
        "DAILY": "일", "WEEKLY": "주", "MONTHLY": "개월", "span": "{count}{unit}",
        "week_of": "{} 주", "previous": "직전 기간",
        "no_tenants": "marts.tenant_kpi_status에 테넌트가 없습니다. 원천 데이터가 있습니까?",
        "unit_hours": "{}시간", "unit_count": "{}건", "target_line": "점선: 목표",
        "legend": "신호등: KPI별 기준(kpi_definitions.csv)에 따라 엔진이 계산한 결과.",
        "breached": "SLA 기한을 넘긴 미완료 요청", "worst": "취약 구간",
        "worst_note": "위험 또는 주의 KPI마다, 분류별로 현재 기간 달성률이 가장 낮은 "
                      "{n}개 구간(fct_kpi_breakdowns). 규모: 집계된 요청 또는 배포 건수"
                      "(구간의 분모), 건수나 적체 KPI는 그 건수.",
        "slice": "구간", "size": "규모", "no_slices": "분류 없음",
        "TEAM": "팀", "SERVICE": "서비스", "PRIORITY": "우선순위",
        "REQUEST_TYPE": "요청 유형", "ENVIRONMENT": "환경",
        "unit_deploys/week": "주당 {}회",
        "dora": "DORA", "dora_level": "DORA 등급", "level": "등급", "service": "서비스",
        "ELITE": "엘리트", "HIGH": "높음", "MEDIUM": "중간", "LOW": "낮음",
        "no_level": "등급 없음", "total": "합계",
        "dora_note": "{period}, {to_date}. 등급: DORA 벤치마크(dora_benchmarks.csv) 기준. "
                     "추이: 최근 {n}개월, 월별 점 색은 등급.",
        "dora_no_deployments": "{period}에 프로덕션 배포가 없습니다: DORA KPI 값이 없습니다"
                               "(데이터 없음).",
        "dora_disabled": "DORA KPI가 스코어카드에 없습니다: 이 테넌트에 사용 중인 DORA KPI가 "
                         "없어(kpi_targets.csv) marts.dora_scorecard에 행이 없습니다.",
    },
}


class ReportError(RuntimeError):
    pass


@dataclass
class Marts:
    """The rows of the three marts the report shows, indexed for the page."""

    tenants: list[Row]
    scorecard: list[Row]
    trend: list[Row]
    breakdowns: list[Row] = field(default_factory=list)  # fct_kpi_breakdowns' rows
    breached: list[Row] = field(default_factory=list)  # open_request_aging's breached rows
    dora: list[Row] = field(default_factory=list)  # dora_scorecard's rows
    kpis: list[Row] = field(default_factory=list)  # dim_kpi's rows
    _cards: dict[Any, list[Row]] = field(init=False, repr=False)
    _points: dict[tuple[Any, str], list[Row]] = field(init=False, repr=False)
    _slices: dict[tuple[Any, ...], dict[str, list[Row]]] = field(init=False, repr=False)
    _breached: dict[Any, int] = field(init=False, repr=False)
    _dora: dict[Any, list[Row]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.tenants = sorted(self.tenants, key=lambda t: t["tenant_id"])
        self._cards, self._points, self._slices, self._breached = {}, {}, {}, {}
        for card in sorted(self.scorecard, key=lambda c: c["kpi_name"]):
            self._cards.setdefault(card["tenant_id"], []).append(card)
        for point in sorted(self.trend, key=lambda p: p["period_start"]):
            self._points.setdefault((point["tenant_id"], point["kpi_name"]), []).append(point)
        for row in sorted(self.breakdowns, key=worst_first):
            key = (row["tenant_id"], row["kpi_name"], row["grain"], row["period_start"])
            self._slices.setdefault(key, {}).setdefault(row["breakdown"], []).append(row)
        self._dora = {}
        for row in sorted(self.dora, key=lambda r: (r["period_start"], r["service"] or "")):
            self._dora.setdefault(row["tenant_id"], []).append(row)
        for request in self.breached:
            if request["is_sla_breached"]:
                self._breached[request["tenant_id"]] = (
                    self._breached.get(request["tenant_id"], 0) + 1)

    def cards(self, tenant_id: Any) -> list[Row]:
        """A tenant's scorecard rows, by KPI name."""
        return self._cards.get(tenant_id, [])

    def points(self, tenant_id: Any, kpi_name: str) -> list[Row]:
        """The trend of one scorecard KPI, oldest period first."""
        return self._points.get((tenant_id, kpi_name), [])

    def worst(self, card: Row) -> list[tuple[str, list[Row]]]:
        """A scorecard KPI's worst slices: per breakdown (in BREAKDOWNS' order), its rows
        for the card's tenant, KPI, grain and period, worst first, at most WORST_SHOWN."""
        key = (card["tenant_id"], card["kpi_name"], card["grain"], card["period_start"])
        by_breakdown = self._slices.get(key, {})
        order = [*BREAKDOWNS, *sorted(set(by_breakdown) - set(BREAKDOWNS))]
        return [(name, by_breakdown[name][:WORST_SHOWN]) for name in order
                if name in by_breakdown]

    def breached_count(self, tenant_id: Any) -> int:
        """The tenant's open requests past their SLA due time."""
        return self._breached.get(tenant_id, 0)

    def has_dora(self, tenant_id: Any) -> bool:
        """Whether dora_scorecard has any row for the tenant (none: no DORA KPI enabled)."""
        return tenant_id in self._dora

    def dora_period(self, tenant_id: Any) -> date | None:
        """The DORA block's period: the current period of DORA_GRAIN as the scorecard's
        cards hold it (the period containing as_of), else the tenant's latest period of
        DORA_GRAIN in dora_scorecard."""
        current = [c["period_start"] for c in self.cards(tenant_id) if c["grain"] == DORA_GRAIN]
        if current:
            return max(current)
        periods = [r["period_start"] for r in self._dora.get(tenant_id, [])
                   if r["grain"] == DORA_GRAIN]
        return max(periods) if periods else None

    def dora_rows(self, tenant_id: Any, period: date) -> tuple[Row | None, list[Row]]:
        """The tenant's dora_scorecard rows of DORA_GRAIN and `period`: its total (service
        null) and its services' rows, by service."""
        rows = [r for r in self._dora.get(tenant_id, [])
                if r["grain"] == DORA_GRAIN and r["period_start"] == period]
        total = next((r for r in rows if r["service"] is None), None)
        return total, [r for r in rows if r["service"] is not None]

    def dora_trend(self, tenant_id: Any, period: date) -> list[Row]:
        """The tenant's totals of DORA_GRAIN up to `period`, the last DORA_TREND_PERIODS,
        oldest first."""
        totals = [r for r in self._dora.get(tenant_id, [])
                  if r["grain"] == DORA_GRAIN and r["service"] is None
                  and r["period_start"] <= period]
        return totals[-DORA_TREND_PERIODS:]

    def kpi(self, kpi_name: str) -> Row:
        """dim_kpi's row of a KPI (a stand-in with its name and DORA unit when absent)."""
        return next((k for k in self.kpis if k["kpi_name"] == kpi_name),
                    {"kpi_name": kpi_name, "display_name": None, "display_name_en": None,
                     "unit": DORA_UNITS.get(kpi_name)})

    def status_counts(self) -> dict[str, int]:
        """Tenants per overall light, every light present."""
        counts = dict.fromkeys(STATUSES, 0)
        for tenant in self.tenants:
            counts[tenant["overall_status"]] += 1
        return counts

    def kpi_names(self) -> list[str]:
        return sorted({c["kpi_name"] for c in self.scorecard})

    def as_of(self) -> str:
        stamp = next((r["as_of"] for r in (*self.tenants, *self.scorecard)), None)
        return f"{stamp:%Y-%m-%d %H:%M} UTC" if stamp else DASH


def slice_size(row: Row) -> float | None:
    """A slice's size: its denominator (the requests or deployments counted: RATIO and
    PERCENTILE KPIs), or, where the mart leaves it null (SUM and STOCK KPIs), its numerator
    (the count; for a backlog, the requests open)."""
    return row["denominator"] if row["denominator"] is not None else row["numerator"]


def worst_first(row: Row) -> tuple[Any, ...]:
    """Sort key: lowest achievement first (a slice without one last), then the larger
    size, then the breakdown value."""
    achievement, size = row["achievement_pct"], slice_size(row)
    return (achievement is None, achievement or 0.0, -(size or 0.0),
            str(row["breakdown_value"]))


@dataclass(frozen=True)
class Report:
    """What publish() wrote."""

    paths: dict[str, Path]  # by language
    tenant_count: int
    status_counts: dict[str, int]
    markdown: str


# --- reading the marts ------------------------------------------------------------------

def read_marts(target: str | None = None, base: Path = PROJECT_DIR) -> Marts:
    """The marts, read in one connection (itsm_kpi.warehouse): the DuckDB file
    read-only, PostgreSQL in one read-only snapshot, or the Spark tables' Parquet files, by
    `target` (default DBT_TARGET, duckdb); a relative KPI_DUCKDB_PATH (KPI_SPARK_DIR) is
    relative to `base`, the dbt project folder."""
    try:
        engine = warehouse.target(target)
    except ValueError as error:
        raise ReportError(str(error)) from error
    try:
        with warehouse.connect(engine, read_only=True, base=base) as conn:
            tenants, scorecard, trend = (
                warehouse.query(conn, f"select * from marts.{relation}")
                for relation in RELATIONS
            )
            breakdowns = warehouse.query(conn, BREAKDOWNS_SQL)
            breached = warehouse.query(conn, BREACHED_SQL)
            dora = warehouse.query(conn, DORA_SQL)
            kpis = warehouse.query(conn, DIM_KPI_SQL)
    except FileNotFoundError as error:  # no DuckDB file: nothing built yet
        raise ReportError(str(error)) from error
    return Marts(tenants, scorecard, trend, breakdowns, breached, dora, kpis)


# --- formatting -------------------------------------------------------------------------

def format_number(value: float | None) -> str:
    """1,234.5 / 6 / 85.7: as stored (dbt rounded it), without trailing zeros."""
    if value is None:
        return DASH
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_value(value: float | None, unit: str | None, language: str) -> str:
    if value is None:
        return DASH
    number = format_number(value)
    if unit == "%":
        return f"{number}%"
    if unit in ("hours", "count", "deploys/week"):
        return LABELS[language][f"unit_{unit}"].format(number)
    return f"{number} {unit}" if unit else number


def format_period(grain: str, start: date, language: str) -> str:
    if grain == "MONTHLY":
        if language == "en":
            return f"{MONTHS_EN[start.month - 1]} {start.year}"
        return f"{start.year}년 {start.month}월"
    if grain == "WEEKLY":
        return LABELS[language]["week_of"].format(start.isoformat())
    return start.isoformat()


def format_span(count: int, grain: str, language: str) -> str:
    """12 days / 2 months / 12일 / 2개월."""
    unit = LABELS[language][grain]
    if language == "en" and count != 1:
        unit += "s"
    return LABELS[language]["span"].format(count=count, unit=unit)


def _axis_date(grain: str, start: date) -> str:
    return f"{start:%Y-%m}" if grain == "MONTHLY" else start.isoformat()


# --- HTML -------------------------------------------------------------------------------

# Fonts with Hangul, by platform: Linux (Debian: fonts-noto-cjk; Noto Sans KR from Google
# Fonts; fonts-nanum), macOS, Windows. Without any of them Korean shows as empty boxes.
KOREAN_FONTS = ('"Noto Sans CJK KR", "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", '
                '"NanumGothic"')
LATIN_FONTS = '"Noto Sans", "Segoe UI", system-ui, -apple-system, "DejaVu Sans"'

CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --card: #ffffff; --page: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink); line-height: 1.45;
  font-size: 15px; font-family: """ + LATIN_FONTS + ", " + KOREAN_FONTS + """, sans-serif; }
:lang(ko) { font-family: """ + KOREAN_FONTS + ", " + LATIN_FONTS + """, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
.top { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; }
h1 { font-size: 26px; margin: 0; }
h2 { font-size: 18px; margin: 0; }
.meta, .legend, .tid, .axis, .sub { color: var(--muted); }
.meta { margin: 4px 0 20px; }
.lang { font-size: 14px; padding: 4px 12px; border: 1px solid var(--line); border-radius: 999px;
  color: var(--ink); text-decoration: none; background: var(--card); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin-bottom: 18px; break-inside: avoid; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 12px; }
.tile { border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 8px;
  padding: 10px 14px; }
.tile .count { font-size: 30px; font-weight: 700; display: block; }
.light { display: inline-flex; align-items: center; gap: 7px; white-space: nowrap;
  font-weight: 600; }
.dot { width: 12px; height: 12px; border-radius: 50%; background: var(--c);
  display: inline-block; flex: none; }
.badge { padding: 3px 12px 3px 9px; border-radius: 999px; background: var(--bg);
  color: var(--fg); border: 1px solid var(--c); }
table { border-collapse: collapse; width: 100%; margin-top: 12px; }
th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line);
  padding: 6px 10px; }
td { padding: 10px; border-bottom: 1px solid #eaeef2; vertical-align: middle; }
tr:last-child td { border-bottom: 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
.kpi-name { font-weight: 600; }
.sub { font-size: 12px; display: block; }
.value { font-size: 17px; font-weight: 700; }
.bar { height: 4px; background: #eaeef2; border-radius: 2px; margin-top: 4px; }
.bar span { display: block; height: 100%; border-radius: 2px; background: var(--c); }
.tenant-head { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.tenant-head .counts { margin-left: auto; color: var(--muted); font-size: 13px; }
.trend svg { display: block; }
.axis { display: flex; justify-content: space-between; font-size: 11px; width: 200px; }
.axis span:only-child { margin: 0 auto; }
.overview td, .overview th { text-align: center; padding: 6px 8px; }
.overview td:first-child, .overview th:first-child { text-align: left; white-space: nowrap; }
.overview a { color: var(--ink); }
.legend { font-size: 12px; margin-top: 10px; }
.attention { margin-top: 14px; border-top: 1px solid var(--line); padding-top: 12px; }
.breached { margin: 0 0 8px; font-weight: 600; }
.breached .n { font-variant-numeric: tabular-nums; color: #a40e26; }
.breached[data-count="0"] .n { color: var(--muted); }
h3 { font-size: 15px; margin: 8px 0 0; }
.worst-kpi { margin-top: 12px; }
.worst-head { display: flex; align-items: center; gap: 10px; font-weight: 600; }
.slices { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr));
  gap: 4px 20px; align-items: start; }
.slices table { margin-top: 6px; }
.slices td { padding: 4px 8px; font-size: 14px; }
.slices th { padding: 4px 8px; }
.slices td[data-col="slice"] { overflow-wrap: break-word; }
.dora { margin-top: 14px; border-top: 1px solid var(--line); padding-top: 12px; }
.dora-head { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
.dora-head h3 { margin: 0; }
.level { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 13px;
  font-weight: 600; white-space: nowrap; background: var(--lbg, #eff2f5);
  color: var(--lfg, #59636e); border: 1px solid var(--lc, #8c959f); }
.dora-services td { padding: 4px 8px; font-size: 14px; }
.dora-services .level { font-size: 11px; padding: 0 6px; margin-left: 4px; }
.dora .note { margin: 6px 0 0; }
@media print { body { background: #fff; } .panel { border-color: #bbb; } }
""" + "".join(
    f'[data-status="{status}"] {{ --c: {dot}; --bg: {background}; --fg: {text}; }}\n'
    for status, (dot, background, text) in {**PALETTE, "NOT_ENABLED": PALETTE["NO_DATA"]}.items()
) + "".join(
    f'.level[data-level="{level}"] {{ --lc: {dot}; --lbg: {background}; --lfg: {text}; }}\n'
    for level, (dot, background, text) in LEVEL_PALETTE.items()
)

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 200, 44, 5
COLOURS = {**PALETTE, **LEVEL_PALETTE}  # a sparkline dot's, by light or level


def light(status: str | None, language: str, role: str = "light") -> str:
    """A traffic light: coloured dot and word; data-status NOT_ENABLED when null."""
    status_key = status or "NOT_ENABLED"
    word = LABELS[language][status] if status else LABELS[language]["not_enabled"]
    return (f'<span class="light" data-role="{role}" data-status="{escape(status_key)}">'
            f'<span class="dot" aria-hidden="true"></span>{escape(word)}</span>')


def _colour(status: str | None) -> str:
    """A sparkline dot's colour: its light's or DORA level's, grey when null."""
    return COLOURS.get(status or "NO_DATA", PALETTE["NO_DATA"])[0]


def sparkline(points: Sequence[Row], unit: str | None, language: str,
              missing: str = "NOT_ENABLED") -> str:
    """Inline SVG of a KPI's last periods: the value line, the target (dashed), one dot per
    period coloured by its light or DORA level (a hollow dot on the floor when it has no
    value); a null status reads as `missing` (its label: LABELS' lower-case key)."""
    if not points:
        return ""
    numbers = [p[column] for p in points for column in ("value", "target")
               if p[column] is not None]
    low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
    if math.isclose(low, high):
        low, high = low - 1, high + 1
    width = CHART_WIDTH - 2 * CHART_PAD
    step = width / (len(points) - 1) if len(points) > 1 else 0.0

    def x(index: int) -> float:
        return CHART_PAD + (index * step if len(points) > 1 else width / 2)

    def y(value: float) -> float:
        return CHART_PAD + (high - value) / (high - low) * (CHART_HEIGHT - 2 * CHART_PAD)

    def lines(column: str, css: str, steps: bool = False) -> list[str]:
        """Polylines through the non-null values of `column`; as steps (each value held
        over its period's width: targets change at a period's start) when `steps`."""
        half = step / 2 if len(points) > 1 else width / 2
        runs: list[list[str]] = [[]]
        for index, point in enumerate(points):
            if point[column] is None:
                runs.append([])
            elif steps:
                level = y(point[column])
                left = max(x(index) - half, CHART_PAD)
                right = min(x(index) + half, CHART_PAD + width)
                runs[-1] += [f"{left:.1f},{level:.1f}", f"{right:.1f},{level:.1f}"]
            else:
                runs[-1].append(f"{x(index):.1f},{y(point[column]):.1f}")
        return [f'<polyline points="{" ".join(run)}" {css}/>' for run in runs if len(run) > 1]

    parts = [*lines("target", 'data-line="target" fill="none" stroke="#8c959f" '
                              'stroke-width="1" stroke-dasharray="3 3"', steps=True),
             *lines("value", 'data-line="value" fill="none" stroke="#57606a" '
                             'stroke-width="1.5"')]
    labels = LABELS[language]
    for index, point in enumerate(points):
        status = point["status"]
        word = labels[status] if status else labels[missing.lower()]
        tip = (f"{format_period(point['grain'], point['period_start'], language)}: "
               f"{format_value(point['value'], unit, language)} ({word})")
        common = (f'data-period="{point["period_start"].isoformat()}" '
                  f'data-status="{escape(status or missing)}"')
        radius = 3.6 if point["is_current"] else 2.6
        if point["value"] is None:
            parts.append(f'<circle {common} cx="{x(index):.1f}" cy="{CHART_HEIGHT - 3}" r="2" '
                         f'fill="#ffffff" stroke="#8c959f"><title>{escape(tip)}</title></circle>')
        else:
            parts.append(f'<circle {common} cx="{x(index):.1f}" cy="{y(point["value"]):.1f}" '
                         f'r="{radius}" fill="{_colour(status)}" stroke="#ffffff" '
                         f'stroke-width="1"><title>{escape(tip)}</title></circle>')
    first, last = points[0], points[-1]
    span = format_span(len(points), last["grain"], language)
    dates = [_axis_date(last["grain"], last["period_start"])]
    if len(points) > 1:
        dates = [_axis_date(first["grain"], first["period_start"]), span, *dates]
    return (
        f'<svg role="img" aria-label="{escape(labels["trend"])}: {escape(span)}" '
        f'width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}">{"".join(parts)}</svg>'
        f'<div class="axis">{"".join(f"<span>{escape(d)}</span>" for d in dates)}'
        "</div>"
    )


def kpi_label(card: Row, language: str) -> str:
    label = card["display_name"] if language == "ko" else card["display_name_en"]
    return str(label or card["kpi_name"])


def _kpi_row(card: Row, marts: Marts, language: str) -> str:
    unit, status = card["unit"], card["status"]
    value, target = (format_value(card[c], unit, language) for c in ("value", "target"))
    achievement = card["achievement_pct"]
    bar = "" if achievement is None else (
        f'<div class="bar" data-status="{escape(status)}">'
        f'<span style="width:{min(max(achievement, 0.0), 100.0):.1f}%"></span></div>')
    period = format_period(card["grain"], card["period_start"], language)
    return (
        f'<tr data-kpi="{escape(card["kpi_name"])}" data-status="{escape(status)}">'
        f'<td><span class="kpi-name">{escape(kpi_label(card, language))}</span>'
        f'<span class="sub">{escape(card["kpi_name"])}</span></td>'
        f'<td data-col="status">{light(status, language)}</td>'
        f'<td data-col="period">{escape(period)}'
        f'<span class="sub">{escape(LABELS[language]["to_date"])}</span></td>'
        f'<td class="num value" data-col="value">{escape(value)}</td>'
        f'<td class="num" data-col="target">{escape(target)}</td>'
        f'<td class="num" data-col="achievement">'
        f'{escape(DASH if achievement is None else f"{format_number(achievement)}%")}{bar}</td>'
        f'<td class="trend" data-col="trend">'
        f'{sparkline(marts.points(card["tenant_id"], card["kpi_name"]), unit, language)}</td>'
        "</tr>"
    )


def _slice_table(breakdown: str, rows: Sequence[Row], unit: str | None, language: str) -> str:
    labels = LABELS[language]
    head = "".join(f'<th class="{css}">{escape(text)}</th>' for text, css in (
        (labels.get(breakdown, breakdown), ""), (labels["value"], "num"),
        (labels["status"], ""), (labels["size"], "num")))
    body = "".join(
        f'<tr data-slice="{escape(str(row["breakdown_value"]))}" '
        f'data-status="{escape(row["status"] or "NOT_ENABLED")}">'
        f'<td data-col="slice">{escape(str(row["breakdown_value"]))}</td>'
        f'<td class="num" data-col="value">{escape(format_value(row["value"], unit, language))}'
        f'</td><td data-col="status">{light(row["status"], language, "slice")}</td>'
        f'<td class="num" data-col="size">{escape(format_number(slice_size(row)))}</td></tr>'
        for row in rows)
    return (f'<table data-breakdown="{escape(breakdown)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def _attention(tenant_id: Any, cards: Sequence[Row], marts: Marts, language: str) -> str:
    """The tenant's open requests past their SLA, then, per RED or YELLOW scorecard KPI,
    the worst slices of each breakdown."""
    labels = LABELS[language]
    breached = marts.breached_count(tenant_id)
    blocks = []
    for card in cards:
        if card["status"] not in ATTENTION:
            continue
        worst = marts.worst(card)
        tables = ("".join(_slice_table(name, rows, card["unit"], language)
                          for name, rows in worst)
                  or f'<p class="sub">{escape(labels["no_slices"])}</p>')
        blocks.append(
            f'<div class="worst-kpi" data-kpi="{escape(card["kpi_name"])}" '
            f'data-status="{escape(card["status"])}"><div class="worst-head">'
            f'{light(card["status"], language)}<span>{escape(kpi_label(card, language))}</span>'
            f'</div><div class="slices">{tables}</div></div>')
    worst = (f'<h3>{escape(labels["worst"])}</h3>'
             f'<p class="legend">{escape(labels["worst_note"].format(n=WORST_SHOWN))}</p>'
             f'{"".join(blocks)}') if blocks else ""
    return (f'<div class="attention" data-role="attention">'
            f'<p class="breached" data-role="breached" data-count="{breached}">'
            f'{escape(labels["breached"])}: <span class="n">{breached}</span></p>'
            f"{worst}</div>")


def level_badge(level: str | None, language: str, role: str = "level") -> str:
    """A DORA level: a coloured pill with its word (grey "no level" when null)."""
    word = LABELS[language][level] if level else LABELS[language]["no_level"]
    return (f'<span class="level" data-role="{role}" data-level="{escape(level or "NONE")}">'
            f"{escape(word)}</span>")


def _dora_points(rows: Sequence[Row], column: str, level_column: str | None,
                 period: date) -> list[Row]:
    """A DORA metric's trend as sparkline points: its level as the dot's status (NO_DATA
    without a value, null without a level), no target."""
    return [{"grain": row["grain"], "period_start": row["period_start"],
             "is_current": row["period_start"] == period, "value": row[column],
             "target": None,
             "status": "NO_DATA" if row[column] is None else (
                 row[level_column] if level_column else None)} for row in rows]


def _dora_block(tenant_id: Any, marts: Marts, language: str) -> str:
    """The tenant's DORA KPIs at DORA_GRAIN for its current period: each metric's value,
    level and trend, the overall level, the services' rows; or why there is none."""
    labels = LABELS[language]
    period = marts.dora_period(tenant_id) if marts.has_dora(tenant_id) else None
    if period is None:
        return (f'<div class="dora" data-role="dora" data-state="disabled">'
                f'<h3>{escape(labels["dora"])}</h3>'
                f'<p class="sub note">{escape(labels["dora_disabled"])}</p></div>')
    total, services = marts.dora_rows(tenant_id, period)
    trend = marts.dora_trend(tenant_id, period)
    period_text = format_period(DORA_GRAIN, period, language)
    no_values = total is None or all(total[column] is None for _, column, _ in DORA_METRICS)
    overall = total["overall_level"] if total else None
    legend = labels["dora_note"].format(period=period_text, to_date=labels["to_date"],
                                        n=DORA_TREND_PERIODS)
    rows = []
    for kpi_name, column, level_column in DORA_METRICS:
        unit = marts.kpi(kpi_name)["unit"]
        value = total[column] if total else None
        level = total[level_column] if total and level_column else None
        points = _dora_points(trend, column, level_column, period)
        rows.append(
            f'<tr data-metric="{kpi_name}"><td><span class="kpi-name">'
            f'{escape(kpi_label(marts.kpi(kpi_name), language))}</span>'
            f'<span class="sub">{kpi_name}</span></td>'
            f'<td class="num value" data-col="value">{escape(format_value(value, unit, language))}'
            f'</td><td data-col="level">'
            f'{level_badge(level, language) if level_column and value is not None else DASH}'
            "</td>"
            f'<td class="trend" data-col="trend">'
            f'{sparkline(points, unit, language, "NO_LEVEL")}</td></tr>')
    head = "".join(f'<th class="{css}">{escape(labels[key])}</th>' for key, css in (
        ("kpi", ""), ("value", "num"), ("level", ""), ("trend", "")))
    note = (f'<p class="note" data-role="dora-no-data">'
            f'{escape(labels["dora_no_deployments"].format(period=period_text))}</p>'
            if no_values else "")
    return (
        f'<div class="dora" data-role="dora" '
        f'data-state="{"no_deployments" if no_values else "values"}" '
        f'data-period="{period.isoformat()}"><div class="dora-head">'
        f'<h3>{escape(labels["dora"])} · {escape(period_text)}</h3>'
        f'<span>{escape(labels["dora_level"])}: {level_badge(overall, language, "dora-overall")}'
        f'</span></div>{note}'
        f'<table class="dora-metrics"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table>'
        f"{_dora_services(services, marts, language)}"
        f'<p class="legend">{escape(legend)}</p></div>')


def _dora_services(services: Sequence[Row], marts: Marts, language: str) -> str:
    """The services' rows of the period: each metric's value and level, the overall."""
    if not services:
        return ""
    labels = LABELS[language]
    head = "".join(f'<th class="num">{escape(kpi_label(marts.kpi(kpi_name), language))}</th>'
                   for kpi_name, _, _ in DORA_METRICS)
    body = []
    for row in services:
        cells = "".join(
            f'<td class="num" data-col="{kpi_name}">'
            f'{escape(format_value(row[column], marts.kpi(kpi_name)["unit"], language))}'
            f"{level_badge(row[level], language) if level and row[column] is not None else ''}"
            "</td>" for kpi_name, column, level in DORA_METRICS)
        body.append(f'<tr data-service="{escape(str(row["service"]))}">'
                    f'<td data-col="service">{escape(str(row["service"]))}</td>{cells}'
                    f'<td data-col="overall">{level_badge(row["overall_level"], language)}</td>'
                    "</tr>")
    return (f'<table class="dora-services"><thead><tr><th>{escape(labels["service"])}</th>'
            f'{head}<th>{escape(labels["dora_level"])}</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _tenant_section(tenant: Row, marts: Marts, language: str) -> str:
    labels = LABELS[language]
    tenant_id = tenant["tenant_id"]
    counts = " · ".join(f"{tenant[f'{status.lower()}_count']} {labels[status]}"
                        for status in STATUSES)
    cards = marts.cards(tenant_id)
    head = "".join(f'<th class="{css}">{escape(labels[key])}</th>' for key, css in (
        ("kpi", ""), ("status", ""), ("period", ""), ("value", "num"), ("target", "num"),
        ("achievement", "num"), ("trend", "")))
    body = (f"<table><thead><tr>{head}</tr></thead><tbody>"
            f"{''.join(_kpi_row(card, marts, language) for card in cards)}</tbody></table>"
            if cards else f'<p class="sub">{escape(labels["no_kpis"])}</p>')
    return (
        f'<section class="panel tenant" id="tenant-{escape(str(tenant_id))}" '
        f'data-tenant="{escape(str(tenant_id))}" data-status="{escape(tenant["overall_status"])}">'
        f'<div class="tenant-head"><h2>{escape(str(tenant["tenant_name"]))} '
        f'<span class="tid">#{escape(str(tenant_id))}</span></h2>'
        f'<span class="badge light" data-role="overall" '
        f'data-status="{escape(tenant["overall_status"])}">'
        f'<span class="dot" aria-hidden="true"></span>'
        f'{escape(labels["overall"])}: {escape(labels[tenant["overall_status"]])}</span>'
        f'<span class="counts">{escape(counts)}</span></div>{body}'
        f"{_attention(tenant_id, cards, marts, language)}"
        f"{_dora_block(tenant_id, marts, language)}</section>"
    )


def _overview(marts: Marts, language: str) -> str:
    labels = LABELS[language]
    names = marts.kpi_names()
    labels_by_kpi = {c["kpi_name"]: kpi_label(c, language) for c in marts.scorecard}
    head = "".join(f"<th>{escape(labels_by_kpi[name])}</th>" for name in names)
    rows = []
    for tenant in marts.tenants:
        by_kpi = {c["kpi_name"]: c for c in marts.cards(tenant["tenant_id"])}
        cells = "".join(
            f'<td>{light(by_kpi[name]["status"], language, "cell")}</td>' if name in by_kpi
            else f"<td>{DASH}</td>" for name in names)
        rows.append(
            f'<tr data-tenant="{escape(str(tenant["tenant_id"]))}"><td>'
            f'<a href="#tenant-{escape(str(tenant["tenant_id"]))}">'
            f'{escape(str(tenant["tenant_name"]))}</a></td>'
            f'<td>{light(tenant["overall_status"], language, "cell")}</td>{cells}</tr>')
    return (f'<section class="panel overview"><h2>{escape(labels["overview"])}</h2>'
            f'<table><thead><tr><th>{escape(labels["tenant"])}</th>'
            f'<th>{escape(labels["overall"])}</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="legend">{escape(labels["legend"])} {escape(labels["target_line"])}.</p>'
            "</section>")


def render_html(marts: Marts, language: str) -> str:
    """The whole page in `language` (en or ko), linking to the other language's file."""
    labels = LABELS[language]
    other = next(code for code in LANGUAGES if code != language)
    counts = marts.status_counts()
    tiles = "".join(
        f'<div class="tile" data-status="{status}" data-role="summary">'
        f'<span class="count">{counts[status]}</span>{light(status, language, "summary-light")}'
        "</div>" for status in STATUSES)
    title = labels["title"]
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"
        f'<div class="top"><h1>{escape(title)}</h1>'
        f'<a class="lang" href="{file_name(other)}" hreflang="{other}" lang="{other}">'
        f"{escape(LABELS[other]['language_name'])}</a></div>"
        f'<p class="meta">{escape(labels["as_of"])} {escape(marts.as_of())} · '
        f'{len(marts.tenants)} {escape(labels["tenants"])}</p>'
        f'<section class="panel summary" data-role="overall-summary">'
        f'<h2>{escape(labels["overall_status"])}</h2><div class="tiles">{tiles}</div></section>'
        f"{_overview(marts, language)}"
        f'{"".join(_tenant_section(t, marts, language) for t in marts.tenants)}'
        "</main></body></html>\n"
    )


# --- Markdown ---------------------------------------------------------------------------

def _md(text: object) -> str:
    return escape(str(text)).replace("|", "\\|")


def markdown_summary(marts: Marts) -> str:
    """One row per tenant: its overall light and each scorecard KPI's light and value."""
    names = marts.kpi_names()
    lines = [
        f"| Tenant | Overall | {' | '.join(_md(n) for n in names)} |",
        f"|---|---|{'---|' * len(names)}",
    ]
    for tenant in marts.tenants:
        by_kpi = {c["kpi_name"]: c for c in marts.cards(tenant["tenant_id"])}
        cells = [
            f"{MARKDOWN_ICONS[by_kpi[n]['status']]} {by_kpi[n]['status']} "
            f"{_md(format_value(by_kpi[n]['value'], by_kpi[n]['unit'], 'en'))}"
            if n in by_kpi else DASH
            for n in names
        ]
        overall = tenant["overall_status"]
        lines.append(f"| {_md(tenant['tenant_name'])} ({tenant['tenant_id']}) | "
                     f"{MARKDOWN_ICONS[overall]} {overall} | {' | '.join(cells)} |")
    lines += ["", f"DORA ({DORA_GRAIN.lower()}, current period):", ""]
    lines += [f"- {_md(tenant['tenant_name'])} ({tenant['tenant_id']}): "
              f"{_md(dora_line(tenant['tenant_id'], marts))}" for tenant in marts.tenants]
    return "\n".join(lines) + "\n"


def dora_line(tenant_id: Any, marts: Marts) -> str:
    """The tenant's DORA KPIs in one line, in English: period, overall level and each
    value with its level; or why there is none."""
    period = marts.dora_period(tenant_id) if marts.has_dora(tenant_id) else None
    if period is None:
        return "DORA KPIs not enabled (no row in dora_scorecard)"
    total, _ = marts.dora_rows(tenant_id, period)
    text = format_period(DORA_GRAIN, period, "en")
    if total is None or all(total[column] is None for _, column, _ in DORA_METRICS):
        return f"{text}: no production deployments (NO_DATA)"
    values = []
    for kpi_name, column, level_column in DORA_METRICS:
        value = format_value(total[column], marts.kpi(kpi_name)["unit"], "en")
        level = (f" ({total[level_column] or 'no level'})"
                 if level_column and total[column] is not None else "")
        values.append(f"{kpi_name} {value}{level}")
    return f"{text}: overall {total['overall_level'] or 'no level'} · {' · '.join(values)}"


# --- writing ----------------------------------------------------------------------------

def file_name(language: str) -> str:
    return f"scorecard.{language}.html"


def report_dir() -> Path:
    """KPI_REPORT_DIR (relative to the project) or reports/ under the project."""
    folder = Path(os.environ.get("KPI_REPORT_DIR") or "reports")
    return folder if folder.is_absolute() else PROJECT_DIR / folder


def write_pages(
    marts: Marts, folder: Path, languages: Iterable[str] = LANGUAGES
) -> dict[str, Path]:
    """Writes each language's page; each file is replaced whole (a reader never sees half
    a page)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for language in languages:
        path = folder / file_name(language)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_text(render_html(marts, language), encoding="utf-8")
        partial.replace(path)
        paths[language] = path
    return paths


def publish(target: str | None = None, base: Path = PROJECT_DIR,
            folder: Path | None = None) -> Report:
    """Reads the marts of `target` and writes both pages to `folder` (default
    report_dir())."""
    marts = read_marts(target, base)
    paths = write_pages(marts, folder or report_dir())
    return Report(paths=paths, tenant_count=len(marts.tenants),
                  status_counts=marts.status_counts(), markdown=markdown_summary(marts))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m itsm_kpi.report",
                                     description="Writes the scorecard report (HTML, en + ko).")
    parser.add_argument("--out", type=Path, help="folder (default: KPI_REPORT_DIR or reports/)")
    parser.add_argument("--target", choices=warehouse.TARGETS,
                        help="engine (default: DBT_TARGET or duckdb)")
    args = parser.parse_args(argv)
    try:
        report = publish(args.target, folder=args.out)
    except Exception as error:  # missing file, database errors: one line, exit 1
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    for path in report.paths.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

