"""Accountability: token creators by id, CLI sessions, login reservations, known clients, who escalated an
alert, who answers for a deployment, saved threshold calibrations.

Revision ID: 0300
Revises: 0320
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0320"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="console"))
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_id", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_api_token_created_by_id"), ["created_by_id"], unique=False)
    # Tokens whose creator still exists keep working (within the creator's role); the others die.
    op.execute(
        "UPDATE api_token SET created_by_id = (SELECT app_user.id FROM app_user "
        "WHERE app_user.username = api_token.created_by)"
    )
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_account", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("threshold_calibration_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("threshold_equity_justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("threshold_equity_by", sa.String(length=64), nullable=True))
    op.execute("UPDATE deployment SET created_by_account = created_by")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalated_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("escalated_by_account", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE alert SET escalated_by = adjudicated_by, escalated_by_account = adjudicated_by "
        "WHERE status = 'escalated'"
    )

    guard = op.create_table(
        "login_guard",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reservations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_guard")),
    )
    op.bulk_insert(guard, [{"id": 1, "reservations": 0}])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pair_key", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        for column in ("pair_key", "client_key", "account_key", "at"):
            batch_op.create_index(batch_op.f(f"ix_login_attempt_{column}"), [column], unique=False)
    op.create_table(
        "login_known_client",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_login_known_client_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "client_key", name=op.f("pk_login_known_client")),
    )
    op.create_table(
        "threshold_calibration",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("weights_sha256", sa.String(length=64), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("watchlist_size", sa.Integer(), nullable=False),
        sa.Column("passers_by", sa.Integer(), nullable=False),
        sa.Column("false_alerts", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("tail_location", sa.Float(), nullable=False),
        sa.Column("tail_shape", sa.Float(), nullable=False),
        sa.Column("tail_scale", sa.Float(), nullable=False),
        sa.Column("tail_rate", sa.Float(), nullable=False),
        sa.Column("equity_attribute", sa.String(length=100), nullable=True),
        sa.Column("equity_low", sa.Float(), nullable=True),
        sa.Column("equity_high", sa.Float(), nullable=True),
        sa.Column("equity_dataset", sa.Text(), nullable=True),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threshold_calibration")),
    )
    with op.batch_alter_table("threshold_calibration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_threshold_calibration_model"), ["model"], unique=False)


def downgrade() -> None:
    op.drop_table("threshold_calibration")
    op.drop_table("login_known_client")
    op.drop_table("login_attempt")
    op.drop_table("login_guard")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("escalated_by_account")
        batch_op.drop_column("escalated_by")
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_column("threshold_equity_by")
        batch_op.drop_column("threshold_equity_justification")
        batch_op.drop_column("threshold_calibration_id")
        batch_op.drop_column("created_by_account")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_created_by_id"))
        batch_op.drop_column("created_by_id")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_column("kind")
