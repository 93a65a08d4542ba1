"""full-text product search: the words of each product and an index over them on each database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 12:00:00.000000

`product.search_words` holds the folded, distinct words of name, brand and EAN (inventory.search). The
index over them is database-specific, so it is written here as SQL rather than in the models:
PostgreSQL a GIN index on a generated tsvector column of the words (`search_vector`), SQLite an FTS5
table that triggers keep in step with `product`. A later batch migration that recreates `product` on SQLite drops those triggers with the old
table: it must create them again (`_create_sqlite_search` below), or new products are never found.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from inventory.search import search_words

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000

_SQLITE_SEARCH = (
    # The words are folded and split already: the ASCII tokenizer splits them on the spaces only and keeps
    # any non-ASCII letter as part of its word. Prefix indexes serve the one- and two-letter prefixes a
    # shopper types first, which would otherwise read every term that starts with them.
    "CREATE VIRTUAL TABLE product_search USING fts5(words, tokenize = 'ascii', prefix = '1 2')",
    "CREATE TRIGGER product_search_insert AFTER INSERT ON product BEGIN "
    "INSERT INTO product_search (rowid, words) VALUES (new.id, new.search_words); END",
    "CREATE TRIGGER product_search_update AFTER UPDATE OF search_words ON product "
    "WHEN old.search_words IS NOT new.search_words BEGIN "
    "UPDATE product_search SET words = new.search_words WHERE rowid = new.id; END",
    "CREATE TRIGGER product_search_delete AFTER DELETE ON product BEGIN "
    "DELETE FROM product_search WHERE rowid = old.id; END",
    "INSERT INTO product_search (rowid, words) SELECT id, search_words FROM product",
)

_POSTGRES_SEARCH = (
    # Stored, not an expression index: a plan that scans the table (a word in half the catalogue) would
    # build every row's tsvector again.
    "ALTER TABLE product ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (array_to_tsvector(string_to_array(search_words, ' '))) STORED",
    "CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)",
)


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_words', sa.Text(), server_default='', nullable=False))
    _fill_search_words()
    if op.get_bind().dialect.name == 'postgresql':
        for statement in _POSTGRES_SEARCH:
            op.execute(statement)
    else:
        _create_sqlite_search()


def _fill_search_words() -> None:
    connection = op.get_bind()
    product = sa.table(
        'product',
        sa.column('id', sa.Integer),
        sa.column('name', sa.String),
        sa.column('brand', sa.String),
        sa.column('ean', sa.String),
        sa.column('search_words', sa.Text),
    )
    rows = connection.execute(sa.select(product.c.id, product.c.name, product.c.brand, product.c.ean)).all()
    update = (
        product.update()
        .where(product.c.id == sa.bindparam('product_id'))
        .values(search_words=sa.bindparam('words'))
    )
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        connection.execute(
            update,
            [{'product_id': r.id, 'words': search_words(r.name, r.brand or '', r.ean)} for r in batch],
        )


def _create_sqlite_search() -> None:
    for statement in _SQLITE_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX ix_product_search_vector')
        op.execute('ALTER TABLE product DROP COLUMN search_vector')
    else:
        for trigger in ('product_search_insert', 'product_search_update', 'product_search_delete'):
            op.execute(f'DROP TRIGGER {trigger}')
        op.execute('DROP TABLE product_search')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('search_words')
