"""Alert delivery (README "Alerts").

dbt decides what to tell whom: marts.kpi_alerts holds one row per change of light that an
alert is about (TURNED_RED, TURNED_YELLOW, RECOVERED, NO_DATA) and per channel that
seeds/alert_rules.csv routes it to, with its idempotency key; marts.alert_routes names the
channels of the FEED_STALE alerts and of the daily digests. This module renders them
(English or Korean, with the report's labels), sends each through Apprise to its channel's
URL (KPI_ALERT_URL_<CHANNEL>) and keeps the state between deliveries (`State`): how far
the marts were read, which messages wait for a retry, which raw feeds are in a stale
episode, which day's digest went out. The Dagster sensor (orchestration/alerts.py) keeps
that state as its cursor and calls `tick` once per evaluation; the cursor is saved when the
evaluation ends.

What that gives:
- at least once: a message leaves the state only when its channel took it; a failed one
  (HTTP error, connection refused, SMTP error) is retried on later ticks, with a backoff
  that doubles from KPI_ALERT_RETRY_SECONDS up to KPI_ALERT_RETRY_MAX_SECONDS;
- never twice once recorded: rows read are behind the watermark (their seen_at), digests
  behind the day, stale feeds behind their episode;
- a crash after a send and before the cursor is saved repeats that tick's sends once,
  with the same idempotency key (in the body, and as the `Idempotency-Key` header on the
  channels that take headers: JSON, form and XML webhooks, e-mail).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import apprise

from itsm_kpi import report, warehouse
from itsm_kpi.paths import PROJECT_DIR

Row = dict[str, Any]

KPI_TRANSITIONS = ("TURNED_RED", "TURNED_YELLOW", "RECOVERED", "NO_DATA")
FEED_STALE = "FEED_STALE"
DAILY_DIGEST = "DAILY_DIGEST"
URL_VARIABLE = "KPI_ALERT_URL_{}"  # one per channel, the channel's name upper-cased
LANGUAGE_VARIABLE = "KPI_ALERT_LANGUAGE_{}"  # en (default) or ko, per channel
DEFAULT_LANGUAGE_VARIABLE = "KPI_ALERT_LANGUAGE"  # every channel's default
REPORT_URL_VARIABLE = "KPI_REPORT_URL"  # `{language}` in it becomes en or ko
KEY_HEADER = "Idempotency-Key"
STATE_VERSION = 1
FRESHNESS_ERROR = "error"  # dbt source freshness status past error_after

NOTIFY_TYPES = {
    "TURNED_RED": apprise.NotifyType.FAILURE,
    "TURNED_YELLOW": apprise.NotifyType.WARNING,
    "RECOVERED": apprise.NotifyType.SUCCESS,
    "NO_DATA": apprise.NotifyType.INFO,
    FEED_STALE: apprise.NotifyType.WARNING,
    DAILY_DIGEST: apprise.NotifyType.INFO,
}

# the words of the alerts; the rest (lights, KPI, value, target, period...) are the
# report's (report.LABELS)
ALERT_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "TURNED_RED": "turned Red", "TURNED_YELLOW": "turned Yellow",
        "RECOVERED": "recovered (Green)", "NO_DATA": "lost its data (No data)",
        "was": "was {}", "first_seen": "first seen",
        "stale_title": "raw feed {table} is stale",
        "stale_body": "No new row in raw.{table} for {hours} hours (dbt source freshness: "
                      "error). Every tenant's KPIs are computed from data that stops there "
                      "until the feed loads again.",
        "last_row": "Last row", "digest_title": "KPI digest {day}",
        "digest_empty": "No KPI value for the current period.",
        "report": "Report", "key": "Idempotency key", "all_tenants": "all tenants",
    },
    "ko": {
        "TURNED_RED": "위험으로 바뀜", "TURNED_YELLOW": "주의로 바뀜",
        "RECOVERED": "정상으로 회복", "NO_DATA": "데이터 없음으로 바뀜",
        "was": "직전 {}", "first_seen": "처음 관측",
        "stale_title": "원천 테이블 {table} 갱신 지연",
        "stale_body": "raw.{table}에 {hours}시간 동안 새 행이 없습니다(dbt source freshness: "
                      "error). 다시 적재될 때까지 모든 테넌트의 KPI가 그 시점까지의 데이터로 "
                      "계산됩니다.",
        "last_row": "마지막 행", "digest_title": "KPI 일일 요약 {day}",
        "digest_empty": "현재 기간의 KPI 값이 없습니다.",
        "report": "보고서", "key": "멱등성 키", "all_tenants": "전체 테넌트",
    },
}

ALERTS_SQL = "select * from marts.kpi_alerts where seen_at > {marker}"
ROUTES_SQL = (f"select * from marts.alert_routes "
              f"where transition in ('{FEED_STALE}', '{DAILY_DIGEST}')")
SCORECARD_SQL = "select * from marts.kpi_scorecard"


class AlertError(ValueError):
    """A setting of the alerts is wrong: the message says which and how to fix it."""


# --- settings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    retry_seconds: float = 60.0  # wait before the first retry; doubles after each failure
    retry_max_seconds: float = 3600.0  # longest wait between two tries
    poll_minutes: float = 15.0  # read the marts at least this often, refresh or not
    start_hours: float = 24.0  # first tick (no state yet): changes seen this recently
    tick_seconds: float = 30.0  # stop sending after this long; the rest waits a tick

    VARIABLES = {
        "retry_seconds": "KPI_ALERT_RETRY_SECONDS",
        "retry_max_seconds": "KPI_ALERT_RETRY_MAX_SECONDS",
        "poll_minutes": "KPI_ALERT_POLL_MINUTES",
        "start_hours": "KPI_ALERT_START_HOURS",
        "tick_seconds": "KPI_ALERT_TICK_SECONDS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for name, variable in cls.VARIABLES.items():
            text = (environ.get(variable) or "").strip()
            if not text:
                continue
            try:
                number = float(text)
            except ValueError:
                number = -1.0
            if not number >= 0 or number == float("inf"):
                raise AlertError(f"{variable} must be a number of "
                                 f"{name.split('_')[-1]} (0 or more), got {text!r}")
            values[name] = number
        return cls(**values)


def channel_url(channel: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The Apprise URL of `channel` (KPI_ALERT_URL_<CHANNEL>), None when not set."""
    environ = os.environ if environ is None else environ
    return (environ.get(URL_VARIABLE.format(channel.upper())) or "").strip() or None


