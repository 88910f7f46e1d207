"""Alerts end to end (README "Alerts"), on DuckDB and PostgreSQL: the product's Dagster jobs
refresh the hand-made fixture (tests/fixtures_hand.py), the product's sensor
(orchestration/alerts.py) delivers through Apprise's real JSON-webhook and e-mail
transports to an HTTP server and an SMTP server this module starts on 127.0.0.1.

One scenario per engine, run once (`scenario`), each phase's deliveries recorded; the
tests below check them against what the lights are by hand (test_kpis_by_hand.SCORECARD)
and against the marts:
  A. first refresh (kpi_full_refresh_job): every RED and YELLOW light alerts once per
     routed channel, a muted rule silences one, a tenant's blank-KPI rule replaces the
     default one;
  B. the daily job again, nothing changed: no alert; the daily digest, once per tenant;
  C. `dbt build --full-refresh` of the marts: no alert again (the history of lights is
     kept);
  D. two targets changed, the daily job: one RECOVERED, one TURNED_RED; the webhook
     answers 500 twice per alert, then 200: delivered on the third try, failures in the
     first two ticks' summaries; e-mail in Korean;
  E. phase D replayed by a sensor process killed by the webhook on its first request
     (after the send, before the cursor is saved): one repeat, with the same key; the
     next tick sends nothing;
  F. stale feeds: one FEED_STALE per raw table, none on the next observation; a feed
     fresh again ends its episode, stale again starts a new one (DuckDB only, as E).
"""

from __future__ import annotations

import email
import email.header
import email.policy
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import fixtures_hand
import pytest
from aiosmtpd.controller import Controller
from harness import ENGINES, REPO_ROOT, Warehouse, normalise
from pytest_httpserver import HTTPServer
from test_kpis_by_hand import SCORECARD
from test_orchestration import Orchestrated
from werkzeug import Request, Response

from itsm_kpi import alerts
from itsm_kpi.environment import patched_env

RULES_CSV = """tenant_id,kpi_name,transition,channel
,,TURNED_RED,webhook
,,TURNED_RED,mail
,,TURNED_YELLOW,webhook
,,RECOVERED,webhook
,,RECOVERED,mail
,,NO_DATA,webhook
2,SLA_COMPLIANCE,TURNED_RED,none
3,,TURNED_RED,webhook
,,FEED_STALE,webhook
,,DAILY_DIGEST,mail
"""
# phase D: tenant 3's MTTR target back to 4 (its value 3 h is GREEN again), tenant 2's FCR
# target 130 % (100 / 130 = 76.9 % of target: RED)
CHANGED_TARGETS_CSV = (fixtures_hand.KPI_TARGETS_CSV.replace("3,MTTR,2,2024-03-01", "3,MTTR,4,2024-03-01")
                       + "2,FCR,130,,,true\n")
REPORT_URL = "https://bi.example.com/kpi/scorecard.{language}.html"
SENSOR = "kpi_alert_sensor"
KILLED = -signal.SIGKILL


# --- the local servers ----------------------------------------------------------------

