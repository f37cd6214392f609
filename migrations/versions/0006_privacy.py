"""personal data: coordinators' notes leave the append-only audit trail for case_notes

Free text about a person must live where erasing the person can reach it: notes written so far
(audit entries 'note', and the note of 'resolved') move to case_notes, and the audit trail keeps
only who did what and when (with the note's id); a raised case's proposal text is already in
proposals. The append-only triggers are lifted for the move and put back as they were.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import migrations.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('case_notes',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('escalation_id', _ID, nullable=False),
    sa.Column('author_id', _ID, nullable=True),
    sa.Column('at', migrations.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['people.id'], name=op.f('fk_case_notes_author_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_case_notes_escalation_id_escalations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_escalation_id'), ['escalation_id'], unique=False)
    _move_notes_out_of_the_audit_trail()


def _move_notes_out_of_the_audit_trail() -> None:
    bind = op.get_bind()
    audit = sa.table('audit_entries', sa.column('id'), sa.column('at'), sa.column('actor_id'),
                     sa.column('action'), sa.column('escalation_id'), sa.column('detail'))
    notes = sa.table('case_notes', sa.column('id'), sa.column('escalation_id'), sa.column('author_id'),
                     sa.column('at'), sa.column('text'))
    rows = bind.execute(sa.select(audit).where(audit.c.action.in_(('note', 'resolved', 'raised')),
                                               audit.c.detail != '')).all()
    if not rows:
        return
    _drop_triggers()
    for row in rows:
        if row.action == 'raised':
            detail = ''
        else:
            outcome, _, text = (row.detail.partition(' ') if row.action == 'resolved' else ('', '', row.detail))
            detail = outcome
            if text.strip() and row.escalation_id is not None:
                note_id = bind.execute(sa.insert(notes).values(
                    escalation_id=row.escalation_id, author_id=row.actor_id, at=row.at, text=text.strip()[:2000])
                    .returning(notes.c.id)).scalar_one()
                detail = f"{outcome} note {note_id}".strip()
        bind.execute(sa.update(audit).where(audit.c.id == row.id).values(detail=detail))
    _create_triggers()


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE OF id, at, action, detail "
                   "ON audit_entries BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be edited'); END")
        op.execute("CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
                   "BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be edited'); END")


def downgrade() -> None:
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_escalation_id'))
    op.drop_table('case_notes')