def channel_language(channel: str, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    variable = LANGUAGE_VARIABLE.format(channel.upper())
    text = (environ.get(variable) or environ.get(DEFAULT_LANGUAGE_VARIABLE) or "en").strip()
    if text.lower() not in report.LANGUAGES:
        raise AlertError(f"{variable} (or {DEFAULT_LANGUAGE_VARIABLE}) must be one of "
                         f"{', '.join(report.LANGUAGES)}, got {text!r}")
    return text.lower()


def report_url(language: str, environ: Mapping[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    url = (environ.get(REPORT_URL_VARIABLE) or "").strip()
    return url.replace("{language}", language) if url else None


# --- messages ----------------------------------------------------------------------------

@dataclass
class Message:
    """One notification to one channel, as sent (and as kept while it waits for a retry)."""

    key: str  # idempotency key: the same on every try
    channel: str
    kind: str  # a KPI transition, FEED_STALE or DAILY_DIGEST
    language: str
    title: str
    body: str
    fields: dict[str, Any]  # machine-readable, in JSON webhooks' payload
    attempts: int = 0  # failed tries so far
    next_at: str | None = None  # ISO UTC: not retried before
    error: str | None = None  # the last failure's reason

    @property
    def notify_type(self) -> apprise.NotifyType:
        return NOTIFY_TYPES.get(self.kind, apprise.NotifyType.INFO)


def digest_key(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _percent(value: float | None) -> str:
    return report.DASH if value is None else f"{report.format_number(value)}%"


def _footer(language: str, key: str, anchor: str = "") -> list[str]:
    words = ALERT_LABELS[language]
    url = report_url(language)
    lines = [f"{words['report']}: {url}{anchor}"] if url else []
    return [*lines, f"{words['key']}: {key}"]


def kpi_alert_message(row: Row, language: str) -> Message:
    """The message of one row of marts.kpi_alerts."""
    labels, words = report.LABELS[language], ALERT_LABELS[language]
    kpi = row["display_name"] if language == "ko" else row["display_name_en"]
    unit = row["unit"]
    period = report.format_period(row["grain"], row["period_start"], language)
    title = f"[KPI] {row['tenant_name']}: {kpi} {words[row['transition']]}"
    was = (words["was"].format(report.LABELS[language][row["previous_status"]])
           if row["previous_status"] else words["first_seen"])
    body = [
        f"{labels['tenant']}: {row['tenant_name']} ({row['tenant_id']})",
        f"{labels['kpi']}: {kpi}",
        f"{labels['status']}: {labels[row['status']]} ({was})",
        f"{labels['value']}: {report.format_value(row['value'], unit, language)} · "
        f"{labels['target']}: {report.format_value(row['target'], unit, language)} · "
        f"{labels['achievement']}: {_percent(row['achievement_pct'])}",
        f"{labels['period']}: {period}",
        f"{labels['as_of']}: {_iso(row['as_of'])} UTC",
        *_footer(language, row["alert_key"], f"#tenant-{row['tenant_id']}"),
    ]
    fields = {name: _iso(row[name]) for name in (
        "alert_key", "transition", "tenant_id", "tenant_name", "kpi_name", "grain",
        "period_start", "period_end", "previous_status", "status", "value", "target",
        "achievement_pct", "unit", "as_of", "seen_at")}
    return Message(key=row["alert_key"], channel=row["channel"], kind=row["transition"],
                   language=language, title=title, body="\n".join(body),
                   fields={**fields, "language": language})


@dataclass(frozen=True)
class Feed:
    """The latest dbt source freshness of one raw table, as Dagster observed it."""

    table: str
    status: str  # dbt's: pass, warn, error (runtime error: anything else)
    observed_at: float  # epoch seconds of the observation
    hours_since_last_row: float | None = None
    last_row_at: float | None = None  # epoch seconds


def feed_stale_message(feed: Feed, episode: str, channel: str, language: str) -> Message:
    words = ALERT_LABELS[language]
    key = digest_key(FEED_STALE, feed.table, episode, channel)
    hours = report.format_number(feed.hours_since_last_row)
    body = [words["stale_body"].format(table=feed.table, hours=hours)]
    last_row = None
    if feed.last_row_at is not None:
        last_row = datetime.fromtimestamp(feed.last_row_at, timezone.utc).replace(tzinfo=None)
        body.append(f"{words['last_row']}: {last_row.isoformat()} UTC")
    body += _footer(language, key)
    return Message(
        key=key, channel=channel, kind=FEED_STALE, language=language,
        title=f"[KPI] {words['all_tenants']}: {words['stale_title'].format(table=feed.table)}",
        body="\n".join(body),
        fields={"alert_key": key, "transition": FEED_STALE, "table": feed.table,
                "hours_since_last_row": feed.hours_since_last_row,
                "last_row_at": _iso(last_row), "episode_started_at": episode,
                "language": language})


def digest_message(tenant: Row, cards: Sequence[Row], channel: str, language: str,
                   day: date) -> Message:
    """One tenant's scorecard lights, worst first."""
    labels, words = report.LABELS[language], ALERT_LABELS[language]
    key = digest_key(DAILY_DIGEST, tenant["tenant_id"], channel, day.isoformat())
    order = {status: rank for rank, status in enumerate(report.STATUSES)}
    lines = []
    for card in sorted(cards, key=lambda c: (order.get(c["status"], 9), c["kpi_name"])):
        kpi = card["display_name"] if language == "ko" else card["display_name_en"]
        lines.append(
            f"{report.MARKDOWN_ICONS.get(card['status'], '')} {labels[card['status']]} · {kpi}: "
            f"{report.format_value(card['value'], card['unit'], language)} "
            f"({labels['target']} {report.format_value(card['target'], card['unit'], language)}"
            f", {report.format_period(card['grain'], card['period_start'], language)})")
    name = cards[0]["tenant_name"] if cards else tenant.get("tenant_name") or tenant["tenant_id"]
    body = [*(lines or [words["digest_empty"]]),
            *_footer(language, key, f"#tenant-{tenant['tenant_id']}")]
    return Message(
        key=key, channel=channel, kind=DAILY_DIGEST, language=language,
        title=f"[KPI] {name}: {words['digest_title'].format(day=day.isoformat())}",
        body="\n".join(body),
        fields={"alert_key": key, "transition": DAILY_DIGEST,
                "tenant_id": tenant["tenant_id"], "day": day.isoformat(),
                "lights": {c["kpi_name"]: c["status"] for c in cards}, "language": language})


# --- sending -----------------------------------------------------------------------------

def send(message: Message, url: str) -> str | None:
    """Sends `message` to the Apprise `url`: None when the channel took it, else why not
    (never the URL itself, which may hold a secret)."""
    asset = apprise.AppriseAsset(storage_mode="memory")  # no cache files on disk
    plugin = apprise.Apprise.instantiate(url, asset=asset)
    if plugin is None:
        return (f"the URL of channel {message.channel} is not one Apprise understands "
                f"(check {URL_VARIABLE.format(message.channel.upper())})")
    headers = getattr(plugin, "headers", None)
    if isinstance(headers, dict):  # JSON / form / XML webhooks, e-mail
        headers.setdefault(KEY_HEADER, message.key)
    extras = getattr(plugin, "payload_extras", None)
    if isinstance(extras, dict) and type(plugin).__name__ == "NotifyJSON":
        for name, value in message.fields.items():
            extras.setdefault(name, value)
    notifier = apprise.Apprise(asset=asset)
    notifier.add(plugin)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        delivered = notifier.notify(body=message.body, title=message.title,
                                    notify_type=message.notify_type,
                                    body_format=apprise.NotifyFormat.TEXT)
    if delivered:
        return None
    reasons = [line.split(" - ", 2)[-1].strip() for line in captured.getvalue().splitlines()]
    return "; ".join(reason for reason in reasons if reason) or "the channel refused it"


# --- state and tick ----------------------------------------------------------------------

@dataclass
class State:
    """What the sensor's cursor holds between ticks."""

    watermark: str | None = None  # seen_at of the newest marts.kpi_alerts rows read
    pending: list[dict[str, Any]] = field(default_factory=list)  # Messages to (re)try
    stale: dict[str, str] = field(default_factory=dict)  # feed -> its episode's start
    digest_day: str | None = None  # UTC day of the last digest
    refresh_seen: float | None = None  # end (epoch) of the newest refresh run handled
    last_read: str | None = None  # when the marts were last read (ISO UTC)

    @classmethod
    def load(cls, cursor: str | None) -> State:
        if not cursor:
            return cls()
        data = json.loads(cursor)
        if data.pop("version", None) != STATE_VERSION:
            raise AlertError(f"the alert sensor's cursor is not version {STATE_VERSION}: "
                             "reset it (Dagster UI, the sensor's page) to start over")
        return cls(**data)

    def dump(self) -> str:
        return json.dumps({"version": STATE_VERSION, **asdict(self)}, sort_keys=True,
                          ensure_ascii=False)


@dataclass
class Tick:
    """What one tick did."""

    state: State
    delivered: list[Message] = field(default_factory=list)
    failed: list[Message] = field(default_factory=list)  # kept for a retry
    unconfigured: list[Message] = field(default_factory=list)  # no URL: the log only
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        parts = [f"{len(self.delivered)} delivered"]
        if self.failed:
            retry = min(m.next_at or "" for m in self.failed)
            reasons = sorted({f"{m.channel}: {m.error}" for m in self.failed})
            parts.append(f"{len(self.failed)} failed, next try from {retry} UTC "
                         f"({'; '.join(reasons)})")
        if self.unconfigured:
            channels = sorted({m.channel for m in self.unconfigured})
            parts.append(f"{len(self.unconfigured)} only in this log, no URL for channel(s) "
                         f"{', '.join(channels)} "
                         f"({', '.join(URL_VARIABLE.format(c.upper()) for c in channels)})")
        waiting = len(self.state.pending) - len(self.failed)
        if waiting > 0:
            parts.append(f"{waiting} waiting")
        return "; ".join(parts + self.notes)


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _read(engine: str | None, base: Path, state: State, settings: Settings, now: datetime,
          digest: bool) -> tuple[list[Row], list[Row], list[Row], list[str]]:
    """New alert rows, the routes of stale feeds and digests, and (for a digest) the
    scorecard, in one read-only connection."""
    notes: list[str] = []
    with warehouse.connect(engine, read_only=True, base=base) as conn:
        marker = warehouse.placeholder(engine or warehouse.target())
        if state.watermark is None:
            since = _utc_naive(now) - timedelta(hours=settings.start_hours)
            older = warehouse.query(
                conn, "select count(*) as n from marts.kpi_alerts where seen_at <= "
                + marker, [since])[0]["n"]
            if older:
                notes.append(f"first tick: {older} alert(s) seen before {since.isoformat()} "
                             "UTC not sent (KPI_ALERT_START_HOURS)")
        else:
            since = datetime.fromisoformat(state.watermark)
        rows = warehouse.query(conn, ALERTS_SQL.format(marker=marker), [since])
        routes = warehouse.query(conn, ROUTES_SQL)
        scorecard = warehouse.query(conn, SCORECARD_SQL) if digest else []
    order = ("seen_at", "tenant_id", "kpi_name", "grain", "period_start", "channel")
    rows.sort(key=lambda r: tuple(str(r[name]) for name in order))
    return rows, routes, scorecard, notes


def tick(state: State, *, now: datetime, refreshed_at: float | None = None,
         daily_refreshed: bool = False, feeds: Sequence[Feed] = (),
         engine: str | None = None, base: Path = PROJECT_DIR,
         settings: Settings | None = None,
         sender: Callable[[Message, str], str | None] = send,
         log: Callable[[str, Message], None] | None = None) -> Tick:
    """One evaluation: reads the marts when a refresh ended since the last one
    (`refreshed_at`, epoch), when none was read for KPI_ALERT_POLL_MINUTES, or when a feed
    turned stale or a digest is due; builds the new messages; sends them and the retries
    that are due; returns the new state. `log(event, message)` hears of every message
    (event: delivered, failed, unconfigured): the Dagster log channel."""
    settings = settings or Settings.from_env()
    state = State(**asdict(state))  # the caller's stays as it was
    result = Tick(state=state)
    today = now.astimezone(timezone.utc).date()
    newly_stale = [f for f in feeds if f.status == FRESHNESS_ERROR and f.table not in state.stale]
    for feed in feeds:  # an episode ends when the feed is fresh again
        if feed.status != FRESHNESS_ERROR and feed.table in state.stale:
            del state.stale[feed.table]
            result.notes.append(f"raw feed {feed.table} fresh again")
    digest_due = daily_refreshed and state.digest_day != today.isoformat()
    poll_due = state.last_read is None or (
        now - datetime.fromisoformat(state.last_read) >= timedelta(minutes=settings.poll_minutes))
    refresh_due = refreshed_at is not None and refreshed_at > (state.refresh_seen or 0)

    fresh: list[Message] = []
    if refresh_due or poll_due or newly_stale or digest_due:
        try:
            rows, routes, scorecard, notes = _read(engine, base, state, settings, now,
                                                   digest_due)
        except Exception as error:  # DuckDB locked by a run, server down, nothing built
            result.notes.append(f"marts not read ({type(error).__name__}: "
                                f"{str(error).splitlines()[0] if str(error) else ''}); "
                                "read again next tick")
        else:
            result.notes += notes
            fresh += [kpi_alert_message(row, channel_language(row["channel"])) for row in rows]
            if rows:
                state.watermark = max(row["seen_at"] for row in rows).isoformat()
            elif state.watermark is None:
                state.watermark = _utc_naive(now - timedelta(hours=settings.start_hours)
                                             ).isoformat()
            stale_channels = sorted({r["channel"] for r in routes
                                     if r["transition"] == FEED_STALE})
            for feed in newly_stale:
                episode = datetime.fromtimestamp(feed.observed_at, timezone.utc).isoformat()
                state.stale[feed.table] = episode
                fresh += [feed_stale_message(feed, episode, channel, channel_language(channel))
                          for channel in stale_channels]
            if digest_due:
                state.digest_day = today.isoformat()
                for route in sorted((r for r in routes if r["transition"] == DAILY_DIGEST),
                                    key=lambda r: (r["tenant_id"], r["channel"])):
                    cards = [c for c in scorecard if c["tenant_id"] == route["tenant_id"]]
                    fresh.append(digest_message(route, cards, route["channel"],
                                                channel_language(route["channel"]), today))
            state.last_read = now.isoformat()
            if refresh_due:
                state.refresh_seen = refreshed_at

    due, later = [], []
    for kept in state.pending:
        message = Message(**kept)
        (due if (message.next_at or "") <= now.isoformat() else later).append(message)
    started = time.monotonic()
    waiting: list[Message] = list(later)
    for message in [*due, *fresh]:
        if time.monotonic() - started > settings.tick_seconds:
            waiting.append(message)  # out of time: the next tick sends it
            continue
        url = channel_url(message.channel)
        if url is None:
            result.unconfigured.append(message)
            if log:
                log("unconfigured", message)
            continue
        error = sender(message, url)
        if error is None:
            result.delivered.append(message)
            if log:
                log("delivered", message)
            continue
        message.attempts += 1
        message.error = error
        wait = min(settings.retry_seconds * 2 ** (message.attempts - 1),
                   settings.retry_max_seconds)
        message.next_at = (now + timedelta(seconds=wait)).isoformat()
        result.failed.append(message)
        waiting.append(message)
        if log:
            log("failed", message)
    state.pending = [asdict(message) for message in waiting]
    return result
