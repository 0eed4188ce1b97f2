"""embeddings

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('image_embeddings',
    sa.Column('image_id', sa.String(length=24), nullable=False),
    sa.Column('dataset_id', sa.String(length=32), nullable=False),
    sa.Column('model_key', sa.String(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('x', sa.Double(), nullable=False),
    sa.Column('y', sa.Double(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_image_embeddings_dataset_id_datasets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_image_embeddings_image_id_images'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('image_id', name=op.f('pk_image_embeddings'))
    )
    with op.batch_alter_table('image_embeddings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_image_embeddings_dataset_id'), ['dataset_id'], unique=False)

    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('analyzed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_column('analyzed_at')

    with op.batch_alter_table('image_embeddings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_image_embeddings_dataset_id'))

    op.drop_table('image_embeddings')
