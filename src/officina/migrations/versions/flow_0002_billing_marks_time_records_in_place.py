"""billing marks time records in place

Revision ID: flow_0002
Revises: flow_0001
Create Date: 2026-11-23 09:30:00.000000

Billing a project marks every one of its time records (billing_id, billed_on). On
PostgreSQL an UPDATE that changes no indexed column and finds room on the row's own page
writes no index entries at all (a heap-only tuple); with an index on billing_id every marked
record added an entry to each of the table's indexes (100 000 records: about 4 s instead of
0.3 s). So billing_id loses its index (readers reach a billing's records through its work
packages, which are indexed) and the table's pages keep half their room free for the new
row versions. The fill factor applies to pages written from now on; existing data takes it
on with the next VACUUM FULL.
"""

from __future__ import annotations

from alembic import op


revision = 'flow_0002'
down_revision = 'flow_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_flow_time_records_billing_id', table_name='flow_time_records')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE flow_time_records SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE flow_time_records RESET (fillfactor)')
    op.create_index(
        'ix_flow_time_records_billing_id', 'flow_time_records', ['billing_id'], unique=False
    )
