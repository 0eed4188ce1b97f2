"""activity

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity_events',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('resource_type', sa.String(length=16), nullable=False),
    sa.Column('resource_id', sa.String(length=32), nullable=True),
    sa.Column('resource_name', sa.String(length=256), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_activity_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_activity_events_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_events'))
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_workspace_created', ['workspace_id', 'created_at'], unique=False)

    op.create_table('activity_marks',
    sa.Column('event_id', sa.String(length=24), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('seen', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['activity_events.id'], name=op.f('fk_activity_marks_event_id_activity_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'user_id', name=op.f('pk_activity_marks'))
    )
    with op.batch_alter_table('activity_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activity_marks_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('activity_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activity_marks_user_id'))

    op.drop_table('activity_marks')
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_workspace_created')

    op.drop_table('activity_events')
