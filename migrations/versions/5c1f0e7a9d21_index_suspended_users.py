"""index suspended users (every feed hides them; without it a sequential scan of all users per page)

Revision ID: 5c1f0e7a9d21
Revises: 9bad68e9ae0a
Create Date: 2026-12-06 23:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1f0e7a9d21'
down_revision = '9bad68e9ae0a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_suspended', ['id'], unique=False,
                              postgresql_where=sa.text('suspended_at IS NOT NULL'),
                              sqlite_where=sa.text('suspended_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_suspended', postgresql_where=sa.text('suspended_at IS NOT NULL'),
                            sqlite_where=sa.text('suspended_at IS NOT NULL'))
