"""Post-deployment review: a supervisor's sign-off of an ended deployment's record.

Revision ID: 0351
Revises: 0350
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0351"
down_revision = "0350"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_sign_off",
        sa.Column("deployment_id", sa.String(length=32), autoincrement=False, nullable=False),
        sa.Column("signed_off_by", sa.String(length=64), nullable=False),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("unreviewed_alerts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_deployment_sign_off_deployment_id_deployment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_deployment_sign_off")),
    )


def downgrade() -> None:
    op.drop_table("deployment_sign_off")
