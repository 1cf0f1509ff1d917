"""``spacecommons neo``: small-body orbits and Earth MOID."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from ..neo import earth_moid, read_sbdb_csv
from .common import console, report_issues

app = typer.Typer(help="NEO watch: SBDB orbits, Earth MOID.", no_args_is_help=True)


@app.command("moid")
def moid_command(
    orbits: Path = typer.Option(..., "--orbits", help="JPL SBDB query CSV (ecliptic J2000 elements, TDB epochs)"),
    out: Path = typer.Option(..., help="output CSV: des,name,epoch_tdb,moid_au,moid_ld,jpl_moid_au"),
) -> None:
    """Earth MOID of every orbit, against Earth's orbit at the object's epoch (DE421)."""
    parsed, issues = read_sbdb_csv(orbits.read_text(), str(orbits))
    report_issues(issues)
    values = earth_moid(parsed)
    lunar_distance_au = 384_400.0 / 149_597_870.7
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["des", "name", "epoch_tdb", "moid_au", "moid_ld", "jpl_moid_au"])
        for o, m in zip(parsed, values, strict=True):
            w.writerow(
                [
                    o.designation,
                    o.name,
                    o.epoch_jd_tdb,
                    f"{m:.9f}",
                    f"{m / lunar_distance_au:.4f}",
                    "" if o.moid_au is None else o.moid_au,
                ]
            )
    console.print(f"{len(parsed)} orbits, {len(issues)} rejected; MOID written to {out}")
    if issues:
        raise typer.Exit(3)
