"""search_documents: drop the RUM index (searches no longer use it, and its presence slowed them)

Revision ID: 5e7a1c0d9b21
Revises: 5c1f0e7a9d21
Create Date: 2026-12-06 23:30:00

Measured at 1M notes (bench/README.md): RUM's ordered scan scores every match inside the index (92 ms for
4 800 matches, 300 ms for 28 000), and while the index exists PostgreSQL also picks it for the bitmap scans
that find matches, which were 3–4 times slower than the GIN index's (63–91 ms against 17–22 ms for the same
4 786 matches). The GIN index answers everything now. The rum extension, if created, is left in place (other
tables may use it). Downgrading recreates the index where the server has the extension.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e7a1c0d9b21'
down_revision = '5c1f0e7a9d21'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_rum")


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        return
    if not conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'rum'").scalar():
        return  # never had it
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_search_documents_rum ON search_documents "
                         "USING rum (tsv rum_tsvector_ops)")
