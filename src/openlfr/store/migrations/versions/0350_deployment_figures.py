"""Deployment figures that survive restarts and the purge: face detections kept apart from faces seen
(tracks), and the categories of alerts deleted by the purge or an erasure.

``faces_seen`` used to hold face detections summed over frames; it becomes ``detections``, and ``tracks``
(distinct faces passing) is the published "faces seen" from now on.

Revision ID: 0350
Revises: 0340
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0350"
down_revision = "0340"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detections", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retired_alerts", sa.JSON(), nullable=True))
    op.execute("UPDATE deployment_count SET detections = faces_seen")
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.drop_column("faces_seen")


def downgrade() -> None:
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.add_column(sa.Column("faces_seen", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE deployment_count SET faces_seen = detections")
    with op.batch_alter_table("deployment_count", schema=None) as batch_op:
        batch_op.drop_column("retired_alerts")
        batch_op.drop_column("detections")
