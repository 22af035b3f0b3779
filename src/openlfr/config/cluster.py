"""The ``cluster`` section: camera pipelines on Ray worker machines instead of threads of ``lfr serve``
(docs/SCALING.md). Absent (the default), everything runs on one machine and nothing imports Ray."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterTlsConfig(_Strict):
    """Ray's own TLS between every process of the cluster (``RAY_USE_TLS``): the same files on every machine."""

    ca_cert: Path = Field(description="CA certificate (PEM) that signed every node's certificate")
    server_cert: Path = Field(description="this node's certificate (PEM), signed by the CA")
    server_key: Path = Field(description="this node's private key (PEM, readable by the service account only)")


class ClusterConfig(_Strict):
    address: str = Field(
        description="host:port of the Ray head node's GCS (the control plane's machine, e.g. 10.0.0.5:6379)"
    )
    auth_token_file: Path | None = Field(
        None,
        description="file (mode 0600) holding the cluster's shared token (Ray token authentication); "
        "default <data_dir>/cluster/auth_token (created by `lfr cluster start --head`); RAY_AUTH_TOKEN wins when set",
    )
    namespace: str = Field("openlfr", min_length=1, description="Ray namespace of the named actors")
    camera_resource: str = Field(
        "openlfr_camera",
        min_length=1,
        description="custom Ray resource a camera needs one unit of: a worker node offers as many as the "
        "cameras it can run (`lfr cluster start --cameras N`); the head node offers none",
    )
    cpus_per_camera: float = Field(1.0, ge=0, description="CPUs a camera's actor reserves on its node")
    ack_timeout_s: float = Field(
        30.0, gt=0, description="how long starting, stopping and erasure wait for every worker's acknowledgement"
    )
    tls: ClusterTlsConfig | None = Field(None, description="certificates for Ray's TLS (absent: no TLS)")
