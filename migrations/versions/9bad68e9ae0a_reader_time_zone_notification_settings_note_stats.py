"""the reader's time zone, notification settings per category, and an index for each note's statistics

Revision ID: 9bad68e9ae0a
Revises: 03b1ecbe3bd1
Create Date: 2026-12-06 20:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9bad68e9ae0a'
down_revision = '03b1ecbe3bd1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    op.create_table('notification_mutes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'category')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_post_created', ['post_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_post_created')
    op.drop_table('notification_mutes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
