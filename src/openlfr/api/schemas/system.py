from __future__ import annotations

from typing import Literal

from openlfr.api.schemas.base import Output


class HealthPublic(Output):
    status: Literal["ok"]
    version: str
    database: Literal["ok"]
    disk: Literal["ok"]
