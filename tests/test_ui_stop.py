"""Stopping `make ui` as the README says: Ctrl-C in its terminal stops `dagster dev` and
everything it started (webserver, daemon, code servers), and the instance's state stays in
DAGSTER_HOME for the next start. `dagster dev` runs here as `make ui` runs it (the same
module, DAGSTER_HOME with orchestration/dagster.yaml), in its own process group and on a
free port; Ctrl-C is what a terminal sends: SIGINT to the whole foreground group."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from harness import REPO_ROOT

BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 240.0  # seconds: the code server loads the dbt manifest on a busy box
STOP_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _group(pgid: int) -> dict[int, str]:
    """The live processes of process group `pgid`: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            found[int(entry.name)] = command
    return found


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _interrupt_default() -> None:
    # a shell that starts a job in the background ignores SIGINT in it, and the ignoring
    # is inherited: give dagster dev what a terminal gives it
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_dagster_dev_and_keeps_its_state(tmp_path: Path) -> None:
    home = tmp_path / ".dagster"
    home.mkdir()
    shutil.copy(REPO_ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "DBT_TARGET": "duckdb", "KPI_DUCKDB_PATH": str(tmp_path / "kpi.duckdb")}
    log_path = tmp_path / "dagster-dev.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-m", "orchestration.definitions",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_interrupt_default)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        started: dict[int, str] = {}
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-3000:]
            started = _group(process.pid)
            kinds = " ".join(started.values())
            if ("dagster_webserver" in kinds and "dagster._daemon" in kinds
                    and "code-server" in kinds
                    and _responds(f"http://127.0.0.1:{port}/server_info")):
                break
            time.sleep(1)
        else:
            raise AssertionError(f"dagster dev did not start: {log_path.read_text()[-3000:]}")

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=STOP_TIMEOUT) == 0
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group(process.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _group(process.pid) == {}, "processes left running after Ctrl-C"
        assert not _responds(f"http://127.0.0.1:{port}/server_info")
        assert "Dagster services shut down." in log_path.read_text()
    finally:
        if process.poll() is None or _group(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    # what the README says is kept for the next start
    for kept in ("dagster.yaml", "history/runs.db", "schedules/schedules.db"):
        assert (home / kept).is_file(), kept
    readme = (REPO_ROOT / "README.md").read_text()
    stopping = readme[readme.index("**Stopping it.**"):]
    stopping = " ".join(stopping[:stopping.index("\n\n")].split())
    assert stopping.startswith("**Stopping it.** Ctrl-C in the terminal where `make ui` runs "
                               "stops `dagster dev` and everything it started")
    for kept in ("`dagster.yaml`", "`history/`", "`schedules/`"):
        assert kept in stopping, kept
