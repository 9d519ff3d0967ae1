"""Alembic environment for the narrative cache.

``Store`` runs ``alembic upgrade head`` itself and hands over its own connection, already inside
the transaction that holds the migration lock, in ``config.attributes["connection"]`` (this is
what makes in-memory databases work). From the command line the URL comes from
``-x url=...`` or ``sqlalchemy.url`` and an engine is built the same way ``Store`` builds one.
"""

from alembic import context

from db.models import Base
from db.store import make_engine

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True, **kwargs)


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
