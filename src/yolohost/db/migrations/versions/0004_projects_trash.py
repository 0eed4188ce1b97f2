"""projects trash

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_stars',
    sa.Column('project_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_stars_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_project_stars_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id', name=op.f('pk_project_stars'))
    )
    with op.batch_alter_table('project_stars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_stars_user_id'), ['user_id'], unique=False)

    op.create_table('model_stars',
    sa.Column('model_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['models.id'], name=op.f('fk_model_stars_model_id_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_model_stars_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_id', 'user_id', name=op.f('pk_model_stars'))
    )
    with op.batch_alter_table('model_stars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_stars_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('color', sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column('license', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('cloned_from', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('deleted_with_project', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_models_project_id'), type_='unique')
        batch_op.create_index('uq_models_project_slug_live', ['project_id', 'slug'], unique=True, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('license', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('archived', sa.Boolean(), server_default=sa.text('(false)'), nullable=False))
        batch_op.add_column(sa.Column('icon_color', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('icon_letter', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('view_preferences', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('cloned_from', sa.String(length=32), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_projects_workspace_id'), type_='unique')
        batch_op.create_index('uq_projects_workspace_slug_live', ['workspace_id', 'slug'], unique=True, sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('uq_projects_workspace_slug_live', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_projects_workspace_id'), ['workspace_id', 'slug'])
        batch_op.drop_column('cloned_from')
        batch_op.drop_column('view_preferences')
        batch_op.drop_column('icon_letter')
        batch_op.drop_column('icon_color')
        batch_op.drop_column('archived')
        batch_op.drop_column('license')
        batch_op.drop_column('tags')
        batch_op.drop_column('metadata')

    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index('uq_models_project_slug_live', sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
        batch_op.create_unique_constraint(batch_op.f('uq_models_project_id'), ['project_id', 'slug'])
        batch_op.drop_column('deleted_with_project')
        batch_op.drop_column('cloned_from')
        batch_op.drop_column('license')
        batch_op.drop_column('color')

    with op.batch_alter_table('model_stars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_stars_user_id'))

    op.drop_table('model_stars')
    with op.batch_alter_table('project_stars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_stars_user_id'))

    op.drop_table('project_stars')
