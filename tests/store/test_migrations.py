"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import callhub.store.models  # noqa: F401  (registers the tables)
from callhub.store.engine import Store


async def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    store = Store(empty_database_url)
    await store.migrate()
    await store.migrate()  # a second start finds nothing to do
    await store.dispose()
    engine = create_async_engine(empty_database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}),
                SQLModel.metadata,
            )
        )
    await engine.dispose()
    assert diff == []
