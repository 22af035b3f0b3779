"""Deployment counts: passers-by the pipeline had to leave unexamined (issue 14).

Revision ID: 0320
Revises: 0330
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0320"
down_revision = "0330"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracks_unexamined", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.drop_column("tracks_unexamined")
