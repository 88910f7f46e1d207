"""What a newcomer sees on the way from `make install` to a Dagster run carries no warning
that asks nothing of them (issue 14): each one fixed where it comes from, or silenced by
its exact text where the project has nothing to change (the reason is written beside the
filter).

- `make install`: setuptools' `project.license` deprecation (fixed in pyproject.toml) and
  its "Editable installation." note (Makefile's PYTHONWARNINGS);
- `make ui`: Dagster's SupersessionWarning on `dagster dev` (Makefile's PYTHONWARNINGS)
  and BetaWarning when the definitions load (orchestration/freshness.py);
- a Dagster run: dagster-dbt's "A dbt subsetted execution is not being performed" note
  (orchestration/assets.py) and its "Logging an `AssetObservation` instead of an
  `AssetCheckResult`" for the seed tests that read two seeds (data-tests/_data_tests.yml).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import fixtures_hand
from dagster_dbt import DbtProject
from harness import REPO_ROOT, Warehouse, patched_env

from orchestration.definitions import build_definitions
from orchestration.settings import Settings

BIN = Path(sys.prefix) / "bin"
# the fixture's history ends on 15 March 2024: partitions to March (a full refresh
# records each one, about 1,300 events to the present day instead of 107)
SETTINGS = Settings(partitions_start="2024-01-01", partitions_end="2024-04-01")


def make_env(**extra: str) -> dict[str, str]:
    """The environment a user's `make` starts from: no PYTHONWARNINGS of their own."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONWARNINGS"}
    return {**env, **extra}


def test_make_install_prints_no_build_warning(tmp_path: Path) -> None:
    # the Makefile's own install recipe into a new venv; PIP_NO_DEPS keeps it to this
    # project's editable install (setuptools from the index, in pip's build isolation)
    venv = tmp_path / "venv"
    done = subprocess.run(["make", "--no-print-directory", "-B", "install", f"VENV={venv}"],
                          cwd=REPO_ROOT, env=make_env(PIP_NO_DEPS="1"), capture_output=True,
                          text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert (venv / ".installed").exists()
    for noise in ("project.license", "License classifiers", "BuildBackendWarning",
                  "SetuptoolsDeprecationWarning", "Editable installation"):
        assert noise not in output


def test_dagster_dev_under_make_prints_no_supersession_warning() -> None:
    # `make ui` runs `dagster dev` with the Makefile's environment. A DAGSTER_HOME that
    # does not exist stops it right after the CLI warned (or not): a second is enough.
    dagster_dev = [str(BIN / "dagster"), "dev", "-m", "orchestration.definitions"]
    env = make_env(DAGSTER_HOME=str(REPO_ROOT / "no-such-dagster-home"))
    bare = subprocess.run(dagster_dev, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    # without the Makefile, the warning is there (else the filter is obsolete: remove it)
    assert "SupersessionWarning" in bare.stderr
    probe = "probe:\n\t" + " ".join(dagster_dev) + "\n"
    under_make = subprocess.run(["make", "--no-print-directory", "-f", "Makefile", "-f", "-",
                                 "probe"], input=probe, cwd=REPO_ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    assert "is not a directory or does not exist" in under_make.stderr  # it did run
    assert "Warning" not in under_make.stderr


def test_loading_the_definitions_warns_nothing() -> None:
    # what `dagster dev`'s code server and every run worker do, with Python's default
    # warning filters (pytest's filterwarnings do not apply in a subprocess)
    done = subprocess.run([str(BIN / "python"), "-c", "import orchestration.definitions"],
                          cwd=REPO_ROOT, env=make_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_dagster_run_logs_no_warning_and_no_full_selection_note(tmp_path: Path) -> None:
    # the core materialized whole, as Materialize all does: its seeds' tests included
    warehouse = Warehouse("duckdb", tmp_path)
    fixtures_hand.install(warehouse)
    warehouse.dbt("parse")
    project = DbtProject(project_dir=warehouse.project_dir,
                         profiles_dir=warehouse.project_dir, target="duckdb")
    defs = build_definitions(SETTINGS, project)
    core = next(assets for assets in defs.assets
                if isinstance(assets, dg.AssetsDefinition) and assets.node_def.name == "kpi_core")
    instance = dg.DagsterInstance.ephemeral()
    env = {"KPI_DUCKDB_PATH": str(warehouse.duckdb_path), "KPI_AS_OF": fixtures_hand.AS_OF,
           "DBT_TARGET": None}
    with patched_env(env):
        result = dg.materialize([core], resources=defs.resources, instance=instance)
    assert result.success
    logs = instance.all_logs(result.run_id)
    messages = [entry.user_message for entry in logs]
    assert any(message.startswith("Running dbt command:") for message in messages)
    assert not [message for message in messages if "subsetted execution is not" in message]
    assert not [entry.user_message for entry in logs if entry.level >= logging.WARNING]
    # the two seed tests that read kpi_targets and kpi_definitions: checks of kpi_targets
    checks = {(evaluation.asset_key.to_user_string(), evaluation.check_name)
              for evaluation in result.get_asset_check_evaluations()}
    assert {("staging/kpi_targets", "assert_kpi_targets_name_known_kpis"),
            ("staging/kpi_targets", "assert_higher_better_targets_are_positive")} <= checks


def test_make_ui_opens_without_the_sign_up_dialog(tmp_path: Path) -> None:
    """The instance `make ui` runs on (orchestration/dagster.yaml) turns Dagster's
    first-visit "Join the Dagster community" dialog off, which it shows by default."""
    (tmp_path / "dagster.yaml").write_text(
        (REPO_ROOT / "orchestration" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.nux_enabled is False
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.nux_enabled is True  # Dagster's default: the setting is what hides it
