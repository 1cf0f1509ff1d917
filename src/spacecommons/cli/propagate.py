"""``spacecommons propagate``: an ephemeris of chosen objects at chosen times."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from . import common
from .common import (
    DatabaseOption,
    check_out,
    open_db,
    parse_ids,
    read_element_files,
    require_positive,
    say,
    utc_now,
)

FRAMES = ("teme", "gcrf", "eme2000", "itrf")


def propagate_command(
    elements: list[Path] = typer.Option(None, "--elements", exists=True, dir_okay=False, help="element-set file(s)"),
    from_db: bool = typer.Option(False, "--from-db", help="use the newest stored element sets"),
    ids: str = typer.Option(None, help="comma-separated catalog numbers (default: all in the input)"),
    start: str = typer.Option(..., help="first time, ISO-8601 UTC"),
    hours: float = typer.Option(24.0, help="span in hours"),
    step_s: float = typer.Option(60.0, "--step-s", help="time step in seconds"),
    frame: str = typer.Option("teme", help="teme, gcrf, eme2000 or itrf"),
    out: Path = typer.Option(..., help="output .csv, .json, .oem (CCSDS OEM, KVN) or .oem.xml (OEM, XML)"),
    database_url: str = DatabaseOption,
) -> None:
    """Write positions (km) and velocities (km/s) per object and time; SGP4 errors per row."""
    import numpy as np

    from ..constants import SECONDS_PER_DAY
    from ..errors import TimeError
    from ..frames import teme_to_gcrf, teme_to_itrf
    from ..propagation import SGP4_ERRORS, propagate
    from ..storage.catalog_repo import latest_elements
    from ..timescales import iso_to_jd, jd_to_iso, normalize_jd

    if frame not in FRAMES:
        raise typer.BadParameter(f"{frame!r}: one of {', '.join(FRAMES)}", param_hint="--frame")
    require_positive(hours, "--hours", allow_zero=True)
    require_positive(step_s, "--step-s")
    fmt = check_out(out, ("csv", "json", "oem", "xml"))
    if fmt == "xml" and not out.name.lower().endswith(".oem.xml"):
        raise typer.BadParameter(f"{out}: XML output is an OEM: name it FILE.oem.xml", param_hint="--out")
    if fmt in ("oem", "xml") and frame == "itrf":
        raise typer.BadParameter("an OEM is written in teme, gcrf or eme2000", param_hint="--frame")
    try:
        jd0, fr0 = iso_to_jd(start)
    except TimeError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from None
    if bool(elements) == from_db:
        raise typer.BadParameter("give either --elements FILE... or --from-db")
    wanted = parse_ids(ids)
    if elements:
        records = read_element_files(elements)
        if wanted:
            records = [r for r in records if r.norad_id in set(wanted)]
    else:
        _, session_maker = open_db(database_url)
        with session_maker() as session:
            records = latest_elements(session, wanted or None)
    missing = sorted(set(wanted) - {r.norad_id for r in records})
    if missing:
        raise typer.BadParameter(f"no element set for {', '.join(map(str, missing))}", param_hint="--ids")
    if not records:
        common.err_console.print("no matching element sets")
        raise typer.Exit(1)
    t = np.arange(0.0, hours * 3600.0 + step_s / 2, step_s)
    jd, fr = normalize_jd(np.full(t.shape, jd0), fr0 + t / SECONDS_PER_DAY)
    eph = propagate(records, jd, fr)
    r, v = eph.r_km, eph.v_km_s
    if fmt in ("oem", "xml"):
        _write_oem(out, fmt, records, eph, jd, fr, frame)
        return
    if frame == "gcrf":
        r, v = teme_to_gcrf(r, v, jd, fr)
    elif frame == "eme2000":
        from ..frames import gcrf_to_eme2000

        r, v = teme_to_gcrf(r, v, jd, fr)
        r, v = gcrf_to_eme2000(r), gcrf_to_eme2000(v)
    elif frame == "itrf":
        r, v = teme_to_itrf(r, v, jd, fr)
    rows = []
    for i, rec in enumerate(records):
        for k in range(t.size):
            code = int(eph.error[i, k])
            rows.append(
                {
                    "norad_id": rec.norad_id,
                    "name": rec.name,
                    "time": jd_to_iso(jd[k], fr[k], 6),
                    "frame": frame.upper(),
                    "x_km": r[i, k, 0],
                    "y_km": r[i, k, 1],
                    "z_km": r[i, k, 2],
                    "vx_km_s": v[i, k, 0],
                    "vy_km_s": v[i, k, 1],
                    "vz_km_s": v[i, k, 2],
                    "sgp4_error": code,
                    "error_message": SGP4_ERRORS.get(code, "") if code else "",
                }
            )
    if fmt == "json":
        clean = [{k: (None if isinstance(x, float) and np.isnan(x) else x) for k, x in row.items()} for row in rows]
        out.write_text(json.dumps(clean, indent=1) + "\n")
    else:
        with out.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for row in rows:
                w.writerow({k: _csv_cell(x) for k, x in row.items()})
    for nid, msg in eph.failures().items():
        say(f"{nid}: {msg}", err=True, style="yellow")
    say(f"wrote {len(rows)} states of {len(records)} objects ({frame.upper()}) to {out}")


def _csv_cell(x):
    """A CSV cell: floats in fixed point, a failed state's missing value empty (as the docs say)."""
    import math

    if isinstance(x, float):
        return f"{x:.9f}" if math.isfinite(x) else ""
    return x


def _write_oem(out: Path, fmt: str, records, eph, jd, fr, frame: str) -> None:
    """One OEM segment per object (UTC, Earth-centred, Lagrange degree 7), with the SGP4 states
    rotated from TEME to ``frame``; an object with SGP4 errors in the span is left out and named."""
    import numpy as np

    from ..ephemeris import Oem, write_oem
    from ..ephemeris.track import segment_from_teme
    from ..timescales import format_utc

    segments = []
    for i, rec in enumerate(records):
        if (eph.error[i] != 0).any():
            say(f"{rec.norad_id}: SGP4 errors in the span; left out of the OEM", err=True, style="yellow")
            continue
        comment = f"SGP4 states of NORAD {rec.norad_id}, element set epoch {format_utc(rec.epoch, 6)}"
        segments.append(
            segment_from_teme(
                object_name=rec.name or str(rec.norad_id),
                object_id=rec.object_id or str(rec.norad_id),
                jd=np.asarray(jd),
                fr=np.asarray(fr),
                r_teme_km=eph.r_km[i],
                v_teme_km_s=eph.v_km_s[i],
                ref_frame=frame.upper(),
                comments=[comment],
            )
        )
    if not segments:
        common.err_console.print("no object could be propagated over the span")
        raise typer.Exit(1)
    creation = format_utc(utc_now(), 3).rstrip("Z")
    oem = Oem.build(segments, creation_date=creation, originator="SPACECOMMONS")
    out.write_text(write_oem(oem, "xml" if fmt == "xml" else "kvn"))
    say(f"wrote an OEM of {len(segments)} objects ({frame.upper()}, {len(jd)} states each) to {out}")
