"""Capped exponential backoff with jitter, for reconnecting live sources."""

from __future__ import annotations

import random


class Backoff:
    """``minimum``, doubling per failure up to ``maximum``, each wait scaled by a random factor in
    ``[1 - jitter, 1 + jitter]`` (then capped) so cameras that dropped together do not retry in lockstep."""

    def __init__(self, minimum: float, maximum: float, jitter: float = 0.2, rng: random.Random | None = None) -> None:
        if minimum <= 0 or maximum < minimum:
            raise ValueError(f"need 0 < minimum <= maximum, got {minimum}, {maximum}")
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be in [0, 1], got {jitter}")
        self._minimum = minimum
        self._maximum = maximum
        self._jitter = jitter
        self._rng = rng or random.Random()
        self._failures = 0

    @property
    def failures(self) -> int:
        """Consecutive waits handed out since the last ``reset()``."""
        return self._failures

    def next_delay(self) -> float:
        # The exponent is bounded so a source that is down for days cannot overflow the float.
        base = min(self._maximum, self._minimum * 2.0 ** min(self._failures, 62))
        self._failures += 1
        factor = self._rng.uniform(1 - self._jitter, 1 + self._jitter)
        return min(self._maximum, base * factor)

    def reset(self) -> None:
        self._failures = 0
