"""The newcomer's path, as the README writes it (issue 14).

On a clean copy of the repository (the files git tracks, as they are in the work tree)
that uses this environment's `.venv`, the README's shell blocks run as written, in the
README's order, through bash: `make demo` as the quick start says, the CLI commands (whose
`kpi generate --tenants 8` replaces the demo's data), the Dagster backfill commands on
those data and the late-data dbt command (re-running `make demo` in one checkout is
tests/test_repeated_builds.py's). Every `sh` block of the README is
either run here or listed in NOT_RUN with the reason, so a new block cannot go untested
unnoticed. Then one daily partition runs from Dagster with the real clock, as the schedule
would launch it, and the scorecard must be the same, and not empty, in the terminal
(`kpi scorecard`), in Dagster (the report asset's materialization) and in the HTML report.

DuckDB only: this is the embedded default a newcomer starts with (the PostgreSQL paths are
covered by the other modules).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from harness import REPO_ROOT

# the README's sh blocks that this module does not run, by their first line, and why (of
# the quick start's first block, `make demo` then `make test`, only `make demo` runs: the
# other is the test suite itself)
NOT_RUN = {
    "make ui": "a server that runs until stopped; tests/test_orchestration.py loads the "
               "same definitions and the walk below checks the instance it would show",
    "mf list metrics": "MetricFlow's CLI: tests/test_semantic_layer.py runs these queries",
    "make chaos": "tests/test_chaos.py runs the fault drill",
    "make bench": "tests/test_benchmark.py runs the benchmark at smoke scale",
    "export KPI_ALERT_URL_OPS='https://hooks.slack.com/services/T0000/B0000/XXXXXXXX'":
        "needs a Slack workspace and an SMTP server: tests/test_alerts.py sends through the "
        "same Apprise transports (JSON webhook, e-mail) to servers it starts",
    "make demo-spark": "Spark: tests/test_spark_jobs.py runs the Dagster jobs on Spark, "
                       "test_against_reference.py its build and tests",
}
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
TIMEOUT = 900  # seconds per block: a hung command fails the test instead of CI


def readme_blocks() -> list[str]:
    return SH_BLOCK.findall((REPO_ROOT / "README.md").read_text())


def first_line(block: str) -> str:
    return next(line for line in block.splitlines() if line.strip()).split("#")[0].strip()


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True,
                            check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the walk copies the files git tracks")
    return [name for name in listed.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's tracked files in a new folder, `.venv` a link to this environment
    (installed already: make must not reinstall into it from the copy)."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "dagster").exists():
        pytest.skip(f"{venv} is not the project's virtual environment (run `make test`)")
    root = tmp_path_factory.mktemp("fresh-clone")
    for name in tracked_files():
        source = REPO_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    (root / ".venv").symlink_to(venv)
    os.utime(root / "pyproject.toml", (0, 0))  # older than the venv's install stamp
    return root


def run(clone: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`script` through bash in the clone, as a user who did `source .venv/bin/activate`,
    with none of this process's KPI, dbt or Dagster settings; the clone's Python packages
    come first (the venv's editable install points at the original checkout)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KPI_", "DBT_", "DAGSTER_"))}
    env.update(PATH=f"{clone / '.venv' / 'bin'}:{env['PATH']}", PYTHONPATH=str(clone),
               VIRTUAL_ENV=str(clone / ".venv"))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, (
        f"failed ({result.returncode}):\n{script}\n--- stdout\n{result.stdout[-6000:]}"
        f"\n--- stderr\n{result.stderr[-6000:]}"
    )
    return result


def scorecard_rows(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute(
            "select tenant_id, kpi_name, status from marts.kpi_scorecard order by 1, 2"
        ).fetchall()


def test_every_readme_sh_block_is_run_or_excused() -> None:
    blocks = [first_line(block) for block in readme_blocks()]
    unknown = [line for line in blocks if line not in NOT_RUN and not runnable(line)]
    assert not unknown, f"README sh blocks neither run by this module nor excused: {unknown}"
    assert set(NOT_RUN) <= set(blocks), "NOT_RUN names a block the README no longer has"


def runnable(line: str) -> bool:
    return line not in NOT_RUN and line.startswith(("make demo", "make manifest", "kpi ",
                                                     ".venv/bin/", "KPI_", "dbt "))


def test_walk(clone: Path) -> None:
    blocks = [block for block in readme_blocks() if runnable(first_line(block))]
    # the quick start's first block holds `make demo` with make test: its demo line alone
    quick_start = next(block for block in readme_blocks() if first_line(block) == "make demo")
    demo_line = next(line for line in quick_start.splitlines() if line.startswith("make demo"))
    assert [first_line(b) for b in blocks][0] == "make demo"
    started = datetime.now(timezone.utc)

    demo = run(clone, demo_line)
    database = clone / "data" / "kpi.duckdb"
    first_scorecard = scorecard_rows(database)
    check_demo(clone, demo.stdout, first_scorecard, started)

    for block in blocks[1:]:
        run(clone, block)

    # one daily partition from Dagster with the real clock, as the 00:30 tick launches it
    today = datetime.now(timezone.utc).date().isoformat()
    run(clone, "DAGSTER_HOME=$PWD/.dagster .venv/bin/dagster job execute "
               "-m orchestration.definitions -j kpi_daily_job "
               f"--tags '{{\"dagster/partition\": \"{today}\"}}'")
    # the command line's block regenerated the data with more tenants (`kpi generate
    # --tenants 8`): the backfills, the late data and the daily run worked on those
    check_same_scorecard_everywhere(clone, scorecard_rows(database), raw_tenants(database))


def check_demo(clone: Path, stdout: str, scorecard: list[tuple], started: datetime) -> None:
    """`make demo`: a scorecard for each of the four demo tenants, all twelve built-in KPIs
    (the seven of the original engine and the five DORA KPIs, all enabled in the shipped
    kpi_targets.csv),
    current periods that are today's (the data ends now), the report written, and Dagster's
    instance holding every asset and partition as materialized."""
    assert {row[0] for row in scorecard} == {1, 2, 3, 4}
    assert len(scorecard) == 4 * (7 + 5)
    for tenant in ("Seoul Metro IT", "New York Ops", "London Platform", "Global Service Desk"):
        assert tenant in stdout
    assert f"month {started:%Y-%m}" in stdout or f"month {datetime.now(timezone.utc):%Y-%m}" \
        in stdout
    for language in ("en", "ko"):
        assert (clone / "reports" / f"scorecard.{language}.html").stat().st_size > 10_000
    missing = never_materialized(clone)
    assert not missing, f"Dagster shows these as never materialized after make demo: {missing}"


def never_materialized(clone: Path) -> list[str]:
    """Materializable assets (or partitions) without a materialization on the clone's
    Dagster instance, read in a subprocess that loads the clone's definitions."""
    script = """
import json, warnings
warnings.simplefilter("ignore")
import dagster as dg
from orchestration.definitions import defs
graph = defs.resolve_asset_graph()
missing = []
with dg.DagsterInstance.get() as instance:
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        if node.partitions_def:
            done = instance.get_materialized_partitions(key)
            left = set(node.partitions_def.get_partition_keys()) - done
            if left:
                missing.append(f"{key.to_user_string()}: {len(left)} partitions")
        elif instance.get_latest_materialization_event(key) is None:
            missing.append(key.to_user_string())
print(json.dumps(missing))
"""
    result = run(clone, f"DAGSTER_HOME=$PWD/.dagster python - <<'EOF'\n{script}\nEOF")
    return json.loads(result.stdout.strip().splitlines()[-1])


