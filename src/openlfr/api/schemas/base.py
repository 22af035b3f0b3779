from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from openlfr.utc import as_utc


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Output(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    @field_validator("*", mode="before")
    @classmethod
    def _in_utc(cls, value: Any) -> Any:
        # SQLite returns naive datetimes (written in UTC): always answer with an explicit offset.
        return as_utc(value) if isinstance(value, datetime) else value
