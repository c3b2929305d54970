"""Alembic environment: migrations run on the connection that ``chiffon.db`` hands over."""

from alembic import context
from sqlalchemy import create_engine

from chiffon.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection):  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:  # `alembic -x url=... revision --autogenerate` from a developer's shell
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.begin() as conn:
        run_migrations(conn)
