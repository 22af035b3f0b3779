"""A composition root in its smallest form: named steps started in order and stopped in reverse.

`lfr serve` builds one from its start-up steps (the database first, the cameras and schedulers after it, the
HTTP server last), and one stop signal unwinds it. A step that fails to start stops those already started,
then the error goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    start: Callable[[], None]
    stop: Callable[[], None] = field(default=_nothing)


class Lifecycle:
    def __init__(self, steps: list[Step]) -> None:
        names = [step.name for step in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique: {names}")
        self.steps = list(steps)
        self._started: list[Step] = []

    @property
    def started(self) -> list[str]:
        return [step.name for step in self._started]

    def start(self) -> None:
        for step in self.steps:
            log.info("starting %s", step.name)
            try:
                step.start()
            except BaseException:
                log.error("start-up failed at %s; stopping what was started", step.name)
                self.stop()
                raise
            self._started.append(step)

    def stop(self) -> None:
        """Stop started steps in reverse order; a failing stop is logged and the others still run."""
        while self._started:
            step = self._started.pop()
            log.info("stopping %s", step.name)
            try:
                step.stop()
            except Exception:
                log.exception("stopping %s failed", step.name)
