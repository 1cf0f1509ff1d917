"""``spacecommons neo``: small-body orbits, close approaches, Earth MOID, impact risk."""

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
    report_issues,
    require_positive,
    say,
    utc_now,
)
from .listing import Column, CsvOption, JsonOption, check_formats, emit

app = typer.Typer(help="NEO watch: small-body orbits, close approaches, MOID, impact risk.", no_args_is_help=True)

REJECTED_EXIT = 3
# neo.approaches.BODIES, written out so that `--help` does not import scipy and REBOUND
# (tests/test_cli_startup.py checks they agree)
BODIES = ("mercury", "venus", "earth", "moon", "mars", "jupiter", "saturn", "uranus", "neptune")


def _orbits(files: list[Path] | None, from_db: bool, database_url: str | None, designations: list[str] | None = None):
    """Orbits from files (every rejected record reported) or the latest solutions in the database;
    with ``designations``, the orbits they name (:func:`select_orbits`; a name that matches nothing
    is an error)."""
    from ..neo.reader import read_orbits

    if files:
        orbits, rejected = [], 0
        for f in files:
            parsed, issues = read_orbits(f)
            rejected += report_issues(issues)
            orbits.extend(parsed)
    elif not from_db:
        raise typer.BadParameter("give --orbits FILE or --from-db")
    else:
        from ..storage.neo_repo import latest_orbits

        _, session_maker = open_db(database_url)
        with session_maker() as session:
            orbits, rejected = latest_orbits(session), 0
    if designations:
        orbits = select_orbits(orbits, designations, "the orbit files" if files else "the database")
    return orbits, rejected


def _words(text: str) -> str:
    return " ".join(text.lower().split())


def orbit_names(orbit) -> set[str]:
    """Every way a user may name ``orbit``, lower case: its designation, its full name and, from an
    SBDB full name such as ``99942 Apophis (2004 MN4)``, the number, the name and the provisional
    designation."""
    import re

    names = {_words(orbit.designation)}
    full = _words(orbit.name or "")
    if full:
        names.add(full)
        m = re.fullmatch(r"(\d+)?\s*([^()]*?)\s*(?:\((.+)\))?", full)
        if m:
            names.update(x.strip() for x in m.groups() if x and x.strip())
    return names


def select_orbits(orbits: list, wanted: list[str], where: str) -> list:
    """The orbits that ``wanted`` name (designation, number, name or provisional designation, any
    case), in the order asked; an :class:`~spacecommons.errors.InputError` listing every name not
    found in ``where``."""
    from ..errors import InputError

    chosen, missing = [], []
    for text in wanted:
        hits = [o for o in orbits if _words(text) in orbit_names(o)]
        if not hits:
            missing.append(text)
        chosen.extend(o for o in hits if o not in chosen)
    if missing:
        raise InputError(
            f"not found in {where}: {', '.join(missing)} (designation, number or name, e.g. 99942 or Apophis)"
        )
    return chosen


@app.command("load")
def load(
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="SBDB CSV, SBDB API JSON, NEOCC OEF2.0 (.ke0/.ke1/.eq0/.eq1) or MPCORB"
    ),
    database_url: str | None = DatabaseOption,
) -> None:
    """Store orbit solutions; good records land, bad ones are reported (file:line: field: reason),
    one line per file and a summary at the end."""
    from ..neo.reader import read_orbits
    from ..storage.neo_repo import store_orbits

    _, session_maker = open_db(database_url)
    added = unchanged = rejected = 0
    for f in files:
        orbits, issues = read_orbits(f)
        rejected += report_issues(issues)
        with session_maker.begin() as session:
            counts = store_orbits(session, orbits, utc_now())
        added += counts.added
        unchanged += counts.unchanged
        say(
            f"{f}: {len(orbits)} orbits read, {counts.added} new, {counts.unchanged} already stored, "
            f"{len(issues)} rejected"
        )
    say(f"{added} orbit solutions added, {unchanged} already stored, {rejected} rejected")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


APPROACH_COLUMNS = (
    Column("des", "des", keep=True),
    Column("cd", "TCA (TDB)", keep=True),
    Column("dist", "dist (au)", keep=True),
    Column("dist_ld", "dist (LD)", keep=True, drop=1),
    Column("v_rel", "v rel (km/s)", keep=True, drop=2),
)


