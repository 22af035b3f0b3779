"""Nothing leaves the machine: `lfr serve` running a live RTSP camera deployment, then `lfr watch` on a
recording, each under ``strace -f``, with HOME pointing at an empty folder. Every connect/sendto/sendmsg of
every thread and child process is recorded; anything but loopback (where the camera is) fails the test, and
so does any host name lookup (DNS on port 53, or glibc opening its resolver files) and any file written
under HOME.

On main (1726c64) `import openvino` ran Intel's telemetry: a lookup of www.google-analytics.com at every start
and ~/intel/openvino_ga_cid and ~/intel/stats under HOME; `import onnxruntime` (1.32) wrote its telemetry
device id and event cache under ~/.cache/Microsoft/DeveloperTools; converted models went to ~/.cache/openlfr.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openlfr.config.models import Settings
from openlfr.engine import FaceEngine
from openlfr.store.alert_models import AlertRecord
from openlfr.store.context import open_store
from openlfr.watchlists.enrol import Enroller, EnrolRequest
from openlfr.watchlists.snapshots import create_snapshot
from openlfr.watchlists.subjects import add_member, create_watchlist, get_subject
from openlfr.watchlists.types import Category, Outcome, SubjectInfo
from tests.helpers.accounts import person
from tests.helpers.cameras import register_camera
from tests.helpers.console import live_deployment
from tests.helpers.data import shared_data
from tests.helpers.streams import RtspServer, free_port, require_gstreamer
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.model, pytest.mark.slow]

_CALL = re.compile(r"^\d+\s+(?P<call>connect|sendto|sendmsg|sendmmsg)\((?P<args>.*)$")
_INET = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((?P<port>\d+)\).*?inet_(?:addr|pton)\((?:AF_INET6, )?\"(?P<ip>[^\"]+)\""
)


# A host name being resolved: glibc reads these before asking DNS (or nscd) about a name.
_RESOLVER_FILES = re.compile(r'openat\(AT_FDCWD, "(?P<path>/etc/(?:resolv\.conf|hosts|host\.conf|gai\.conf))"')


def outbound(trace: Path) -> list[str]:
    """Every connection or datagram in ``trace`` that is not loopback, and every host name lookup (DNS on port
    53, whatever the server; glibc reading its resolver files). Local sockets are allowed (e.g. nscd for the
    user name of the audit actor: it answers from /etc/passwd)."""
    problems = []
    for line in trace.read_text(errors="replace").splitlines():
        if _RESOLVER_FILES.search(line):
            problems.append(line.strip())
            continue
        match = _CALL.match(line)
        if match is None:
            continue
        inet = _INET.search(match["args"])
        if inet is not None:
            address = ipaddress.ip_address(inet["ip"].split("%")[0])
            if int(inet["port"]) == 53 or not (address.is_loopback or address.is_unspecified):
                problems.append(line.strip())
    return problems


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _traced(strace: str, trace: Path, *args: str) -> list[str]:
    calls = "trace=connect,sendto,sendmsg,sendmmsg,openat"
    return [strace, "-f", "-qq", "-e", calls, "-o", str(trace), sys.executable, "-m", "openlfr", *args]


class _Child:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)


def _traced_child(strace_pid: int) -> _Child:
    """The process strace started (its first child)."""
    children = Path(f"/proc/{strace_pid}/task/{strace_pid}/children").read_text().split()
    assert children, "strace has no child process"
    return _Child(int(children[0]))


def _prepare(data_dir: Path, camera_url: str) -> str:
    """A live, authorised deployment of the Hamilton performer's watchlist on the RTSP camera."""
    settings = Settings(data_dir=data_dir)
    engine = FaceEngine.from_settings(settings)
    reference = shared_data() / "video" / "hamilton_refs" / "lin_manuel_miranda" / "lin-manuel-miranda.png"
    info = SubjectInfo(
            "LMM-1", Category.SUSPECTED_OFFENCE, "test", "other", "sue", date(2099, 1, 1), "LMM",
            image_source_note="public photograph",
        )  # fmt: skip
    with open_store(settings) as store:
        with store.db.session() as session:
            sgt = person(session, "sgt", "supervisor")
        request = EnrolRequest("LMM-1", reference.read_bytes(), "ref.png", info=info, by=sgt)
        result = Enroller(store, engine, 0.9).enrol(request)
        assert result.outcome is Outcome.ENROLLED
        with store.db.session() as session:
            add_member(session, create_watchlist(session, "stage", by=sgt), get_subject(session, "LMM-1"), by=sgt)
            snapshot_id = create_snapshot(session, "stage", engine.contract, date.today(), by=sgt).id
            camera_id = register_camera(session, "stage-cam", camera_url).id
        return live_deployment(store, snapshot_id, [camera_id], threshold=0.47).deployment_id


def test_serve_and_watch_connect_to_nothing_but_loopback_and_write_nothing_under_home(tmp_path: Path) -> None:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (scripts/install-system-deps.sh)")
    require_gstreamer()
    video = shared_data() / "video"
    home, data_dir = tmp_path / "home", tmp_path / "var"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LFR_DATA_DIR": str(data_dir),
        "LFR_API__PORT": str(free_port()),
        "LFR_GOVERNANCE__SCHEDULER_INTERVAL_S": "0.5",
        "LANG": "C.UTF-8",
    }  # no LFR_CACHE_DIR: the default (the data folder) is what is tested
    with RtspServer(video / "hamilton_short.mp4") as camera:
        deployment_id = _prepare(data_dir, camera.url)
        serve_trace = tmp_path / "serve.strace"
        process = subprocess.Popen(
            _traced(strace, serve_trace, "serve"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:

            def alerted() -> bool:
                if process.poll() is not None:  # serve stopped: say why rather than wait out the clock
                    pytest.fail(f"lfr serve exited ({process.returncode}): {process.communicate()[1][-4000:]}")
                with open_store(Settings(data_dir=data_dir)) as store, store.db.session() as session:
                    return bool(session.scalar(select(func.count()).where(AlertRecord.deployment_id == deployment_id)))

            # The live camera was recognised: an alert of the deployment is stored.
            assert wait_until(alerted, 300, interval_s=0.5), "no alert from the live camera"
        finally:
            _traced_child(process.pid).send_signal(signal.SIGINT)  # strace itself would only detach
            _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    watch_trace = tmp_path / "watch.strace"
    # `lfr serve` ran on the runtime "auto" picks here; `lfr watch` runs on onnxruntime, so both are watched.
    onnxruntime = tmp_path / "onnxruntime.yaml"
    onnxruntime.write_text(
        "engine:\n  detector: {type: yunet, runtime: onnxruntime}\n  embedder: {type: sface, runtime: onnxruntime}\n"
    )
    recording = ("--watchlist", str(video / "hamilton_refs"), "--source", str(video / "hamilton_short.mp4"))
    watch = subprocess.run(
        _traced(strace, watch_trace, "--config", str(onnxruntime), "watch", *recording),
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert watch.returncode == 0, watch.stderr
    assert '"lin_manuel_miranda"' in watch.stdout
    assert outbound(serve_trace) == []
    assert outbound(watch_trace) == []
    assert "127.0.0.1" in serve_trace.read_text()  # the guard saw the camera connection: it is watching
    assert files_under(home) == []
