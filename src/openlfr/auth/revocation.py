"""Wake-ups for long-lived responses when credentials change (an account disabled or moved to another role,
a token revoked, a session ended): the live alert stream re-checks its caller's credentials at once instead of
at its next periodic check. Changes made by another process (``lfr user disable``) are caught by that check."""

from __future__ import annotations

import threading


class CredentialEvents:
    def __init__(self) -> None:
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def changed(self) -> None:
        with self._lock:
            self._generation += 1
