"""Reads in SQLAlchemy Core for the CLI's light commands: no ORM, no table classes, no numpy.

``spacecommons catalog history`` and ``spacecommons runs list`` start in a fraction of a second
only if they import neither ``sqlalchemy.orm`` and the declarative tables (about as much again as
SQLAlchemy itself) nor the catalog package (numpy, sgp4) (issue #18, target 4). Each function reads
what its ORM counterpart in ``catalog_repo``/``screening_repo`` reads, in the same order;
``tests/test_cli_startup.py`` checks the columns named here against ``tables.py`` and the results
against the ORM functions.
"""

from __future__ import annotations

import json

from sqlalchemy import Connection, column, select, table
from sqlalchemy.engine import Row

from .types import UTCDateTime

SPACE_OBJECTS = table("space_objects", column("norad_id"), column("name"))
ELEMENT_SETS = table(
    "element_sets",
    column("id"),
    column("norad_id"),
    column("epoch_jd"),
    column("epoch_fr"),
    column("fields_json"),
    column("format"),
    column("source"),
    column("source_line"),
)
SCREENING_RUNS = table(
    "screening_runs",
    column("id"),
    column("created_at", UTCDateTime),
    column("status"),
    column("params_json"),
    column("n_objects"),
    column("n_events"),
    column("message"),
)


def element_history(conn: Connection, norad_id: int) -> tuple[str, list[dict]]:
    """The object's name and every stored element set of it, oldest epoch first (as
    ``catalog_repo.element_history``): its ``EPOCH`` as written in its source, ``format``,
    ``source`` and ``line`` (the line of the source it came from)."""
    o, e = SPACE_OBJECTS.c, ELEMENT_SETS.c
    name = conn.scalar(select(o.name).where(o.norad_id == norad_id)) or ""
    rows = conn.execute(
        select(e.fields_json, e.format, e.source, e.source_line)
        .where(e.norad_id == norad_id)
        .order_by(e.epoch_jd, e.epoch_fr, e.id)
    )
    return name, [
        {"epoch": json.loads(r.fields_json)["EPOCH"], "format": r.format, "source": r.source, "line": r.source_line}
        for r in rows
    ]


def list_runs(conn: Connection) -> list[Row]:
    """Stored screening runs, newest first (as ``screening_repo.list_runs``): rows whose fields
    carry the names of ``ScreeningRun``'s attributes (``id``, ``created_at``, ``status``,
    ``params_json``, ``n_objects``, ``n_events``, ``message``)."""
    return list(conn.execute(select(SCREENING_RUNS).order_by(SCREENING_RUNS.c.id.desc())))
