"""Initial watchlist schema: subjects, watchlists, reference images, templates, snapshots, erasure records.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_record",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("templates", sa.Integer(), nullable=False),
        sa.Column("snapshots_redacted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_record")),
    )
    op.create_table(
        "subject",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_ref", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("image_source", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_subject_external_ref")),
    )
    op.create_table(
        "watchlist",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist")),
        sa.UniqueConstraint("name", name=op.f("uq_watchlist_name")),
    )
    op.create_table(
        "reference_image",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("quality_report", sa.JSON(), nullable=False),
        sa.Column("duplicate_of", sa.String(length=32), nullable=True),
        sa.Column("duplicate_score", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_reference_image_subject_id_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_image")),
        sa.UniqueConstraint("digest", name=op.f("uq_reference_image_digest")),
    )
    with op.batch_alter_table("reference_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_image_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "snapshot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("watchlist_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("template_count", sa.Integer(), nullable=False),
        sa.Column("subject_count", sa.Integer(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("weights_sha256", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("preprocessing", sa.String(length=100), nullable=False),
        sa.Column("erasures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["watchlist_id"], ["watchlist.id"], name=op.f("fk_snapshot_watchlist_id_watchlist"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
    )
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_watchlist_id"), ["watchlist_id"], unique=False)

    op.create_table(
        "watchlist_member",
        sa.Column("watchlist_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_watchlist_member_subject_id_subject"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["watchlist_id"],
            ["watchlist.id"],
            name=op.f("fk_watchlist_member_watchlist_id_watchlist"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("watchlist_id", "subject_id", name=op.f("pk_watchlist_member")),
    )
    with op.batch_alter_table("watchlist_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watchlist_member_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "snapshot_template",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("template_digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"], ["snapshot.id"], name=op.f("fk_snapshot_template_snapshot_id_snapshot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_template")),
    )
    with op.batch_alter_table("snapshot_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_template_snapshot_id"), ["snapshot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_snapshot_template_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "template",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("weights_sha256", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("preprocessing", sa.String(length=100), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["reference_image.id"], name=op.f("fk_template_image_id_reference_image"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_template_subject_id_subject"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template")),
        sa.UniqueConstraint("image_id", name=op.f("uq_template_image_id")),
    )
    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_template_digest"), ["digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_template_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_subject_id"))
        batch_op.drop_index(batch_op.f("ix_template_digest"))

    op.drop_table("template")
    with op.batch_alter_table("snapshot_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_template_subject_id"))
        batch_op.drop_index(batch_op.f("ix_snapshot_template_snapshot_id"))

    op.drop_table("snapshot_template")
    with op.batch_alter_table("watchlist_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watchlist_member_subject_id"))

    op.drop_table("watchlist_member")
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_watchlist_id"))

    op.drop_table("snapshot")
    with op.batch_alter_table("reference_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_image_subject_id"))

    op.drop_table("reference_image")
    op.drop_table("watchlist")
    op.drop_table("subject")
    op.drop_table("erasure_record")
