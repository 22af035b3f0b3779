"""The camera host allow-list (``sources.allowed_hosts``): which hosts a stream camera may be on.

Entries are host names (matched exactly, case-insensitive, a trailing dot ignored) or IP networks in CIDR
form (a bare address is a /32 or /128). A literal IP address in a camera URL is matched against the
networks; a host name against the names. Nothing is resolved to decide: a name lookup is itself a
connection, and a name can be pointed anywhere later.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from openlfr.errors import SourceError
from openlfr.sources.redact import redact

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")
_STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")


class SourceNotAllowedError(SourceError):
    """A stream camera on a host the configuration does not allow."""

    code = "source_not_allowed"


@dataclass(frozen=True, slots=True)
class HostRules:
    names: frozenset[str]
    networks: tuple[IpNetwork, ...]

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return _normal_name(host) in self.names
        return any(address in network for network in self.networks if network.version == address.version)


def _normal_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


def parse_allowed_hosts(entries: Sequence[str]) -> HostRules | None:
    """The rules of ``entries``; None when the list is empty (any host). ValueError names a bad entry."""
    names: set[str] = set()
    networks: list[IpNetwork] = []
    for raw in entries:
        entry = raw.strip()
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = _normal_name(entry)
        if not _HOST_NAME.fullmatch(name):
            raise ValueError(f"allowed host {entry!r} is neither a host name nor an IP network (CIDR)")
        names.add(name)
    if not names and not networks:
        return None
    return HostRules(frozenset(names), tuple(networks))


def stream_host(spec: str) -> str | None:
    """The host of a stream URL (rtsp://, http(s)://), without brackets; None for anything else."""
    parts = urlsplit(spec.strip())
    if parts.scheme.lower() not in _STREAM_SCHEMES:
        return None
    return parts.hostname or ""


def check_stream_host(spec: str, allowed_hosts: Sequence[str]) -> None:
    """SourceNotAllowedError when ``spec`` is a stream on a host outside ``allowed_hosts`` (empty: any host)."""
    rules = parse_allowed_hosts(allowed_hosts)
    host = stream_host(spec)
    if rules is None or host is None:
        return
    if not host or not rules.allows(host):
        raise SourceNotAllowedError(
            f"{redact(spec)}: host {host or '(none)'!r} is not in sources.allowed_hosts of the configuration"
        )
