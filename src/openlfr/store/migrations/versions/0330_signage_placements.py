"""Public notice: where and when signs were put up for each deployment (``signage_placement``).

Revision ID: 0330
Revises: 0352
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0330"
down_revision = "0352"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signage_placement",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("deployment_id", sa.String(length=32), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_signage_placement_deployment_id_deployment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signage_placement")),
    )
    with op.batch_alter_table("signage_placement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signage_placement_deployment_id"), ["deployment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signage_placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signage_placement_deployment_id"))
    op.drop_table("signage_placement")
