"""training runs

Revision ID: 0012_training
Revises: 0011_exports
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_training'
down_revision = '0011_exports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('training_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('gpu_type', sa.String(length=64), nullable=True),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('train_args', sa.JSON(), nullable=False),
    sa.Column('total_epochs', sa.Integer(), nullable=True),
    sa.Column('current_epoch', sa.Integer(), nullable=False),
    sa.Column('epochs', sa.JSON(), nullable=False),
    sa.Column('console', sa.Text(), nullable=False),
    sa.Column('environment', sa.JSON(), nullable=True),
    sa.Column('system', sa.JSON(), nullable=True),
    sa.Column('results', sa.JSON(), nullable=True),
    sa.Column('checkpoint_key', sa.String(length=255), nullable=True),
    sa.Column('resumed_from', sa.Integer(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_training_runs_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_runs_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_training_runs_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_runs'))
    )
    op.create_index(op.f('ix_training_runs_model_id'), 'training_runs', ['model_id'], unique=False)
    op.create_index(op.f('ix_training_runs_user_id'), 'training_runs', ['user_id'], unique=False)
    op.create_index(op.f('ix_training_runs_workspace_id'), 'training_runs', ['workspace_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_training_runs_workspace_id'), table_name='training_runs')
    op.drop_index(op.f('ix_training_runs_user_id'), table_name='training_runs')
    op.drop_index(op.f('ix_training_runs_model_id'), table_name='training_runs')
    op.drop_table('training_runs')
