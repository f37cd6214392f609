"""queue claims that stay fast whatever the statistics; shared LINE channel state

Revision ID: 0007
Revises: 0006

- Partial indexes holding only unfinished work, in handling order, so the event and outbox
  claims are index seeks whose cost depends neither on the backlog nor on the planner's
  statistics (issue 16). They replace the full (source/order, …) indexes, which nothing else
  reads, and the indexes on status, which the planner chose for the claim when its statistics
  said "no pending rows" (then sorted all of them); parked events and failed messages, listed
  by hand, keep small partial indexes of their own.
- outbox_messages.reply_tries: reply attempts that may have reached LINE (issue 12).
- line_channel_state: the 429 pause and the monthly-limit state, shared by all processes.
- PostgreSQL: autovacuum settings for the two queue tables (a second line of defence, not the
  fix; see _QUEUE_STORAGE).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import migrations.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Both queue tables are append-mostly and churn through a few states per row. Default
# autovacuum analyses a table only after 10 % of it changed (+50 rows), and vacuums after 20 %:
# on a table of a million handled events a burst of 50,000 arrives, is claimed and finished
# before any analysis. So analyse after a fixed number of changes (scale factor 0, 2,000 rows:
# a few seconds of a burst), vacuum after 5,000 (keeps the partial indexes free of dead entries
# the claim would step over), and let the vacuum of these small-row tables run unthrottled.
# Inserts also trigger a vacuum (PostgreSQL 13+) so the visibility map stays current.
_QUEUE_STORAGE = {
    "autovacuum_analyze_scale_factor": "0",
    "autovacuum_analyze_threshold": "2000",
    "autovacuum_vacuum_scale_factor": "0",
    "autovacuum_vacuum_threshold": "5000",
    "autovacuum_vacuum_insert_scale_factor": "0",
    "autovacuum_vacuum_insert_threshold": "10000",
    "autovacuum_vacuum_cost_delay": "0",
}


def upgrade() -> None:
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_events_source_order')
        batch_op.drop_index('ix_inbound_events_status_available')
        batch_op.create_index('ix_inbound_events_parked', ['id'], unique=False,
                              postgresql_where=sa.text("status = 'parked'"),
                              sqlite_where=sa.text("status = 'parked'"))
        batch_op.create_index('ix_inbound_events_pending_head', ['source_key', 'line_timestamp', 'id'],
                              unique=False, postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_inbound_events_pending_fifo', ['line_timestamp', 'id'],
                              unique=False, postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_tries', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_index('ix_outbox_messages_order')
        batch_op.drop_index('ix_outbox_messages_status_available')
        batch_op.create_index('ix_outbox_messages_failed', ['id'], unique=False,
                              postgresql_where=sa.text("status = 'failed'"),
                              sqlite_where=sa.text("status = 'failed'"))
        batch_op.create_index('ix_outbox_messages_active', ['order_key', 'id'], unique=False,
                              postgresql_where=sa.text("status IN ('pending', 'sending')"),
                              sqlite_where=sa.text("status IN ('pending', 'sending')"))
        batch_op.create_index('ix_outbox_messages_leases', ['lease_until'], unique=False,
                              postgresql_where=sa.text("status = 'sending'"),
                              sqlite_where=sa.text("status = 'sending'"))
    op.create_table('line_channel_state',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('paused_until', migrations.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pushes_paused_until', migrations.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quota_limit', sa.BigInteger(), nullable=True),
    sa.Column('quota_used', sa.BigInteger(), nullable=True),
    sa.Column('quota_checked_at', migrations.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', migrations.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_line_channel_state'))
    )
    # The one row every dispatcher reads and locks (bot/dispatcher.py creates it if missing).
    op.execute("INSERT INTO line_channel_state (key) VALUES ('channel')")
    if op.get_bind().dialect.name == 'postgresql':
        settings = ", ".join(f"{k} = {v}" for k, v in _QUEUE_STORAGE.items())
        for table in ('inbound_events', 'outbox_messages'):
            op.execute(f"ALTER TABLE {table} SET ({settings})")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        names = ", ".join(_QUEUE_STORAGE)
        for table in ('inbound_events', 'outbox_messages'):
            op.execute(f"ALTER TABLE {table} RESET ({names})")
    op.drop_table('line_channel_state')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_active')
        batch_op.drop_index('ix_outbox_messages_leases')
        batch_op.drop_index('ix_outbox_messages_failed')
        batch_op.create_index('ix_outbox_messages_status_available', ['status', 'available_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_order', ['order_key', 'id'], unique=False)
        batch_op.drop_column('reply_tries')
    with op.batch_alter_table('inbound_events', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_events_pending_head')
        batch_op.drop_index('ix_inbound_events_pending_fifo')
        batch_op.drop_index('ix_inbound_events_parked')
        batch_op.create_index('ix_inbound_events_status_available', ['status', 'available_at'], unique=False)
        batch_op.create_index('ix_inbound_events_source_order', ['source_key', 'line_timestamp', 'id'], unique=False)
