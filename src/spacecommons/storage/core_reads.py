"""Plain SQL over the DB-API for the CLI's light commands: no SQLAlchemy, no Alembic, no numpy.

``spacecommons catalog history`` and ``spacecommons runs list`` start within half a second only if
they import no SQLAlchemy at all: ``import sqlalchemy`` alone took 0.53 s CPU on a quiet machine,
the whole of a light command 0.78 s (issue #18, target 4). So their two reads are SQL texts run on
a DB-API connection: the standard library's ``sqlite3`` for SQLite URLs, ``psycopg`` (the driver
SQLAlchemy uses here) for ``postgresql+psycopg`` URLs.

- :func:`plain_target` reads a database URL the way SQLAlchemy does (its URL pattern, its SQLite
  file name and psycopg connection arguments) for the plain forms only; for anything else (a
  memory database, a query string, another driver, several hosts) it answers ``None``.
- :func:`connect_at_head` opens such a target and checks the schema with one query: its
  ``alembic_version`` must name :func:`head_revision` (read from the migration files, without
  Alembic). A new database file, an older schema, a URL it does not read or a server it cannot
  reach give ``None``, and the caller takes the full path (``cli.common.plain_reads``: SQLAlchemy's
  engine, migrations on open, its errors as before), then runs the same SQL on that engine's own
  DB-API connection: one SQL text per read, whatever the path.

``tests/test_cli_startup.py`` checks the URL reading against SQLAlchemy's, the head against
Alembic's, the columns named here against ``tables.py`` and the results against the ORM reads.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

MIGRATIONS = Path(__file__).parent / "migrations"

# What every SQLite connection of the project runs first (storage.engine's "connect" listener too):
# WAL, foreign keys, a cheaper fsync, memory-mapped reads (design-notes.md, issue #18).
SQLITE_MMAP_BYTES = 1 << 30  # address space only; pages are the OS page cache's
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}",
)
SQLITE_TIMEOUT_S = 30.0  # the busy timeout of storage.engine.make_engine's SQLite connections

# The reads, one SQL text each ("?" marks a parameter; PlainConnection adapts it to the driver).
HEAD_SQL = "SELECT version_num FROM alembic_version"
OBJECT_NAME_SQL = "SELECT space_objects.name FROM space_objects WHERE space_objects.norad_id = ?"
ELEMENT_HISTORY_SQL = (
    "SELECT element_sets.fields_json, element_sets.format, element_sets.source, element_sets.source_line "
    "FROM element_sets WHERE element_sets.norad_id = ? "
    "ORDER BY element_sets.epoch_jd, element_sets.epoch_fr, element_sets.id"
)
RUN_FIELDS = ("id", "created_at", "status", "params_json", "n_objects", "n_events", "message")
LIST_RUNS_SQL = (
    f"SELECT {', '.join(f'screening_runs.{f}' for f in RUN_FIELDS)} FROM screening_runs ORDER BY screening_runs.id DESC"
)
# table -> the columns the SQL above names (tests/test_cli_startup.py checks them against tables.py)
COLUMNS = {
    "space_objects": ("norad_id", "name"),
    "element_sets": ("id", "norad_id", "epoch_jd", "epoch_fr", "fields_json", "format", "source", "source_line"),
    "screening_runs": RUN_FIELDS,
}

_REVISION = re.compile(r"^revision\s*=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(None|[\"'][^\"']+[\"'])\s*$", re.M)


@cache
def head_revision() -> str | None:
    """The single head of the migration chain, read from the version files' ``revision`` and
    ``down_revision`` lines without importing Alembic; None where the files do not form one plain
    chain (a merge revision, an unusual line): then every open takes the full path (Alembic)."""
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


# SQLAlchemy's URL pattern (sqlalchemy.engine.url._parse_url, 2.x), so that a URL means here what it
# means to the engine; tests/test_cli_startup.py compares the two readings.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X,
)


class PlainTarget(NamedTuple):
    """Where a URL points, as the DB-API driver takes it: ``backend`` "sqlite" with
    ``args = {"database": absolute file name}``, or "postgresql" with psycopg's connection
    keywords (``host``, ``port``, ``user``, ``password``, ``dbname`` and the URL's query)."""

    backend: str
    args: dict[str, Any]


def plain_target(url: str) -> PlainTarget | None:
    """The DB-API target of a database URL in one of the plain forms the settings take
    (``sqlite:///relative.db``, ``sqlite:////abs.db``, ``postgresql+psycopg://user:pw@host:port/db``
    with an optional query); ``None`` for any other URL (the full path reads it).

    A SQLite file that does not exist yet is ``None`` too: the full path creates and migrates it."""
    from urllib.parse import parse_qsl, unquote

    m = _URL.match(url)
    if m is None:
        return None
    name, user, password, port = m["name"], m["username"], m["password"], m["port"]
    host, database, query = m["ipv4host"] or m["ipv6host"], m["database"], m["query"]
    if name in ("sqlite", "sqlite+pysqlite"):
        if user is not None or password is not None or host or port or query is not None or not database:
            return None
        database = unquote(database)
        if database == ":memory:":
            return None
        filename = os.path.abspath(database)
        return PlainTarget("sqlite", {"database": filename}) if os.path.isfile(filename) else None
    if name != "postgresql+psycopg" or (host and "," in host):
        return None
    args: dict[str, Any] = {}
    for key, value in (("host", host), ("dbname", database), ("user", user), ("password", password)):
        if value:
            args[key] = value if key == "host" else unquote(value)
    if port:
        if not port.isdigit():
            return None
        if int(port):  # SQLAlchemy leaves a port 0 out
            args["port"] = int(port)
    pairs = parse_qsl(query or "")
    if len({k for k, _ in pairs}) != len(pairs) or any(k in ("host", "port") for k, _ in pairs):
        return None  # a repeated key (SQLAlchemy makes it a list) or a multi-host form
    args.update(pairs)
    return PlainTarget("postgresql", args)


class PlainConnection:
    """A DB-API connection that runs this module's SQL texts: ``?`` becomes ``%s`` for psycopg."""

    def __init__(self, dbapi_connection: Any, backend: str) -> None:
        self.connection = dbapi_connection
        self.backend = backend

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.backend != "sqlite":
            sql = sql.replace("?", "%s")
        cur = self.connection.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def close(self) -> None:
        self.connection.close()


def connect(target: PlainTarget) -> PlainConnection:
    """A connection to ``target`` as ``storage.engine.make_engine`` would open it (SQLite: busy
    timeout and pragmas; PostgreSQL: psycopg 3 with the URL's keywords)."""
    if target.backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(target.args["database"], timeout=SQLITE_TIMEOUT_S)
        try:
            for pragma in SQLITE_PRAGMAS:
                conn.execute(pragma).close()
        except BaseException:
            conn.close()
            raise
        return PlainConnection(conn, "sqlite")
    import psycopg

    return PlainConnection(psycopg.connect(**target.args), "postgresql")


def at_head(conn: PlainConnection) -> bool:
    """Whether the database's ``alembic_version`` names the head revision (one query); False when
    there is no such table yet or the migration files form no single chain."""
    head = head_revision()
    if head is None:
        return False
    return [r[0] for r in conn.rows(HEAD_SQL)] == [head]


def connect_at_head(url: str) -> PlainConnection | None:
    """A plain connection to ``url`` when its schema is at the head revision; ``None`` when the URL
    is not a plain form, the file does not exist, the schema is older (or newer) or anything fails on
    the way: the caller then opens the database the full way (SQLAlchemy, Alembic), which migrates,
    creates, or raises the error it always raised."""
    target = plain_target(url)
    if target is None or head_revision() is None:
        return None
    try:
        conn = connect(target)
    except Exception:  # an unreachable server, a file that is not a database: the full path says so
        return None
    try:
        if at_head(conn):
            return conn
    except Exception:  # no alembic_version table yet (sqlite3 or psycopg error): the full path migrates
        pass
    conn.close()
    return None


def stored_utc(value: Any) -> datetime | None:
    """An instant of a ``UTCDateTime`` column as ``storage.types.UTCDateTime`` reads it: text (SQLite)
    parsed with ``datetime.fromisoformat``, naive taken as UTC, aware converted to UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def element_history(conn: PlainConnection, norad_id: int) -> tuple[str, list[dict]]:
    """The object's name and every stored element set of it, oldest epoch first (as
    ``catalog_repo.element_history``): its ``EPOCH`` as written in its source, ``format``,
    ``source`` and ``line`` (the line of the source it came from)."""
    names = conn.rows(OBJECT_NAME_SQL, (norad_id,))
    name = (names[0][0] if names else None) or ""
    return name, [
        {"epoch": json.loads(fields)["EPOCH"], "format": fmt, "source": source, "line": line}
        for fields, fmt, source, line in conn.rows(ELEMENT_HISTORY_SQL, (norad_id,))
    ]


class RunRow(NamedTuple):
    """One stored screening run, its fields named as ``ScreeningRun``'s attributes."""

    id: int
    created_at: datetime
    status: str
    params_json: str
    n_objects: int | None
    n_events: int | None
    message: str | None


def list_runs(conn: PlainConnection) -> list[RunRow]:
    """Stored screening runs, newest first (as ``screening_repo.list_runs``)."""
    return [RunRow(r[0], stored_utc(r[1]), *r[2:]) for r in conn.rows(LIST_RUNS_SQL)]
