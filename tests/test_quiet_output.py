"""What a newcomer sees on the way from `make install` to a Dagster run carries no warning
that asks nothing of them (issue 14): each one fixed where it comes from, or silenced by
its exact text where the project has nothing to change (the reason is written beside the
filter).

- `make install`: setuptools' `project.license` deprecation (fixed in pyproject.toml) and
  its "Editable installation." note (Makefile's PYTHONWARNINGS);
- `make ui`: Dagster's SupersessionWarning on `dagster dev` (Makefile's PYTHONWARNINGS)
  and BetaWarning when the definitions load (orchestration/freshness.py);
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness import REPO_ROOT

BIN = Path(sys.prefix) / "bin"


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
