"""Engine factory: SQLite in WAL mode by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import SingletonThreadPool

from .core_reads import HEAD_SQL, MIGRATIONS, SQLITE_MMAP_BYTES, SQLITE_PRAGMAS, SQLITE_TIMEOUT_S, head_revision

if TYPE_CHECKING:  # the ORM is imported where sessions are made: reads in SQLAlchemy Core start without it
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["MIGRATIONS", "SQLITE_MMAP_BYTES", "head_revision", "make_engine", "session_factory", "upgrade"]


def make_engine(url: str, *, connection_per_thread: bool = False) -> Engine:
    """Create an engine; SQLite connections get WAL, foreign keys, a busy timeout and memory-mapped reads.

    ``connection_per_thread`` (SQLite): each thread keeps its own connection instead of sharing a
    bounded pool — for reads made on a server's event-loop thread, which must never wait for a pooled
    connection (the threads holding them give them back through teardowns scheduled on that loop)."""
    if url.startswith("sqlite"):
        kwargs: dict = {"poolclass": SingletonThreadPool} if connection_per_thread else {}
        engine = create_engine(url, connect_args={"timeout": SQLITE_TIMEOUT_S}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL, foreign keys, cheaper fsync, and reads through the OS page cache instead of a 2 MB
            # page cache per connection: a column stored after a run's catalog (MBs of overflow
            # pages) costs ~0.2 ms instead of ~5 ms. The CLI's plain reads run the same pragmas.
            cur = dbapi_conn.cursor()
            for pragma in SQLITE_PRAGMAS:
                cur.execute(pragma)
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def _at_head(engine: Engine) -> bool:
    """Whether the database's ``alembic_version`` already names the head (one cheap query)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(HEAD_SQL)).scalars().all()
    except Exception:  # no table yet (a new database), or another backend error: let Alembic decide
        return False
    return rows == [head]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` on this engine.

    A database already at the head returns after one query, without importing Alembic (about a
    third of a light CLI command's start-up, issue #18)."""
    if revision == "head" and _at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
