"""Starting a Ray node of an OpenLFR cluster (``lfr cluster start``): the one place that decides how Ray runs.

- usage statistics off (``RAY_USAGE_STATS_ENABLED=0`` and ``--disable-usage-stats``): the system stands alone;
- no dashboard (``--include-dashboard=false``): no extra HTTP server on any machine;
- token authentication (``RAY_AUTH_MODE=token``): every RPC between nodes and from the control plane carries
  the cluster's shared token, read from a 0600 file in the data folder (``RAY_AUTH_TOKEN_PATH``) unless
  ``RAY_AUTH_TOKEN`` is set; Ray's own default (a file under the home folder) is never used;
- TLS when the ``cluster.tls`` settings name certificates (``RAY_USE_TLS`` and the three file variables);
- every file Ray writes (sockets, logs, session state) under ``<data_dir>/ray`` (``--temp-dir``);
- object spilling off on the head (``automatic_object_spilling_enabled``): objects (the watchlist templates
  handed to a worker) stay in memory and are never written to disk.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from openlfr.config.cluster import ClusterConfig, ClusterTlsConfig
from openlfr.errors import ConfigError

TOKEN_FILE = Path("cluster") / "auth_token"
RAY_DIR = "ray"
# Ray keeps Unix sockets under --temp-dir; a socket path is at most 107 bytes, and Ray adds ~60 of its own.
_MAX_TEMP_DIR = 40


@dataclass(frozen=True, slots=True)
class NodeCommand:
    argv: tuple[str, ...]
    env: dict[str, str]
    """the variables to add to the environment (the token itself never: it stays in its file)"""


def token_path(data_dir: Path, config: ClusterConfig | None) -> Path:
    if config is not None and config.auth_token_file is not None:
        return config.auth_token_file
    return data_dir / TOKEN_FILE


def ensure_token(path: Path) -> None:
    """Create the cluster token (0600, 256 random bits) if it does not exist; refuse one others can read."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"{path}: the cluster token must be readable by its owner only (chmod 600)")
        if not path.read_text(encoding="utf-8").strip():
            raise ConfigError(f"{path}: the cluster token file is empty")
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32))


def ray_environment(data_dir: Path, config: ClusterConfig | None, base: dict[str, str] | None = None) -> dict[str, str]:
    """The variables every Ray process of this cluster runs with (nodes and the control plane's driver)."""
    base = dict(os.environ) if base is None else base
    env = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token", "LFR_DATA_DIR": str(data_dir.resolve())}
    if not base.get("RAY_AUTH_TOKEN"):
        path = token_path(data_dir, config)
        ensure_token_readable(path)
        env["RAY_AUTH_TOKEN_PATH"] = str(path.resolve())
    if config is not None and config.tls is not None:
        env.update(tls_environment(config.tls))
    return env


def prepare_driver(data_dir: Path, config: ClusterConfig) -> None:
    """Put the cluster's authentication (and TLS) settings into this process's environment, where Ray reads
    them once, when it is first imported: call this before anything imports ``ray``."""
    env = ray_environment(data_dir, config)
    env.pop("LFR_DATA_DIR")  # the workers' data folder is their node's, not the control plane's
    if "ray" in sys.modules and any(os.environ.get(k) != v for k, v in env.items()):
        raise ConfigError(
            "Ray was imported before the cluster's authentication settings were set; it would connect without "
            "them (set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH before starting, or import nothing of Ray first)"
        )
    os.environ.update(env)


def ensure_token_readable(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(
            f"{path}: no cluster token; the head node creates it (`lfr cluster start --head`): copy it to every "
            "worker machine (mode 0600), or set RAY_AUTH_TOKEN"
        )
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ConfigError(f"{path}: the cluster token must be readable by its owner only (chmod 600)")


def tls_environment(tls: ClusterTlsConfig) -> dict[str, str]:
    for path in (tls.ca_cert, tls.server_cert, tls.server_key):
        if not path.is_file():
            raise ConfigError(f"{path}: TLS file not found")
    return {
        "RAY_USE_TLS": "1",
        "RAY_TLS_CA_CERT": str(tls.ca_cert.resolve()),
        "RAY_TLS_SERVER_CERT": str(tls.server_cert.resolve()),
        "RAY_TLS_SERVER_KEY": str(tls.server_key.resolve()),
    }


def temp_dir(data_dir: Path) -> Path:
    path = (data_dir / RAY_DIR).resolve()
    if len(str(path)) > _MAX_TEMP_DIR:
        raise ConfigError(
            f"{path}: Ray keeps Unix sockets under this folder and their paths must stay short; use a data folder "
            f"whose path is at most {_MAX_TEMP_DIR - len(RAY_DIR) - 1} characters long"
        )
    return path


def ray_executable() -> str:
    """The ``ray`` command of this Python environment (the cluster extra)."""
    candidate = Path(sys.executable).with_name("ray")
    if not candidate.is_file():
        raise ConfigError("the `ray` command is not installed: pip install 'openlfr[cluster]'")
    return str(candidate)


def start_command(
    data_dir: Path,
    config: ClusterConfig | None,
    *,
    head: bool,
    address: str | None = None,
    port: int = 6379,
    node_ip: str | None = None,
    cameras: int = 0,
    cpus: int | None = None,
    system_config: dict[str, object] | None = None,
) -> NodeCommand:
    """``ray start`` for a head node (the control plane's machine: it runs no camera) or a worker node that
    offers ``cameras`` units of the camera resource. ``system_config``: extra Ray system settings (head only;
    tests lower the health-check periods)."""
    if head:
        ensure_token(token_path(data_dir, config))
    elif not address:
        raise ConfigError("a worker node needs the head's address (host:port)")
    resource = config.camera_resource if config is not None else "openlfr_camera"
    argv = [
        ray_executable(),
        "start",
        "--block",
        "--disable-usage-stats",
        f"--temp-dir={temp_dir(data_dir)}",
        f"--resources={json.dumps({resource: cameras})}",
    ]
    if head:
        system = {"automatic_object_spilling_enabled": False, **(system_config or {})}
        argv += ["--head", f"--port={port}", "--include-dashboard=false", f"--system-config={json.dumps(system)}"]
    else:
        argv += [f"--address={address}"]
    if node_ip:
        argv.append(f"--node-ip-address={node_ip}")
    if cpus is not None:
        argv.append(f"--num-cpus={cpus}")
    return NodeCommand(tuple(argv), ray_environment(data_dir, config))
