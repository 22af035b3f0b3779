"""The built wheel installs with the runtime lock into a fresh environment and runs outside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openlfr import __version__

pytestmark = pytest.mark.slow  # builds a wheel and installs every runtime dependency (from pip's cache)

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(a) for a in args]
    return subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_wheel_installs_from_the_hashed_runtime_lock_and_runs_lfr_outside_the_repository(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "LFR_", "VIRTUAL_ENV"))}
    work = tmp_path / "elsewhere"
    work.mkdir()
    # No build isolation: setuptools and wheel come from the hashed dev lock already installed here.
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist",
                 ROOT, cwd=work, env=env)  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("openlfr-*.whl")
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv, cwd=work, env=env).returncode == 0
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    deps = _run(*pip, "--require-hashes", "-r", ROOT / "requirements" / "runtime.lock", cwd=work, env=env)
    assert deps.returncode == 0, deps.stderr[-3000:]
    installed = _run(*pip, "--no-deps", wheel, cwd=work, env=env)
    assert installed.returncode == 0, installed.stderr[-3000:]

    lfr = venv / "bin" / "lfr"
    version = _run(lfr, "--version", cwd=work, env=env)
    assert version.returncode == 0 and __version__ in version.stdout + version.stderr
    # A real command that needs the packaged migrations: a new SQLite database in the temporary folder.
    env = {**env, "LFR_DATA_DIR": str(work / "var")}
    listed = _run(lfr, "deployment", "list", "--json", cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert json.loads(listed.stdout) == {"deployments": []} and (work / "var" / "openlfr.db").is_file()
    # The evaluation extra is not installed: calibration says which extra brings what it needs.
    (work / "faces" / "a").mkdir(parents=True)
    calibrate = _run(lfr, "calibrate", work / "faces", "--watchlist-size", "10", "--passers-by", "100",
                     "--false-alerts", "1", cwd=work, env=env)  # fmt: skip
    assert calibrate.returncode == 1 and "extra_missing" in calibrate.stderr, calibrate.stderr[-2000:]
    assert "pip install 'openlfr[eval]'" in calibrate.stderr
    # Nothing was written into the repository by the installed package.
    assert not (work / "src").exists()
