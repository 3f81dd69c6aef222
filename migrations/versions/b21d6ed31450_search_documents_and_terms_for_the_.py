"""search documents and terms for the PostgreSQL search backend

Revision ID: b21d6ed31450
Revises: c41f59ea274f
Create Date: 2026-11-25 12:42:24.119045

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'b21d6ed31450'
down_revision = 'c41f59ea274f'
branch_labels = None
depends_on = None


def upgrade():
    # search_documents: the PostgreSQL search backend's index (empty with the Whoosh backend).
    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('community', sa.String(length=40), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=True),
    sa.Column('engagement', sa.Integer(), nullable=False),
    sa.Column('tsv', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
    sa.UniqueConstraint('doc_type', 'ref_id', name=op.f('uq_search_documents_doc_type'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index('ix_search_documents_tsv', ['tsv'], unique=False, postgresql_using='gin')
        batch_op.create_index('ix_search_documents_type_community', ['doc_type', 'community'], unique=False)

    op.create_table('search_terms',
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_search_terms'))
    )


def downgrade():
    op.drop_table('search_terms')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index('ix_search_documents_type_community')
        batch_op.drop_index('ix_search_documents_tsv', postgresql_using='gin')

    op.drop_table('search_documents')
