"""console2: the bot's readings of residents' messages, for review in the console

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import migrations.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('readings',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('person_id', ID, nullable=True),
    sa.Column('area_id', ID, nullable=True),
    sa.Column('need_id', ID, nullable=True),
    sa.Column('words', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('safety', sa.String(length=16), nullable=False),
    sa.Column('signals', sa.String(length=300), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('resident_category', sa.String(length=16), nullable=True),
    sa.Column('corrected', sa.Boolean(), nullable=False),
    sa.Column('reviewed_category', sa.String(length=16), nullable=True),
    sa.Column('reviewed_safety', sa.String(length=16), nullable=True),
    sa.Column('reviewed_by_id', ID, nullable=True),
    sa.Column('reviewed_at', migrations.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', migrations.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_readings_area_id_areas'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['needs.id'], name=op.f('fk_readings_need_id_needs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_readings_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['people.id'], name=op.f('fk_readings_reviewed_by_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_readings'))
    )
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_readings_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_readings_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_readings_reviewed_created', ['reviewed_at', 'created_at'], unique=False)
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.create_index('ix_needs_created_area', ['created_at', 'area_id', 'category', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_index('ix_needs_created_area')
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_reviewed_created')
        batch_op.drop_index(batch_op.f('ix_readings_person_id'))
        batch_op.drop_index(batch_op.f('ix_readings_area_id'))
    op.drop_table('readings')
