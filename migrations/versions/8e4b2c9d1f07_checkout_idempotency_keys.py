"""checkout idempotency keys: a retried API checkout answers the first one

Revision ID: 8e4b2c9d1f07
Revises: 5d0c1e7a9b21
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8e4b2c9d1f07'
down_revision = '5d0c1e7a9b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkout_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_checkout_keys_buyer_id_users')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_checkout_keys_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_keys')),
    sa.UniqueConstraint('buyer_id', 'key', name='uq_checkout_keys_buyer_key')
    )


def downgrade():
    op.drop_table('checkout_keys')
