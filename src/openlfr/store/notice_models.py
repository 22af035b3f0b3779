"""SQLAlchemy model of public notice: where and when signs telling the public about a deployment were put up.

A placement is recorded by the person who put the signs up (or saw them up), through ``openlfr.deployments.notice``;
rows are only ever added. Recognition may not start before a deployment has at least one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openlfr.store.models import Base, UTCDateTime, new_id
from openlfr.utc import utcnow


class SignagePlacement(Base):
    __tablename__ = "signage_placement"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    location: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """when the signs went up, as the recorder says (not after ``recorded_at``)"""
    placed_by: Mapped[str] = mapped_column(String(200))
    """who recorded it: the signed-in principal's label (a username, or ``token:<name>``)"""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