class Webhook:
    """An HTTP server on 127.0.0.1 recording every POST to /hook; `fail_first` answers
    500 to the first n tries of each idempotency key; `kill` SIGKILLs that process on the
    next request, then answers 200."""

    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0)
        self.received: list[dict[str, Any]] = []
        self.tries: Counter[str] = Counter()
        self.fail_first = 0
        self.kill: subprocess.Popen | None = None
        self.server.expect_request("/hook", method="POST").respond_with_handler(self.handle)
        self.server.start()
        self.url = f"json://127.0.0.1:{self.server.port}/hook"

    def handle(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        self.tries[key] += 1
        if self.kill is not None:
            os.kill(self.kill.pid, signal.SIGKILL)
            self.kill.wait()
            self.kill = None
        if self.tries[key] <= self.fail_first:
            return Response("failing on purpose", status=500)
        self.received.append({"key": key, **json.loads(request.get_data(as_text=True))})
        return Response("ok", status=200)


class Mailbox:
    """An SMTP server (aiosmtpd) on 127.0.0.1 keeping every message."""

    def __init__(self) -> None:
        with socket.socket() as probe:  # aiosmtpd needs a port number up front
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.received: list[email.message.EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()
        self.url = (f"mailto://127.0.0.1:{port}?from=kpi@example.com&to=ops@example.com"
                    "&mode=insecure")

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


def mail_text(message: email.message.EmailMessage) -> tuple[str, str, str]:
    """Subject, plain-text body and Idempotency-Key header of a received e-mail."""
    body = message.get_body(preferencelist=("plain",))
    return str(message["Subject"]), body.get_content(), str(message["Idempotency-Key"])


# --- the scenario -----------------------------------------------------------------------

class Alerting:
    """The hand fixture with RULES_CSV, the definitions, the servers and the sensor's
    cursor as the Dagster daemon would keep it between ticks."""

    def __init__(self, warehouse: Warehouse, webhook: Webhook, mailbox: Mailbox) -> None:
        self.orchestrated = Orchestrated(warehouse)
        self.warehouse = warehouse
        self.webhook, self.mailbox = webhook, mailbox
        warehouse.write_file("seeds/alert_rules.csv", RULES_CSV)
        self.env = {**self.orchestrated.env, "KPI_ALERT_URL_WEBHOOK": webhook.url,
                    "KPI_ALERT_URL_MAIL": mailbox.url, "KPI_ALERT_LANGUAGE_MAIL": "ko",
                    "KPI_ALERT_LANGUAGE": None, "KPI_REPORT_URL": REPORT_URL,
                    "KPI_ALERT_RETRY_SECONDS": "0", "KPI_ALERT_POLL_MINUTES": None}
        self.cursor: str | None = None
        self.phases: dict[str, dict[str, Any]] = {}

    def tick(self, **env: str | None) -> str:
        """One evaluation of the product's sensor; keeps its cursor; returns its summary."""
        sensor = self.orchestrated.defs.get_sensor_def(SENSOR)
        with patched_env({**self.env, **env}):
            data = sensor.evaluate_tick(dg.build_sensor_context(
                instance=self.orchestrated.instance, cursor=self.cursor))
        assert not data.run_requests
        self.cursor = data.cursor
        return str(data.skip_message)

    def record(self, phase: str, **extra: Any) -> None:
        """What the servers received since the last phase."""
        self.phases[phase] = {"webhook": self.webhook.received, "mail": self.mailbox.received,
                              **extra}
        self.webhook.received, self.mailbox.received = [], []
        self.webhook.tries.clear()

    def dbt_cli(self, *args: str) -> None:
        """dbt in a process of its own, as a user's shell runs it (in-process, dbt-duckdb
        would keep the DuckDB file open, and locked, after the command)."""
        w = self.warehouse
        env = {**os.environ, "KPI_DUCKDB_PATH": str(w.duckdb_path), "PGDATABASE": w.pg_database,
               "KPI_AS_OF": fixtures_hand.AS_OF}
        env.pop("DBT_TARGET", None)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(w.project_dir),
             "--profiles-dir", str(w.project_dir), "--target", w.engine],
            env=env, cwd=w.project_dir, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:]

    def sensor_process(self, cursor_file: Any, kill_on_request: bool) -> int:
        """The sensor evaluated in a process of its own, as the daemon's would be: cursor
        read from and saved to `cursor_file` at the end (only the webhook configured)."""
        script = (
            "import pathlib, sys\n"
            "import dagster as dg\n"
            "from dagster_dbt import DbtProject\n"
            "from orchestration.alerts import build_alert_sensor\n"
            "folder, target, path = sys.argv[1:]\n"
            "cursor_file = pathlib.Path(path)\n"
            "cursor = cursor_file.read_text() if cursor_file.exists() else None\n"
            "project = DbtProject(project_dir=folder, profiles_dir=folder, target=target)\n"
            "with dg.DagsterInstance.ephemeral() as instance:\n"
            "    data = build_alert_sensor(project).evaluate_tick(\n"
            "        dg.build_sensor_context(instance=instance, cursor=cursor))\n"
            "cursor_file.write_text(data.cursor)\n"
            "print(data.skip_message)\n"
        )
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None},
               "KPI_ALERT_POLL_MINUTES": "0", "PYTHONPATH": str(REPO_ROOT)}
        env.pop("KPI_ALERT_URL_MAIL")
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(self.warehouse.project_dir),
             self.warehouse.engine, str(cursor_file)],
            env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if kill_on_request:
            self.webhook.kill = process
        out, err = process.communicate(timeout=300)
        self.webhook.kill = None
        assert process.returncode in (0, KILLED), err
        return process.returncode

    def run(self, tmp_path: Any) -> None:
        o, w = self.orchestrated, self.warehouse
        # A: the first refresh, then the sensor's first tick
        o.base()
        self.record("A", summary=self.tick(), marts=w.query("select * from marts.kpi_scorecard"),
                    alerts=w.query("select * from marts.kpi_alerts"))
        # B: the daily job of the same day, nothing changed
        o.run_job("kpi_daily_job", "2024-03-15")
        self.record("B", summary=self.tick())
        before_changes = self.cursor
        # C: a --full-refresh of the marts between two ticks (no Dagster run: the sensor
        # reads the marts on its timer, here at once); models only: the phase checks the
        # alerts the rebuilt marts give, not dbt's tests of them
        self.dbt_cli("build", "--full-refresh", "--select", "path:models/marts",
                     "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test")
        history_after_c = w.query("select count(*) as n from marts.kpi_status_history")[0]["n"]
        self.record("C", summary=self.tick(KPI_ALERT_POLL_MINUTES="0"),
                    history=history_after_c)
        # D: two targets changed; the webhook fails twice per alert
        w.write_file("seeds/kpi_targets.csv", CHANGED_TARGETS_CSV)
        o.change()
        o.run_job("kpi_daily_job", "2024-03-15")
        self.webhook.fail_first = 2
        summaries = [self.tick(), self.tick(), self.tick(), self.tick()]
        self.webhook.fail_first = 0
        tries = dict(self.webhook.tries)
        self.record("D", summaries=summaries, tries=tries,
                    marts=w.query("select * from marts.kpi_scorecard"))
        # E: D replayed by a process killed after its first send (DuckDB only: the
        # delivery state is the sensor's Python, whatever the engine, and each process
        # costs a Python and Dagster start; D read this engine's marts)
        if w.engine == "duckdb":
            cursor_file = tmp_path / "cursor.json"
            cursor_file.write_text(before_changes or "")
            codes = [self.sensor_process(cursor_file, kill_on_request=True)]
            saved_after_kill = cursor_file.read_text()
            codes.append(self.sensor_process(cursor_file, kill_on_request=False))
            codes.append(self.sensor_process(cursor_file, kill_on_request=False))
            self.record("E", codes=codes, kept=saved_after_kill == (before_changes or ""))
        # F: stale feeds (the fixture's newest rows date from March 2024); DuckDB only, as
        # E: the episodes are the sensor's Python over Dagster's freshness checks, whatever
        # the engine (test_orchestration observes the freshness of both engines' feeds),
        # and each observation costs a dbt process
        if w.engine != "duckdb":
            return
        ticks = []
        o.run_job("kpi_source_freshness_job")
        ticks.append(self.tick())
        o.run_job("kpi_source_freshness_job")
        ticks.append(self.tick())
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        w.execute("insert into raw.deployments (deployment_id, tenant_id, service, environment, "
                  "status, started_at, finished_at) values (9001, 1, 'api', 'production', "
                  f"'DEPLOYED', timestamp '{now}', timestamp '{now}')")
        o.run_job("kpi_source_freshness_job")
        ticks.append(self.tick())
        w.execute("delete from raw.deployments where deployment_id = 9001")
        o.run_job("kpi_source_freshness_job")
        ticks.append(self.tick())
        self.record("F", summaries=ticks)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Webhook, Mailbox]]:
    webhook, mailbox = Webhook(), Mailbox()
    try:
        yield webhook, mailbox
    finally:
        webhook.server.stop()
        mailbox.controller.stop()


