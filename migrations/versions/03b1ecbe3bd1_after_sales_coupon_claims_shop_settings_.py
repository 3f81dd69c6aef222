"""after-sales, coupon claims, shop settings, product history

Revision ID: 03b1ecbe3bd1
Revises: 6b1e9c4a7d30
Create Date: 2026-12-06 19:45:41

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '03b1ecbe3bd1'
down_revision = '6b1e9c4a7d30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('coupon_claims',
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_claims_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coupon_claims_user_id_users')),
    sa.PrimaryKeyConstraint('coupon_id', 'user_id', name=op.f('pk_coupon_claims'))
    )
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_claims_user_id'), ['user_id'], unique=False)

    op.create_table('product_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=30), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_product_revisions_actor_id_users')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_revisions_product_id_products')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_product_revisions_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_revisions'))
    )
    with op.batch_alter_table('product_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_revisions_product_id'), ['product_id'], unique=False)

    op.create_table('after_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decline_reason', sa.String(length=500), nullable=False),
    sa.Column('return_tracking', sa.String(length=64), nullable=True),
    sa.Column('respond_by', sa.DateTime(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_after_sales_buyer_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_after_sales_order_id_orders')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_after_sales_refund_id_refunds')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_after_sales_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sales'))
    )
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sales_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_after_sales_shop_status', ['shop_id', 'status'], unique=False)
        batch_op.create_index('ix_after_sales_status_due', ['status', 'respond_by'], unique=False)

    op.create_table('after_sale_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('after_sale_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_after_sale_events_actor_id_users')),
    sa.ForeignKeyConstraint(['after_sale_id'], ['after_sales.id'], name=op.f('fk_after_sale_events_after_sale_id_after_sales')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_after_sale_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sale_events'))
    )
    with op.batch_alter_table('after_sale_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sale_events_after_sale_id'), ['after_sale_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sale_events_order_id'), ['order_id'], unique=False)

    op.create_table('after_sale_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('after_sale_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_after_sale_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['after_sale_id'], ['after_sales.id'], name=op.f('fk_after_sale_lines_after_sale_id_after_sales')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_after_sale_lines_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sale_lines')),
    sa.UniqueConstraint('after_sale_id', 'order_line_id', name='uq_after_sale_lines_line')
    )
    with op.batch_alter_table('after_sale_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sale_lines_after_sale_id'), ['after_sale_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sale_lines_order_line_id'), ['order_line_id'], unique=False)

    op.create_table('after_sale_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('after_sale_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['after_sale_id'], ['after_sales.id'], name=op.f('fk_after_sale_photos_after_sale_id_after_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sale_photos'))
    )
    with op.batch_alter_table('after_sale_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sale_photos_after_sale_id'), ['after_sale_id'], unique=False)

    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_seen_cents', sa.Integer(), nullable=True))

    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('claims_left', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_coupons_claims_left_not_negative'), 'claims_left IS NULL OR claims_left >= 0')

    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('banner_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('return_policy', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact', sa.String(length=200), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('shops', schema=None) as batch_op:
        batch_op.drop_column('contact')
        batch_op.drop_column('return_policy')
        batch_op.drop_column('banner_path')

    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_coupons_claims_left_not_negative'), type_='check')
        batch_op.drop_column('claims_left')
        batch_op.drop_column('claimable')

    with op.batch_alter_table('cart_items', schema=None) as batch_op:
        batch_op.drop_column('price_seen_cents')

    with op.batch_alter_table('after_sale_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_after_sale_photos_after_sale_id'))

    op.drop_table('after_sale_photos')
    with op.batch_alter_table('after_sale_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_after_sale_lines_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_after_sale_lines_after_sale_id'))

    op.drop_table('after_sale_lines')
    with op.batch_alter_table('after_sale_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_after_sale_events_order_id'))
        batch_op.drop_index(batch_op.f('ix_after_sale_events_after_sale_id'))

    op.drop_table('after_sale_events')
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_after_sales_status_due')
        batch_op.drop_index('ix_after_sales_shop_status')
        batch_op.drop_index(batch_op.f('ix_after_sales_order_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_buyer_id'))

    op.drop_table('after_sales')
    with op.batch_alter_table('product_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_revisions_product_id'))

    op.drop_table('product_revisions')
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_claims_user_id'))

    op.drop_table('coupon_claims')
