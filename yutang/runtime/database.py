"""The database handle an entry point holds: engine, session factory, units of work, migrations."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from yutang.kit.settings import Settings
from yutang.runtime import models  # noqa: F401  (registers every table on the metadata)
from yutang.storage.engine import ReadSession, make_engine, make_read_factory, read_only, unit_of_work

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class Database:
    """Engine and session factory for one settings object."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    read_factory: sessionmaker[ReadSession]

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on error."""
        with unit_of_work(self.factory) as session:
            yield session

    @contextmanager
    def read_only(self) -> Iterator[ReadSession]:
        """One transaction that only reads: it does not queue behind writers, and a write in it fails."""
        with read_only(self.read_factory) as session:
            yield session

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to a revision with Alembic."""
        command.upgrade(alembic_config(self.settings, engine=self.engine), revision)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """Build the engine and session factory (no connection is made until first use)."""
    engine = make_engine(settings)
    factory = sessionmaker(bind=engine, expire_on_commit=False, info={"pii_key": settings.secret_key})
    return Database(settings=settings, engine=engine, factory=factory, read_factory=make_read_factory(factory))


def alembic_config(settings: Settings, *, engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at our migrations and the settings' database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config