@pytest.fixture(scope="module", params=ENGINES)
def scenario(request: pytest.FixtureRequest, servers: tuple[Webhook, Mailbox],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alerting]:
    folder = tmp_path_factory.mktemp(f"alerts_{request.param}")
    warehouse = Warehouse(request.param, folder)
    try:
        alerting = Alerting(warehouse, *servers)
        alerting.run(folder)
        yield alerting
    finally:
        warehouse.drop()


def webhook_alerts(phase: dict[str, Any]) -> Counter[tuple[Any, ...]]:
    return Counter((int(p["tenant_id"]), p["kpi_name"], p["transition"])
                   for p in phase["webhook"] if p["transition"] not in ("FEED_STALE",))


# --- A: the first refresh ---------------------------------------------------------------

# worked out from SCORECARD by hand: first sightings, RED -> TURNED_RED, YELLOW ->
# TURNED_YELLOW; (2, SLA_COMPLIANCE) muted; tenant 3's TURNED_RED to the webhook only
FIRST_WEBHOOK = {
    (1, "MTTR", "TURNED_RED"), (1, "DEPLOY_SUCCESS_RATE", "TURNED_RED"),
    (2, "MTTR", "TURNED_RED"), (3, "MTTR", "TURNED_RED"),
    (1, "FCR", "TURNED_YELLOW"), (1, "SLA_COMPLIANCE", "TURNED_YELLOW"),
}
FIRST_MAIL = {(1, "MTTR"), (1, "DEPLOY_SUCCESS_RATE"), (2, "MTTR")}