@app.command("approaches")
def approaches(
    orbits_files: list[Path] = typer.Option(None, "--orbits", exists=True, dir_okay=False, help="orbit file(s)"),
    from_db: bool = typer.Option(False, "--from-db", help="the latest stored solution of every object"),
    start: str = typer.Option(..., help="window start, TDB: 2020-01-01 or a Julian date"),
    end: str = typer.Option(..., help="window end, TDB"),
    body: str = typer.Option("earth", help=f"one of {', '.join(BODIES)}"),
    max_dist_au: float = typer.Option(0.05, "--max-dist-au", help="keep minima closer than this (au)"),
    workers: int | None = typer.Option(None, help="local processes (default: all cores)"),
    dask: str | None = typer.Option(None, "--dask", help="dask.distributed scheduler address"),
    out: Path = typer.Option(..., help="output .csv, .json or .parquet (CNEOS fields; times TDB)"),
    database_url: str | None = DatabaseOption,
) -> None:
    """Every close approach in the window (n-body: DE440 + 16 asteroids, GR, non-grav)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..errors import TimeError
    from ..neo.approaches import close_approaches_parallel
    from ..timescales import tdb_to_jd

    if body not in BODIES:
        raise typer.BadParameter(f"{body!r}: one of {', '.join(BODIES)}", param_hint="--body")
    require_positive(max_dist_au, "--max-dist-au")
    if workers is not None and workers < 1:
        raise typer.BadParameter(f"{workers}: must be >= 1", param_hint="--workers")
    fmt = check_out(out, ("csv", "json", "parquet"))
    t0 = t1 = 0.0
    for option, text in (("--start", start), ("--end", end)):
        try:
            t1 = tdb_to_jd(text)
        except TimeError as exc:
            raise typer.BadParameter(str(exc), param_hint=option) from None
        t0 = t1 if option == "--start" else t0
    if t1 <= t0:
        raise typer.BadParameter(f"{end} is not after --start {start}", param_hint="--end")
    orbits, rejected = _orbits(orbits_files, from_db, database_url)
    columns = (TextColumn("approaches"), BarColumn(), MofNCompleteColumn(), TextColumn("objects"), TimeElapsedColumn())
    with Progress(*columns, console=common.err_console) as bar:
        task = bar.add_task("ca", total=len(orbits))
        found = close_approaches_parallel(
            orbits,
            t0,
            t1,
            body,
            max_dist_au,
            workers=workers,
            dask_address=dask,
            on_chunk=lambda n: bar.advance(task, n),
        )
    rows = [a.row() for a in found]
    _write_rows(rows, out, fmt, cneos_json=True)
    closest = [
        {"des": a.des, "cd": a.cd, "dist": f"{a.dist:.6f}", "dist_ld": f"{a.dist_ld:.2f}", "v_rel": f"{a.v_rel:.2f}"}
        for a in sorted(found, key=lambda a: a.dist)[:10]
    ]
    emit(closest, APPROACH_COLUMNS, title=f"closest of {len(found)} approaches")
    say(f"{len(orbits)} objects, {len(found)} approaches to {body} within {max_dist_au} au -> {out}")
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


@app.command("risk")
def risk(
    designations: list[str] = typer.Argument(None, help="objects to assess (all with a covariance if --all)"),
    all_objects: bool = typer.Option(False, "--all", help="every object that has a covariance"),
    orbits_files: list[Path] = typer.Option(None, "--orbits", exists=True, dir_okay=False),
    from_db: bool = typer.Option(False, "--from-db"),
    horizon_years: float = typer.Option(100.0, "--horizon-years", help="search horizon from each orbit's epoch"),
    samples: int = typer.Option(1000, help="virtual asteroids per object"),
    method: str = typer.Option("mc", help="mc (Monte Carlo) or lov (line of variations)"),
    seed: int = typer.Option(1),
    out: Path | None = typer.Option(None, help="risk list .csv, .json or .parquet"),
    as_json: bool = JsonOption,
    as_csv: bool = CsvOption,
    database_url: str | None = DatabaseOption,
) -> None:
    """Impact monitoring: a Sentry-like risk list (IP, Palermo, Torino per object). Objects are
    named by designation, number or name (``99942``, ``Apophis``, ``2004 MN4``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..workflows.neo_risk import risk_rows

    if not designations and not all_objects:
        raise typer.BadParameter("name objects or pass --all", param_hint="DESIGNATIONS")
    require_positive(horizon_years, "--horizon-years")
    require_positive(samples, "--samples")
    if method not in ("mc", "lov"):
        raise typer.BadParameter(f"{method!r}: mc or lov", param_hint="--method")
    fmt = check_out(out, ("csv", "json", "parquet"))
    check_formats(as_json, as_csv)
    orbits, rejected = _orbits(orbits_files, from_db, database_url, None if all_objects else designations)
    usable = [o for o in orbits if o.covariance is not None]
    for o in orbits:
        if o.covariance is None:
            say(f"{o.designation}: no covariance in {o.source}", err=True, label="skipped", label_style="yellow")
    if not usable:
        common.err_console.print("no orbit with a covariance: nothing to assess")
        raise typer.Exit(1)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=common.err_console,
    ) as bar:
        task = bar.add_task("impact monitoring", total=len(usable))
        started: list = []

        def step(o) -> None:
            if started:
                bar.advance(task)
            started.append(o)
            bar.update(task, description=f"impact monitoring {o.designation}")

        rows = risk_rows(usable, horizon_years, samples, method, seed, on_orbit=step)
        bar.advance(task)
    emit(rows, RISK_COLUMNS, title="risk list", as_json=as_json, as_csv=as_csv)
    if out:
        _write_rows(rows, out, fmt)
    if rejected:
        raise typer.Exit(REJECTED_EXIT)


