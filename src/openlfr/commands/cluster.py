"""``lfr cluster start|status``: the Ray nodes of cluster mode (docs/CLUSTER.md).

``start`` runs ``ray start`` exactly as this cluster needs it (``openlfr.cluster.node``: no usage statistics, no
dashboard, token authentication, TLS when configured, every file under the data folder) and stays in the
foreground until stopped (run it under systemd). ``status`` lists the nodes, the cameras on each and their load.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from openlfr.commands.common import print_json, settings_from


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cluster", help="cluster mode: start a Ray node, show nodes and cameras")
    sub = parser.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)

    start = sub.add_parser("start", help="run a Ray node of this cluster in the foreground (head or worker)")
    role = start.add_mutually_exclusive_group(required=True)
    role.add_argument("--head", action="store_true", help="the control plane's machine (runs no camera)")
    role.add_argument("--address", help="a worker machine: the head's host:port")
    start.add_argument("--port", type=int, default=6379, help="the head's port (default 6379)")
    start.add_argument("--node-ip", default=None, help="this machine's address as the other nodes reach it")
    start.add_argument("--cameras", type=int, default=0, help="cameras this worker machine can run (default 0)")
    start.add_argument("--cpus", type=int, default=None, help="CPUs Ray may use here (default: all)")
    start.set_defaults(handler=run_start)

    status = sub.add_parser("status", help="nodes, the cameras on each, and their load")
    status.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    status.set_defaults(handler=run_status)


def run_start(args: argparse.Namespace) -> int:
    from openlfr.cluster.node import start_command
    from openlfr.errors import ConfigError

    if args.cameras < 0 or (args.head and args.cameras):
        raise ConfigError("--cameras is for worker machines, and cannot be negative")
    settings = settings_from(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    command = start_command(
        settings.data_dir,
        settings.cluster,
        head=args.head,
        address=args.address,
        port=args.port,
        node_ip=args.node_ip,
        cameras=args.cameras,
        cpus=args.cpus,
    )
    os.execve(command.argv[0], list(command.argv), {**os.environ, **command.env})
    return 0  # not reached: ray replaces this process


def run_status(args: argparse.Namespace) -> int:
    from openlfr.cluster.supervisor import open_pool

    pool = open_pool(settings_from(args))
    try:
        status = pool.status()
    finally:
        pool.close()
    nodes: list[dict[str, Any]] = [
        {
            "node": n.node_id,
            "address": n.address,
            "alive": n.alive,
            "cameras": [f"{c.deployment_id}/{c.camera_id}" for c in status.cameras_on(n.node_id)],
            "camera_capacity": n.cameras_capacity,
            "load": round((n.cameras_capacity - n.cameras_free) / n.cameras_capacity, 2) if n.cameras_capacity else 0,
            "cpus": n.cpus,
        }
        for n in status.nodes
    ]
    cameras: list[dict[str, Any]] = [
        {
            "deployment": c.deployment_id,
            "camera": c.camera_id,
            "node": c.node_id,
            "state": c.state,
            "restarts": c.restarts,
            "frames": c.status.frames if c.status else None,
            "alerts": c.status.alerts if c.status else None,
        }
        for c in status.cameras
    ]
    if args.json:
        print_json({"nodes": nodes, "cameras": cameras})
        return 0
    for node in nodes:
        state = "alive" if node["alive"] else "DEAD"
        print(
            f"{node['node'][:12]}  {node['address']:<15} {state:<5}  cameras {len(node['cameras'])}/"
            f"{node['camera_capacity']:g}  cpus {node['cpus']:g}"
        )
        for camera in node["cameras"]:
            print(f"    {camera}")
    unplaced = [c for c in cameras if c["node"] is None]
    for camera in unplaced:
        print(f"(being placed or restarted) {camera['deployment']}/{camera['camera']}")
    return 0
