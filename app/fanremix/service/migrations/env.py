"""Alembic environment: runs on the connection `database.migrate` hands over (never reads alembic.ini)."""

from alembic import context
from sqlalchemy import text

from fanremix.service.models import Base

# Any fixed number: every worker that starts at once takes the same PostgreSQL advisory lock, so exactly one runs the
# migrations and the others find the schema at head.
_MIGRATION_LOCK = 7_214_001


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError(
        "Offline (SQL script) migrations are not supported; the service migrates its database itself when it "
        "starts (`fanremix serve`)."
    )
run_migrations_online()
