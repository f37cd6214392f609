"""inbound events: an index for "is an earlier event of this source still pending?"

The claim asks it of every candidate; without this index SQLite answered it by scanning every
pending event (5 s per claim, holding the write lock, with 3,000 pending), starving the webhook.

Revision ID: 0009
Revises: 0004
"""
from __future__ import annotations

from alembic import op

revision = '0009'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inbound_events_source_pending', 'inbound_events',
                    ['source_key', 'status', 'line_timestamp', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbound_events_source_pending', table_name='inbound_events')
