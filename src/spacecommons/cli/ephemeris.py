"""``spacecommons ephemeris``: owner/operator ephemerides (CCSDS OEM) uploaded, listed, screened."""

from __future__ import annotations

from pathlib import Path

import typer

from . import common
from .common import DatabaseOption, open_db, say, utc_now

app = typer.Typer(help="Owner/operator ephemerides (CCSDS OEM, KVN or XML).", no_args_is_help=True)


def read_oem_file(path: Path):
    """An OEM read from ``path`` (KVN or XML by content); errors name the file, line and keyword."""
    from ..ephemeris import read_oem

    return read_oem(path.read_bytes(), str(path))


def norad_of(object_id: str, designators: dict[str, int], source: str) -> int:
    """The catalog number of an OEM's OBJECT_ID: a number as written, or an international
    designator (``1998-067A``) found in the catalog being screened."""
    from ..errors import InputError

    text = object_id.strip()
    if text.isdigit():
        return int(text)
    if text.upper() in designators:
        return designators[text.upper()]
    raise InputError(
        f"{source}: OBJECT_ID {object_id!r} is neither a catalog number nor the international designator of an "
        "object in the catalog"
    )


def ephemeris_tracks(paths: list[Path], records: list) -> dict[int, tuple[str, str]]:
    """{catalog number: (name, OEM KVN text of that object's segments)} for the OEM files."""
    from ..ephemeris import Oem, write_oem_kvn

    designators = {r.object_id.upper(): r.norad_id for r in records if r.object_id}
    out: dict[int, tuple[str, str]] = {}
    for path in paths:
        oem = read_oem_file(path)
        by_object: dict[int, list] = {}
        for seg in oem.segments:
            by_object.setdefault(norad_of(seg.object_id, designators, str(path)), []).append(seg)
        for nid, segs in by_object.items():
            out[nid] = (segs[0].object_name, write_oem_kvn(Oem(oem.header, segs, str(path))))
    return out


@app.command("upload")
def upload_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="OEM file (KVN or XML)"),
    visibility: str = typer.Option("private", help="private, partners or public"),
    partner: str = typer.Option(None, help="owner partner name (default: none, a node-local upload)"),
    database_url: str = DatabaseOption,
) -> None:
    """Store an OEM: its original text (content-addressed) and one row per object with its span."""
    from ..errors import InputError
    from ..policy import RunVisibility
    from ..storage import ephemeris_repo

    if visibility not in {v.value for v in RunVisibility}:
        raise typer.BadParameter(f"{visibility!r}: private, partners or public", param_hint="--visibility")
    raw = file.read_bytes()
    oem = read_oem_file(file)
    _, session_maker = open_db(database_url)
    with session_maker.begin() as session:
        owner = None
        if partner:
            owner = ephemeris_repo.partner_id(session, partner)
            if owner is None:
                raise InputError(f"no partner named {partner!r}")
        rows = ephemeris_repo.store(session, raw, oem, owner, visibility, utc_now(), source=file.name)
        summary = [(r.id, r.norad_id, r.object_name, r.start_time, r.stop_time) for r in rows]
    for eid, nid, name, t0, t1 in summary:
        say(f"ephemeris {eid}: {nid} {name}, {t0:%Y-%m-%dT%H:%M:%SZ} to {t1:%Y-%m-%dT%H:%M:%SZ} ({visibility})")


@app.command("list")
def list_command(database_url: str = DatabaseOption) -> None:
    """Stored ephemerides, newest first."""
    from rich.table import Table

    from ..storage import ephemeris_repo
    from ..timescales import format_utc

    _, session_maker = open_db(database_url)
    with session_maker() as session:
        rows = ephemeris_repo.list_ephemerides(session, None, node=True)
    t = Table()
    for col in ("id", "object", "start (UTC)", "stop (UTC)", "states", "covariance", "visibility", "digest"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r.id),
            f"{r.norad_id} {r.object_name}",
            format_utc(r.start_time, 0),
            format_utc(r.stop_time, 0),
            str(r.n_states),
            str(r.n_covariances),
            r.visibility,
            r.digest[:12],
        )
    common.console.print(t)