RISK_COLUMNS = (
    Column("des", "des", keep=True),
    Column("fullname", "name", drop=2),
    Column("range", "range", keep=True, drop=4),
    Column("n_imp", "n imp", keep=True, drop=5),
    Column("ip", "IP", keep=True),
    Column("ps_cum", "PS cum", keep=True),
    Column("ps_max", "PS max", keep=True, drop=3),
    Column("ts_max", "TS max", keep=True),
    Column("diameter", "diameter (km)", keep=True, drop=6),
    Column("v_inf", "v inf (km/s)", keep=True, drop=7),
    Column("h", "H", keep=True, drop=8),
    Column("method", "method", keep=True, drop=9),
    Column("samples", "samples", keep=True, drop=10),
)


@app.command("moid")
def moid_command(
    orbits: Path = typer.Option(
        ..., "--orbits", exists=True, dir_okay=False, help="orbit file (SBDB CSV/JSON, NEOCC OEF2.0, MPCORB)"
    ),
    out: Path = typer.Option(
        ..., help="output .csv, .json or .parquet: des,name,epoch_tdb,moid_au,moid_ld,jpl_moid_au"
    ),
) -> None:
    """Earth MOID of every orbit, against Earth's orbit at the object's epoch (DE421)."""
    from ..constants import LUNAR_DISTANCE_AU
    from ..errors import RecordIssue
    from ..neo import earth_moid
    from ..neo.reader import read_orbits

    fmt = check_out(out, ("csv", "json", "parquet"))
    parsed, issues = read_orbits(orbits)
    elliptic = [o for o in parsed if 0.0 <= o.e < 1.0]
    issues += [
        RecordIssue(o.source, o.line, "e", f"{o.designation}: e = {o.e} is an open orbit; MOID is computed for e < 1")
        for o in parsed
        if not 0.0 <= o.e < 1.0
    ]
    parsed = elliptic
    report_issues(issues)
    values = earth_moid(parsed)
    rows = [
        {
            "des": o.designation,
            "name": o.name,
            "epoch_tdb": o.epoch_jd_tdb,
            "moid_au": round(float(m), 9),
            "moid_ld": round(float(m) / LUNAR_DISTANCE_AU, 4),
            "jpl_moid_au": o.moid_au,
        }
        for o, m in zip(parsed, values, strict=True)
    ]
    fields = ["des", "name", "epoch_tdb", "moid_au", "moid_ld", "jpl_moid_au"]
    if fmt == "csv":  # fixed-point text, as before
        rows = [{**r, "moid_au": f"{r['moid_au']:.9f}", "moid_ld": f"{r['moid_ld']:.4f}"} for r in rows]
    _write_rows(rows, out, fmt, fields=fields)
    say(f"{len(parsed)} orbits, {len(issues)} rejected; MOID written to {out}")
    if issues:
        raise typer.Exit(REJECTED_EXIT)


def _write_rows(
    rows: list[dict], out: Path, fmt: str | None, *, fields: list[str] | None = None, cneos_json: bool = False
) -> None:
    """``rows`` to ``out`` in ``fmt`` (``check_out``'s answer): CSV (``None`` written as empty),
    JSON (a list of objects, or CNEOS's ``{fields, count, data}`` with ``cneos_json``; ``null``
    for ``None``), or Parquet (pyarrow)."""
    fields = fields or (list(rows[0]) if rows else ["des"])
    if fmt == "json":  # standard JSON: a non-finite number is null
        if cneos_json:
            doc = {"fields": fields, "count": len(rows), "data": [[r.get(k) for k in fields] for r in rows]}
        else:
            doc = rows
        out.write_text(json.dumps(_finite(doc), indent=None if cneos_json else 1, allow_nan=False))
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({k: [] for k in fields}), out)
    else:
        with out.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(rows)


def _finite(doc):
    """``doc`` with every NaN or infinite float replaced by ``None`` (JSON has no Infinity)."""
    import math

    if isinstance(doc, dict):
        return {k: _finite(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [_finite(v) for v in doc]
    if isinstance(doc, float) and not math.isfinite(doc):
        return None
    return doc
