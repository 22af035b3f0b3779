"""The alert's encounter key, stored with it (the id of the first alert of its encounter) and indexed, so the
queue groups 10,000 alerts with one GROUP BY. Existing alerts get theirs from the same rule, in seq order.

Revision ID: 0440
Revises: 0410
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0440"
down_revision = "0410"
branch_labels = None
depends_on = None

GAP_S = 300.0
"""openlfr.alerts.encounters.DEFAULT_GAP_S when this revision was written (a migration never imports the code)"""


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("encounter_key", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_alert_encounter_key", ["encounter_key"], unique=False)
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, subject_id, source, deployment_id, decided_at FROM alert ORDER BY seq")
    ).all()
    last: dict[tuple[str, str, str | None], tuple[str, datetime]] = {}
    for alert_id, subject_id, source, deployment_id, decided_at in rows:
        at = _utc(decided_at)
        key = alert_id
        if subject_id is not None:
            group = (subject_id, source, deployment_id)
            previous = last.get(group)
            if previous is not None and abs((at - previous[1]).total_seconds()) <= GAP_S:
                key = previous[0]
            last[group] = (key, at)
        bind.execute(sa.text("UPDATE alert SET encounter_key = :key WHERE id = :id"), {"key": key, "id": alert_id})


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_encounter_key")
        batch_op.drop_column("encounter_key")
