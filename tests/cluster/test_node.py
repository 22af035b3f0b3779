"""How a Ray node of the cluster is started (``lfr cluster start``): no usage statistics, no dashboard, token
authentication from a 0600 file in the data folder, TLS when configured, every file under the data folder,
spilling off. The nodes these commands start run in tests/cluster/test_ray_cluster.py."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from openlfr.cli import main
from openlfr.cluster.node import TOKEN_FILE, ensure_token, start_command, tls_environment
from openlfr.config.cluster import ClusterConfig, ClusterTlsConfig
from openlfr.errors import ConfigError


@pytest.fixture
def data_dir() -> Iterator[Path]:
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="lfr", dir="/tmp"))  # short: Ray's socket paths live under it
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def flag(argv: tuple[str, ...], name: str) -> str:
    (value,) = [a.split("=", 1)[1] for a in argv if a.startswith(f"{name}=")]
    return value


def test_the_head_runs_without_telemetry_dashboard_or_spilling_and_creates_a_private_token(data_dir: Path) -> None:
    command = start_command(data_dir, None, head=True, port=6390)
    assert "--head" in command.argv and "--disable-usage-stats" in command.argv and "--block" in command.argv
    assert "--include-dashboard=false" in command.argv
    assert flag(command.argv, "--temp-dir") == str((data_dir / "ray").resolve())
    assert json.loads(flag(command.argv, "--system-config"))["automatic_object_spilling_enabled"] is False
    assert json.loads(flag(command.argv, "--resources")) == {"openlfr_camera": 0}  # the head runs no camera
    token = data_dir / TOKEN_FILE
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text()) == 64
    assert command.env["RAY_USAGE_STATS_ENABLED"] == "0" and command.env["RAY_AUTH_MODE"] == "token"
    assert command.env["RAY_AUTH_TOKEN_PATH"] == str(token.resolve())
    assert token.read_text() not in " ".join(command.argv) + json.dumps(command.env)  # the token stays in its file
    again = start_command(data_dir, None, head=True)
    assert token.read_text() in (data_dir / TOKEN_FILE).read_text() and again.env == command.env  # kept


def test_a_worker_offers_its_cameras_and_needs_the_heads_token(data_dir: Path) -> None:
    config = ClusterConfig(address="10.0.0.5:6379", camera_resource="cams")
    with pytest.raises(ConfigError, match="no cluster token"):
        start_command(data_dir, config, head=False, address=config.address, cameras=2)
    ensure_token(data_dir / TOKEN_FILE)
    command = start_command(data_dir, config, head=False, address=config.address, cameras=2, cpus=4)
    assert flag(command.argv, "--address") == "10.0.0.5:6379" and "--head" not in command.argv
    assert json.loads(flag(command.argv, "--resources")) == {"cams": 2}
    assert flag(command.argv, "--num-cpus") == "4"
    assert command.env["LFR_DATA_DIR"] == str(data_dir.resolve())  # the worker's converted models stay here


def test_a_token_others_can_read_is_refused(data_dir: Path) -> None:
    token = data_dir / TOKEN_FILE
    ensure_token(token)
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        start_command(data_dir, None, head=True)
    with pytest.raises(ConfigError, match="chmod 600"):
        start_command(data_dir, None, head=False, address="127.0.0.1:6379")


def test_the_token_from_the_environment_wins(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_AUTH_TOKEN", "from-the-environment")
    command = start_command(data_dir, None, head=False, address="127.0.0.1:6379")
    assert "RAY_AUTH_TOKEN_PATH" not in command.env


def test_a_long_data_folder_is_refused_with_a_reason(tmp_path: Path) -> None:
    deep = tmp_path / ("x" * 60)
    with pytest.raises(ConfigError, match="socket"):
        start_command(deep, None, head=True)


def test_tls_sets_rays_variables_and_checks_the_files(tmp_path: Path) -> None:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    tls = ClusterTlsConfig(ca_cert=files["ca"], server_cert=files["cert"], server_key=files["key"])
    with pytest.raises(ConfigError, match="TLS file not found"):
        tls_environment(tls)
    for path in files.values():
        path.write_text("pem")
    assert tls_environment(tls) == {
        "RAY_USE_TLS": "1",
        "RAY_TLS_CA_CERT": str(files["ca"].resolve()),
        "RAY_TLS_SERVER_CERT": str(files["cert"].resolve()),
        "RAY_TLS_SERVER_KEY": str(files["key"].resolve()),
    }


def test_the_cluster_section_is_strict() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        ClusterConfig.model_validate({"address": "h:1", "dashboard": True})
    with pytest.raises(ValueError, match="address"):
        ClusterConfig.model_validate({})


def test_cluster_start_refuses_cameras_on_the_head(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "start", "--head", "--cameras", "2"]) != 0
    assert "--cameras is for worker machines" in capsys.readouterr().err
