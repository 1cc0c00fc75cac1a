"""lifecycle value model and what one purchase is

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 17:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import yutang.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lifecycle_models',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('as_of_requested', sa.Boolean(), nullable=False),
    sa.Column('computed_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('purchases', sa.String(length=10), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('created_at', yutang.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_lifecycle_models_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_models')),
    sa.UniqueConstraint('workspace_id', name=op.f('uq_lifecycle_models_workspace_id'))
    )
    with op.batch_alter_table('lifecycle_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_models_workspace_id'), ['workspace_id'], unique=False)
    with op.batch_alter_table('lifecycle_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('value_purchases', sa.String(length=10), server_default='day', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('lifecycle_settings', schema=None) as batch_op:
        batch_op.drop_column('value_purchases')
    with op.batch_alter_table('lifecycle_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lifecycle_models_workspace_id'))
    op.drop_table('lifecycle_models')
