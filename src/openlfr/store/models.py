"""SQLAlchemy models of the watchlist store. The schema itself is owned by the Alembic migrations in
``openlfr.store.migrations``; a test checks that the two agree.

Ids are uuid4 hex strings so the matching index can carry them as labels. Biometric data (reference
image bytes, template vectors) lives only in ``reference_image`` (through the media store), ``template``
and ``snapshot_template``; erasure deletes the rows of all three.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from openlfr.utc import as_utc, utcnow

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """Every stored time: written in UTC with its zone, read back timezone-aware on every database. SQLite
    keeps no zone (it would store an aware time's wall clock and hand back a naive value); PostgreSQL hands
    values back in the connection's zone. A naive value given is taken to be UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Subject(Base):
    __tablename__ = "subject"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    external_ref: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    # openlfr.watchlists.types.ImageSource code; "other" is explained in image_source_note.
    image_source: Mapped[str] = mapped_column(Text)
    image_source_note: Mapped[str] = mapped_column(Text, default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date, default=None)
    under_18: Mapped[bool] = mapped_column(Boolean, default=False)
    """flagged as a child where the date of birth is not known"""
    minor_justification: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(200))
    review_by: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    images: Mapped[list[ReferenceImage]] = relationship(
        back_populates="subject",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ReferenceImage.created_at",
    )


class Watchlist(Base):
    __tablename__ = "watchlist"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WatchlistMember(Base):
    __tablename__ = "watchlist_member"

    watchlist_id: Mapped[str] = mapped_column(ForeignKey("watchlist.id", ondelete="CASCADE"), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferenceImage(Base):
    """One enrolled reference image. Only images that passed the enrolment gate are ever stored."""

    __tablename__ = "reference_image"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    # sha256 of the original file bytes: the content address in the media store, and the "same image
    # twice" check (unique across all subjects).
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    encrypted: Mapped[bool] = mapped_column(Boolean)
    source_name: Mapped[str] = mapped_column(String(255), default="")
    quality_report: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Set when an operator forced enrolment past a possible-duplicate-identity flag.
    duplicate_of: Mapped[str | None] = mapped_column(String(32), default=None)
    duplicate_score: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    subject: Mapped[Subject] = relationship(back_populates="images")
    template: Mapped[Template | None] = relationship(
        back_populates="image", cascade="all, delete-orphan", passive_deletes=True
    )


class Template(Base):
    """The embedding of one usable reference image, with the contract of the model that made it."""

    __tablename__ = "template"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    image_id: Mapped[str] = mapped_column(ForeignKey("reference_image.id", ondelete="CASCADE"), unique=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subject.id", ondelete="CASCADE"), index=True)
    # sha256 over contract + vector bytes: what snapshot fingerprints are made of.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    model: Mapped[str] = mapped_column(String(100))
    weights_sha256: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int] = mapped_column(Integer)
    preprocessing: Mapped[str] = mapped_column(String(100))
    quality: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    image: Mapped[ReferenceImage] = relationship(back_populates="template")


class Snapshot(Base):
    """An immutable, dated copy of a watchlist's templates for a deployment. Rows are only ever removed
    from it by erasure, which is counted in ``erasures``."""

    __tablename__ = "snapshot"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    watchlist_id: Mapped[str] = mapped_column(ForeignKey("watchlist.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    as_of: Mapped[date] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(64))
    template_count: Mapped[int] = mapped_column(Integer)
    subject_count: Mapped[int] = mapped_column(Integer)
    # [{"subject_id": ..., "reason": ...}]: ids only, no names, so the record holds no personal details.
    excluded: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(100))
    weights_sha256: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[int] = mapped_column(Integer)
    preprocessing: Mapped[str] = mapped_column(String(100))
    erasures: Mapped[int] = mapped_column(Integer, default=0)


class SnapshotTemplate(Base):
    __tablename__ = "snapshot_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    snapshot_id: Mapped[str] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), index=True)
    # A copy, not a foreign key: the snapshot must not change when the live template does.
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    template_digest: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class ErasureRecord(Base):
    """That a subject was erased, when, by whom and why — never what was erased."""

    __tablename__ = "erasure_record"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subject_id: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    erased_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    images: Mapped[int] = mapped_column(Integer)
    templates: Mapped[int] = mapped_column(Integer)
    snapshots_redacted: Mapped[int] = mapped_column(Integer)