def raw_tenants(database: Path) -> int:
    """The tenants of the raw requests in the walk's database."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute("select count(distinct tenant_id) from raw.service_requests").fetchone()[0]


def check_same_scorecard_everywhere(clone: Path, scorecard: list[tuple], tenants: int) -> None:
    """The terminal, Dagster's last report materialization and the HTML report show the
    same tenants with the same overall lights, computed here from the scorecard rows."""
    assert tenants > 4, "the command line's `kpi generate --tenants 8` did not run"
    assert len(scorecard) == tenants * (7 + 5), "the scorecard after the daily run is incomplete"
    worst = {}
    for tenant_id, _kpi, status in scorecard:
        order = ("RED", "YELLOW", "GREEN", "NO_DATA")
        current = worst.get(tenant_id, "NO_DATA")
        worst[tenant_id] = min(current, status, key=order.index)
    expected = {status: sum(1 for s in worst.values() if s == status)
                for status in ("GREEN", "YELLOW", "RED", "NO_DATA")}

    terminal = run(clone, "kpi scorecard").stdout
    overall = re.findall(r"\(tenant (\d+)\) — overall ● (\w+)", terminal.replace("○", "●"))
    assert {int(t): s for t, s in overall} == worst

    script = """
import json, warnings
warnings.simplefilter("ignore")
import dagster as dg
with dg.DagsterInstance.get() as instance:
    event = instance.get_latest_materialization_event(dg.AssetKey(["reports", "kpi_scorecard_report"]))
    metadata = event.asset_materialization.metadata
    print(json.dumps({key: value.value for key, value in metadata.items()
                      if key.startswith("tenants_") or key == "tenant_count"}))
"""
    recorded = json.loads(run(
        clone, f"DAGSTER_HOME=$PWD/.dagster python - <<'EOF'\n{script}\nEOF"
    ).stdout.strip().splitlines()[-1])
    assert recorded["tenant_count"] == tenants
    assert {s: recorded[f"tenants_{s.lower()}"] for s in expected} == expected

    page = (clone / "reports" / "scorecard.en.html").read_text()
    shown = dict(re.findall(r'data-tenant="(\d+)" data-status="(\w+)"', page))
    assert {int(t): s for t, s in shown.items()} == worst