def test_the_first_refresh_alerts_each_light_once_per_channel(scenario: Alerting) -> None:
    a = scenario.phases["A"]
    assert webhook_alerts(a) == Counter(FIRST_WEBHOOK)  # each exactly once
    subjects = [mail_text(m)[0] for m in a["mail"]]
    assert len(subjects) == len(FIRST_MAIL) == 3
    assert a["summary"].startswith("9 delivered")


def test_webhook_payloads_match_the_marts_and_the_hand_values(scenario: Alerting) -> None:
    a = scenario.phases["A"]
    scorecard = {(r["tenant_id"], r["kpi_name"]): r for r in a["marts"]}
    for payload in a["webhook"]:
        key = (int(payload["tenant_id"]), payload["kpi_name"])
        grain, start, value, status, *_ = SCORECARD[key]
        mart = scorecard[key]
        assert (payload["status"], payload["value"], payload["grain"], payload["period_start"]) == (
            status, value, grain, start.isoformat())
        assert (payload["value"], payload["target"], payload["achievement_pct"]) == (
            normalise(mart["value"]), normalise(mart["target"]), normalise(mart["achievement_pct"]))
        assert payload["previous_status"] is None  # first sighting
        # the idempotency key: header, body and payload agree, and it is the mart's
        assert payload["key"] == payload["alert_key"]
        assert payload["message"].endswith(f"Idempotency key: {payload['alert_key']}")
        assert payload["language"] == "en" and payload["tenant_name"] == mart["tenant_name"]
    keys = {r["alert_key"] for r in a["alerts"] if r["channel"] == "webhook"}
    assert {p["alert_key"] for p in a["webhook"]} == keys
    mttr = next(p for p in a["webhook"] if (int(p["tenant_id"]), p["kpi_name"]) == (1, "MTTR"))
    # by hand: tenant 1's March MTTR 6 h against 4 h, LOWER_BETTER: 4 / 6 = 66.7 %
    assert mttr["title"] == "[KPI] Seoul: Mean time to recover (MTTR) turned Red"
    assert mttr["message"].splitlines()[:6] == [
        "Tenant: Seoul (1)", "KPI: Mean time to recover (MTTR)", "Status: Red (first seen)",
        "Value: 6 h · Target: 4 h · Achievement: 66.7%", "Period: Mar 2024",
        "As of: 2024-03-15T12:00:00 UTC"]
    assert f"Report: {REPORT_URL.format(language='en')}#tenant-1" in mttr["message"]


