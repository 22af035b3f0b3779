"""Login rate limits: failed attempts per username and per client address in a sliding window.

In memory, per process: enough for the single-process `lfr serve`; it resets on restart, which only gives an
attacker one more window. Memory is bounded: at most ``max_keys`` addresses/usernames are remembered.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoginLimits:
    max_per_user: int
    max_per_ip: int
    window_s: float


class LoginRateLimiter:
    def __init__(self, limits: LoginLimits, clock: Callable[[], float], max_keys: int = 10_000) -> None:
        self.limits = limits
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.failures_total = 0
        self.blocked_total = 0

    @staticmethod
    def _keys(username: str, ip: str) -> tuple[str, str]:
        return f"user:{username.strip().lower()}", f"ip:{ip}"

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds until a login for ``username`` from ``ip`` may be tried again; None when it may now."""
        user_key, ip_key = self._keys(username, ip)
        now = self._clock()
        with self._lock:
            waits = [
                self._wait(key, limit, now)
                for key, limit in ((user_key, self.limits.max_per_user), (ip_key, self.limits.max_per_ip))
            ]
        worst = max((w for w in waits if w is not None), default=None)
        if worst is not None:
            self.blocked_total += 1
        return worst

    def _wait(self, key: str, limit: int, now: float) -> int | None:
        times = self._prune(key, now)
        if times is None or len(times) < limit:
            return None
        # The oldest failure that keeps the count at the limit must leave the window first.
        return max(1, math.ceil(times[len(times) - limit] + self.limits.window_s - now))

    def _prune(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.limits.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def record_failure(self, username: str, ip: str) -> None:
        now = self._clock()
        with self._lock:
            self.failures_total += 1
            for key in self._keys(username, ip):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self._max_keys:
                self._evict(now)

    def record_success(self, username: str, ip: str) -> None:
        """A correct password clears that username's failures (not the address's: others may share it)."""
        user_key, _ = self._keys(username, ip)
        with self._lock:
            self._failures.pop(user_key, None)

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            self._prune(key, now)
        # Still too many (a flood of distinct names): forget the keys whose last failure is oldest.
        excess = len(self._failures) - self._max_keys
        if excess > 0:
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[:excess]:
                del self._failures[key]
