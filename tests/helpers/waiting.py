"""Waiting on an observable condition (a state the code under test reports), never for a fixed time.

The timeout only bounds a hang: a condition that holds returns at once, however fast or slow the machine is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

GENEROUS_S = 300.0
"""how long a test waits before it calls a hang a failure (far beyond any healthy run, on any machine)"""


def wait_until(predicate: Callable[[], bool], timeout_s: float = GENEROUS_S, interval_s: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds; False only when it never held within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()