def test_mail_is_in_korean_with_the_key_as_a_header(scenario: Alerting) -> None:
    a = scenario.phases["A"]
    by_subject = {mail_text(m)[0]: mail_text(m) for m in a["mail"]}
    subject = "[KPI] Seoul: 평균 복구 시간 (MTTR) 위험으로 바뀜"
    assert subject in by_subject
    _, body, key = by_subject[subject]
    assert "실적: 6시간 · 목표: 4시간 · 달성률: 66.7%" in body
    assert "기간: 2024년 3월" in body
    assert body.rstrip().endswith(f"멱등성 키: {key}")
    assert f"보고서: {REPORT_URL.format(language='ko')}#tenant-1" in body
    tenants = Counter(s.split(":")[0] for s in by_subject)
    assert tenants == Counter({"[KPI] Seoul": 2, "[KPI] New York": 1})


# --- B, C: no change, no alert ------------------------------------------------------------

def test_a_refresh_without_change_sends_no_alert_but_the_digest(scenario: Alerting) -> None:
    b = scenario.phases["B"]
    assert b["webhook"] == []
    digests = [mail_text(m) for m in b["mail"]]
    # one per tenant (1, 2, 3 and 9, who is in the raw data only), after the daily job
    assert sorted(s.split(":")[0] for s, _, _ in digests) == [
        "[KPI] New York", "[KPI] Seoul", "[KPI] Tenant 9", "[KPI] Utc Shop"]
    new_york = next(body for s, body, _ in digests if s.startswith("[KPI] New York"))
    # tenant 2 by hand (test_kpis_by_hand.test_tenant_status): 3 GREEN, 2 RED, worst first
    lights = [line.split(" ")[1] for line in new_york.splitlines() if line[:1] in "🔴🟢🟡⚪"]
    assert lights == ["위험", "위험", "정상", "정상", "정상"]


def test_a_full_refresh_of_the_marts_sends_no_alert_again(scenario: Alerting) -> None:
    c = scenario.phases["C"]
    assert c["webhook"] == [] and c["mail"] == []
    assert c["summary"].startswith("0 delivered")
    # the history kept the 18 first sightings of A (one per scorecard row)
    assert c["history"] == len(SCORECARD) == len(scenario.phases["A"]["marts"])


# --- D: a change, and a webhook failing twice --------------------------------------------

def test_changes_alert_once_after_two_failed_tries(scenario: Alerting) -> None:
    d = scenario.phases["D"]
    lights = {(r["tenant_id"], r["kpi_name"]): r["status"] for r in d["marts"]}
    assert lights[(3, "MTTR")] == "GREEN" and lights[(2, "FCR")] == "RED"
    assert webhook_alerts(d) == Counter({(3, "MTTR", "RECOVERED"): 1, (2, "FCR", "TURNED_RED"): 1})
    # each key tried three times: 500, 500, 200
    assert sorted(d["tries"].values()) == [3, 3]
    first, second, third, fourth = d["summaries"]
    assert first.startswith("2 delivered; 2 failed") and "error=500" in first  # mail went
    assert second.startswith("0 delivered; 2 failed") and "error=500" in second
    assert third.startswith("2 delivered") and "failed" not in third
    assert fourth.startswith("0 delivered")
    recovered = next(p for p in d["webhook"] if p["transition"] == "RECOVERED")
    assert (recovered["previous_status"], recovered["status"], recovered["target"]) == (
        "RED", "GREEN", 4.0)
    assert "Status: Green (was Red)" in recovered["message"]
    subjects = sorted(mail_text(m)[0] for m in d["mail"])
    assert subjects == ["[KPI] New York: 첫 번째 해결율 (FCR) 위험으로 바뀜",
                        "[KPI] Utc Shop: 평균 복구 시간 (MTTR) 정상으로 회복"]


