"""Ray's TLS as ``cluster.tls`` configures it (docs/CLUSTER.md, "Security of the link"), on a real head node with
certificates made here by the ``cryptography`` package: the head's GCS port speaks TLS with the configured
certificate (a handshake that checks it against the CA succeeds, and the certificate presented is ours), and a
control-plane driver with the same settings (token and TLS) connects and runs work on the cluster."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from openlfr.cluster.node import start_command
from openlfr.config.cluster import ClusterConfig, ClusterTlsConfig
from tests.cluster.raycluster import RAY_MISSING, free_port, short_dir
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.skipif(RAY_MISSING is not None, reason=RAY_MISSING or "")]

WAIT_S = 300.0


def _addresses() -> list[str]:
    """Loopback and the address Ray's nodes advertise on this machine (its own choice, asked in a separate
    process: this one must not import Ray before a driver's settings are set)."""
    code = "from ray._private.services import get_node_ip_address; print(get_node_ip_address())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    advertised = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return sorted({"127.0.0.1", advertised.stdout.strip()})


def write_certificates(folder: Path) -> ClusterTlsConfig:
    """A CA and one node certificate (for every address of this machine) signed by it, as PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openlfr test cluster CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), *(x509.IPAddress(ipaddress.ip_address(a)) for a in _addresses())]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tls = ClusterTlsConfig(ca_cert=folder / "ca.pem", server_cert=folder / "node.pem", server_key=folder / "node.key")
    tls.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.server_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    tls.server_key.chmod(0o600)
    return tls


@pytest.fixture(scope="module")
def tls_head() -> Iterator[tuple[Path, ClusterConfig]]:
    import shutil
    import signal

    data_dir = short_dir()
    port = free_port()
    config = ClusterConfig(
        address=f"127.0.0.1:{port}", tls=write_certificates(data_dir), auth_token_file=data_dir / "cluster" / "token"
    )
    command = start_command(data_dir, config, head=True, port=port, node_ip="127.0.0.1", cpus=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")} | command.env
    with (data_dir / "node.log").open("wb") as log:
        process = subprocess.Popen(command.argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield data_dir, config
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_heads_port_speaks_tls_with_the_configured_certificate(tls_head: tuple[Path, ClusterConfig]) -> None:
    _, config = tls_head
    assert config.tls is not None
    context = ssl.create_default_context(cafile=str(config.tls.ca_cert))
    context.set_alpn_protocols(["h2"])
    host, port = config.address.split(":")
    presented: list[bytes] = []

    def handshake() -> bool:
        try:
            with (
                socket.create_connection((host, int(port)), timeout=10) as raw,
                context.wrap_socket(raw, server_hostname=host) as tls,  # checks the chain and the address
            ):
                presented.append(tls.getpeercert(binary_form=True) or b"")
        except (ConnectionRefusedError, ssl.SSLEOFError, ConnectionResetError):
            return False  # the head is still starting
        return True

    assert wait_until(handshake, WAIT_S, interval_s=0.5)
    ours = x509.load_pem_x509_certificate(config.tls.server_cert.read_bytes())
    assert presented[-1] == ours.public_bytes(serialization.Encoding.DER)


def test_a_driver_with_the_token_and_tls_runs_work_on_the_cluster(tls_head: tuple[Path, ClusterConfig]) -> None:
    data_dir, config = tls_head
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from openlfr.cluster.node import prepare_driver\n"
        "from openlfr.config.cluster import ClusterConfig\n"
        f"config = ClusterConfig.model_validate_json({config.model_dump_json()!r})\n"
        f"prepare_driver(Path({str(data_dir)!r}), config)\n"
        "import ray\n"
        "ray.init(address=config.address, log_to_driver=False, include_dashboard=False)\n"
        "print(ray.get(ray.remote(num_cpus=0)(lambda: 'over tls').remote(), timeout=300))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=WAIT_S, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("over tls")
