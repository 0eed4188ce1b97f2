"""exports

Revision ID: 0011_exports
Revises: 0010_usage
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_exports'
down_revision = '0010_usage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exports',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('job_id', sa.String(length=32), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('gpu_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('task', sa.String(length=16), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_key', sa.String(length=512), nullable=False),
    sa.Column('file_name', sa.String(length=256), nullable=False),
    sa.Column('serve_key', sa.String(length=512), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('imgsz', sa.Integer(), nullable=True),
    sa.Column('dynamic', sa.Boolean(), nullable=False),
    sa.Column('compute_seconds', sa.Double(), nullable=True),
    sa.Column('download_count', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_exports_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exports_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_exports_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index('ix_exports_model_created', ['model_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exports_workspace_id'), ['workspace_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_workspace_id'))
        batch_op.drop_index('ix_exports_model_created')

    op.drop_table('exports')