def test_a_crash_between_send_and_cursor_repeats_once_with_the_same_key(
        scenario: Alerting) -> None:
    if "E" not in scenario.phases:
        pytest.skip("the crash replay runs on DuckDB (the delivery state is engine-independent)")
    e, d = scenario.phases["E"], scenario.phases["D"]
    assert e["codes"] == [KILLED, 0, 0]
    assert e["kept"]  # the killed process saved no cursor
    keys = Counter(p["key"] for p in e["webhook"])
    expected = {p["alert_key"] for p in d["webhook"]}  # the same alerts, the same keys
    assert set(keys) == expected
    # the alert sent by the killed process: twice; the other once; the third run: none
    assert sorted(keys.values()) == [1, 2]


# --- F: stale feeds -------------------------------------------------------------------------

def test_a_stale_feed_alerts_once_per_episode(scenario: Alerting) -> None:
    if "F" not in scenario.phases:
        pytest.skip("stale feeds run on DuckDB (the episodes are engine-independent)")
    f = scenario.phases["F"]
    stale = [p for p in f["webhook"] if p["transition"] == "FEED_STALE"]
    tables = [p["table"] for p in stale]
    # three tables stale at the first observation; none again at the second; deployments
    # fresh then stale again: a new episode, a second alert
    assert sorted(tables) == ["deployments", "deployments", "service_requests", "sr_events"]
    assert len({p["key"] for p in stale}) == 4
    first, second, fresh, again = f["summaries"]
    assert first.startswith("3 delivered") and second.startswith("0 delivered")
    assert "raw feed deployments fresh again" in fresh
    assert again.startswith("1 delivered")
    requests = next(p for p in stale if p["table"] == "service_requests")
    # newest service_requests.updated_at: 2024-03-16 01:00 (test_orchestration)
    assert requests["last_row_at"] == "2024-03-16T01:00:00"
    assert requests["title"] == "[KPI] all tenants: raw feed service_requests is stale"


# --- the transports' failures and the settings, without a warehouse ----------------------

def _message(channel: str = "webhook") -> alerts.Message:
    return alerts.Message(key="k1", channel=channel, kind="TURNED_RED", language="en",
                          title="t", body="b", fields={"alert_key": "k1"})


def test_a_refused_connection_and_an_smtp_error_are_failures_with_a_reason() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    reason = alerts.send(_message(), f"json://127.0.0.1:{closed}/hook")
    assert reason is not None and "connection error" in reason.lower()

    class Refusing(Mailbox):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "554 5.7.1 refused on purpose"

    refusing = Refusing()
    try:
        reason = alerts.send(_message("mail"), refusing.url)
    finally:
        refusing.controller.stop()
    assert reason is not None and refusing.received == []
    assert alerts.send(_message(), "notascheme://x") == (
        "the URL of channel webhook is not one Apprise understands (check KPI_ALERT_URL_WEBHOOK)")


@pytest.mark.parametrize(("environ", "error"), [
    ({"KPI_ALERT_RETRY_SECONDS": "soon"}, "KPI_ALERT_RETRY_SECONDS must be a number of seconds"),
    ({"KPI_ALERT_POLL_MINUTES": "-1"}, "KPI_ALERT_POLL_MINUTES must be a number of minutes"),
    ({"KPI_ALERT_START_HOURS": "inf"}, "KPI_ALERT_START_HOURS must be a number of hours"),
])
def test_bad_settings_are_refused_with_the_variable_named(environ: dict, error: str) -> None:
    with pytest.raises(alerts.AlertError, match=error):
        alerts.Settings.from_env(environ)


def test_a_bad_language_or_cursor_is_refused() -> None:
    with pytest.raises(alerts.AlertError, match="KPI_ALERT_LANGUAGE_MAIL .* must be one of en, ko"):
        alerts.channel_language("mail", {"KPI_ALERT_LANGUAGE_MAIL": "fr"})
    assert alerts.channel_language("mail", {"KPI_ALERT_LANGUAGE": "KO"}) == "ko"
    with pytest.raises(alerts.AlertError, match="reset it"):
        alerts.State.load('{"version": 0}')
    state = alerts.State(watermark="2026-01-01T00:00:00", stale={"sr_events": "x"})
    assert alerts.State.load(state.dump()) == state
