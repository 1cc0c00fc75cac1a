"""event dead letters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 17:10:00
"""

from alembic import op
import sqlalchemy as sa
import yutang.storage.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_dead_letters',
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('replay_count', sa.Integer(), nullable=False),
    sa.Column('replayed_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_event_dead_letters_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_dead_letters')),
    sa.UniqueConstraint('key', 'stage', name=op.f('uq_event_dead_letters_key_stage'))
    )
    with op.batch_alter_table('event_dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_dead_letters_workspace_id'), ['workspace_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_dead_letters_workspace_id'))
    op.drop_table('event_dead_letters')
