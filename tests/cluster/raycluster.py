"""A real Ray cluster on loopback for the cluster tests: a head node and worker nodes, each a separate
``ray start --block`` process group started exactly as ``lfr cluster start`` starts one
(``openlfr.cluster.node.start_command``), each in its own short data folder (Ray's socket paths must stay short).

Health checks are lowered on the head so a killed worker node is declared dead within seconds.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from openlfr.cluster.node import TOKEN_FILE, start_command
from openlfr.config.cluster import ClusterConfig

RAY_MISSING = (
    None
    if importlib.util.find_spec("ray") is not None
    else "the cluster extra (ray) is not installed: pip install 'openlfr[cluster]' (CI installs it from dev.lock)"
)

# A dead node is noticed after period x threshold (here ~3 s) instead of Ray's default ~30 s.
FAST_HEALTH_CHECKS: dict[str, object] = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 1000,
    "health_check_failure_threshold": 3,
    # Each raylet dumps its state (debug_state.txt: what it was asked to do, counted) every second, not 10 s.
    "debug_dump_period_milliseconds": 1000,
}


@dataclass
class Node:
    data_dir: Path
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """The machine dies: every process of the node at once (its raylet, its workers), no clean-up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@dataclass
class RayCluster:
    port: int
    home: Path
    """HOME of every Ray process: the tests check that nothing is written there"""
    head: Node | None = None
    workers: list[Node] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def config(self, **changes: object) -> ClusterConfig:
        return ClusterConfig.model_validate({"address": self.address, "ack_timeout_s": 120.0, **changes})

    def _spawn(self, data_dir: Path, *, head: bool, cameras: int = 0, cpus: int = 1) -> Node:
        command = start_command(
            data_dir,
            self.config(),
            head=head,
            address=None if head else self.address,
            port=self.port,
            node_ip="127.0.0.1",
            cameras=cameras,
            cpus=cpus,
            system_config=FAST_HEALTH_CHECKS if head else None,
        )
        env = {**os.environ, **command.env, "HOME": str(self.home)}
        with (data_dir / "node.log").open("wb") as log:
            process = subprocess.Popen(
                command.argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=data_dir
            )
        return Node(data_dir, process)

    def start_head(self) -> Node:
        self.head = self._spawn(short_dir(), head=True)
        return self.head

    def add_worker(self, cameras: int) -> Node:
        """A worker node offering ``cameras`` units of the camera resource; the token copied as an operator
        would (mode 0600)."""
        assert self.head is not None
        data_dir = short_dir()
        token = data_dir / TOKEN_FILE
        token.parent.mkdir(mode=0o700)
        shutil.copyfile(self.head.data_dir / TOKEN_FILE, token)
        token.chmod(0o600)
        node = self._spawn(data_dir, head=False, cameras=cameras, cpus=cameras)
        self.workers.append(node)
        return node

    def nodes(self) -> list[Node]:
        return [*([self.head] if self.head else []), *self.workers]

    def stop(self) -> None:
        # Thrown away: a stopped node would drain for 30 s first, for nothing.
        for node in [*self.workers, *([self.head] if self.head else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait()
            shutil.rmtree(node.data_dir, ignore_errors=True)


def short_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="lfr", dir="/tmp"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
