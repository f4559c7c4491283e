"""credential lifetimes, sign-in delays and the ready application for native clients

Revision ID: auth_0001
Revises: core_0002
Create Date: 2026-12-08 01:05:00.000000
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = 'auth_0001'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tokens') as batch:
        batch.add_column(sa.Column('idle', sa.Integer(), nullable=True))
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('expires', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('idle', sa.Integer(), nullable=True))
        batch.create_index('ix_sessions_user', ['user'])
    with op.batch_alter_table('login_failures') as batch:
        batch.add_column(sa.Column('last_failure', sa.BigInteger(), nullable=True))
    # Sessions opened before lifetimes existed end now rather than never.
    op.execute(sa.text('UPDATE sessions SET ended = :ts WHERE ended IS NULL').bindparams(
        ts=int(time.time())
    ))
    from officina.core.applications import ensure_native_application

    ensure_native_application(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('login_failures') as batch:
        batch.drop_column('last_failure')
    with op.batch_alter_table('sessions') as batch:
        batch.drop_index('ix_sessions_user')
        batch.drop_column('idle')
        batch.drop_column('expires')
    with op.batch_alter_table('tokens') as batch:
        batch.drop_column('idle')
