"""Engine factory: SQLite in WAL mode by default, PostgreSQL through psycopg 3."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import SingletonThreadPool

if TYPE_CHECKING:  # the ORM is imported where sessions are made: reads in SQLAlchemy Core start without it
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


SQLITE_MMAP_BYTES = 1 << 30  # address space only; pages are the OS page cache's (design-notes.md, issue #18)


def make_engine(url: str, *, connection_per_thread: bool = False) -> Engine:
    """Create an engine; SQLite connections get WAL, foreign keys, a busy timeout and memory-mapped reads.

    ``connection_per_thread`` (SQLite): each thread keeps its own connection instead of sharing a
    bounded pool — for reads made on a server's event-loop thread, which must never wait for a pooled
    connection (the threads holding them give them back through teardowns scheduled on that loop)."""
    if url.startswith("sqlite"):
        kwargs: dict = {"poolclass": SingletonThreadPool} if connection_per_thread else {}
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # reads through the OS page cache instead of a 2 MB page cache per connection: a column
            # stored after a run's catalog (MBs of overflow pages) costs ~0.2 ms instead of ~5 ms
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(None|[\"'][^\"']+[\"'])\s*$", re.M)


@cache
def head_revision() -> str | None:
    """The single head of the migration chain, read from the version files' ``revision`` and
    ``down_revision`` lines without importing Alembic; None where the files do not form one plain
    chain (a merge revision, an unusual line): then ``upgrade`` always asks Alembic."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(rev) != 1 or len(down) != 1:
            return None
        revisions.add(rev[0])
        if down[0] != "None":
            parents.add(down[0].strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _at_head(engine: Engine) -> bool:
    """Whether the database's ``alembic_version`` already names the head (one cheap query)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
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
