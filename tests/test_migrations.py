"""The Alembic head matches the models, so migrations never drift from the code."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from yutang.runtime.models import metadata


def test_migrations_match_models(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        diff = compare_metadata(context, metadata)
    assert diff == []
