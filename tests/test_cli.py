from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from openlfr import __version__
from openlfr.cli import main


def _lfr(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openlfr", *args], capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_version_and_help() -> None:
    assert _lfr("--version").stdout.strip() == f"lfr {__version__}"
    helped = _lfr("--help")
    assert helped.returncode == 0 and "eval" in helped.stdout and "--log-level" in helped.stdout


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: lfr" in capsys.readouterr().err


@pytest.mark.slow
def test_log_level_reaches_the_logging_module() -> None:
    done = _lfr("--log-level", "debug", "eval", "verify", "/nonexistent/dataset")
    assert done.returncode == 1 and "not a directory" in done.stderr
    assert _lfr("--log-level", "loud", "demo").returncode == 2


@pytest.mark.slow
def test_bad_config_file_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("engine:\n  detector:\n    type: nonsense\n")
    done = _lfr("--config", str(config), "eval", "verify", str(tmp_path))
    assert done.returncode == 1 and "config_invalid" in done.stderr


@pytest.mark.slow
def test_a_closed_stdout_pipe_is_not_a_traceback() -> None:
    # `lfr ... | head -1`: the reader leaves early; we exit like a SIGPIPE'd tool, without a traceback.
    with subprocess.Popen(
        [sys.executable, "-m", "openlfr", "watchlist", "keygen"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        error = process.stderr.read().decode()
        returncode = process.wait(30)
    assert "Traceback" not in error
    assert returncode == 141
