"""Subject safeguards: image source from a controlled list (free text moves to the note, as "other"), date of
birth / under-18 flag with a justification; the composition of the watchlist shown at authorisation.

Revision ID: 0352
Revises: 0351
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0352"
down_revision = "0351"
branch_labels = None
depends_on = None

CODES = ("custody_image", "other_police_image", "other")


def upgrade() -> None:
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.add_column(sa.Column("image_source_note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("under_18", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("minor_justification", sa.Text(), nullable=False, server_default=""))
    subject = sa.table("subject", sa.column("image_source", sa.Text()), sa.column("image_source_note", sa.Text()))
    # Free-text sources written before the controlled list keep their words, as the note of an "other" source.
    op.execute(
        subject.update()
        .where(subject.c.image_source.not_in(CODES))
        .values(image_source_note=subject.c.image_source, image_source="other")
    )
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("authorisation_composition", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("authorisation_composition")
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_column("minor_justification")
        batch_op.drop_column("under_18")
        batch_op.drop_column("date_of_birth")
        batch_op.drop_column("image_source_note")
