"""search_documents: a RUM index (top-N by relevance straight from the index) where the server has rum

Revision ID: 1337dc77043c
Revises: bb06a6f3acef
Create Date: 2026-12-06 20:00:00

Optional by design: on a PostgreSQL server without the rum extension (Debian: postgresql-15-rum), or as a role
that may not CREATE EXTENSION, nothing changes and the GIN index keeps answering (every match ranked: slower at
scale; the log and `flask search status` say so; `flask search install-rum` adds it later). SQLite: nothing.
The index is not in the models (create_all adds it through an after_create hook in postgres_backend), and
app/search/models.py tells Alembic's comparison to leave it alone.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1337dc77043c'
down_revision = 'bb06a6f3acef'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    if conn.dialect.name != 'postgresql':
        return
    if not conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'").scalar():
        print("search_documents: no rum extension on this server; the GIN index keeps answering "
              "(install postgresql-15-rum, then run flask search install-rum)")
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS rum")
    except Exception as exc:  # not allowed to create extensions: leave the schema as it is
        print(f"search_documents: CREATE EXTENSION rum failed ({str(exc).splitlines()[0]}); "
              "the GIN index keeps answering")
        return
    conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS ix_search_documents_rum ON search_documents "
                         "USING rum (tsv rum_tsvector_ops)")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_documents_rum")
