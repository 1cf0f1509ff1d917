"""Lifetime benchmark: predicted vs actual reentry of objects that re-entered in early 2022.

Needs ``../shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt`` and
``../shared/data/tle/reentries_2022/reentries_2022_visible.csv`` (or ``SPACECOMMONS_DATA`` = the
folder holding ``tle/``). For each object: its element set in the snapshot, the ballistic
coefficient from its MEAN_MOTION_DOT (one set per object in the snapshot), NRLMSIS 2.1 with
CelesTrak's observed space weather, and the error as a fraction of the remaining life
``(predicted - actual) / (actual - epoch)``. Prints a Markdown table and the median |error|.

    PYTHONPATH=src python benchmarks/lifetime_2022.py [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from spacecommons.catalog.tle import read_tle
from spacecommons.propagation.space_weather import bundled_space_weather
from spacecommons.sustainability.lifetime import OrbitState, ballistic_coefficient, decay, msis_density
from spacecommons.timescales import jd_to_iso, parse_utc

ROOT = Path(os.environ.get("SPACECOMMONS_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SNAPSHOT = ROOT / "tle" / "catalog_snapshots" / "catalog_full_3le_2022-01-22.txt"
REENTRIES = ROOT / "tle" / "reentries_2022" / "reentries_2022_visible.csv"


def select_3le(text: str, ids: set[int]) -> str:
    """The 3LE records of the given catalog numbers (name line + two lines)."""
    lines = text.splitlines()
    out = []
    for k in range(len(lines) - 2):
        l1 = lines[k + 1]
        if l1.startswith("1 ") and lines[k + 2].startswith("2 ") and l1[2:7].strip().isdigit() and int(l1[2:7]) in ids:
            out += lines[k : k + 3]
    return "\n".join(out) + "\n"


def run(limit: int | None = None) -> list[dict]:
    for p in (SNAPSHOT, REENTRIES):
        if not p.exists():
            sys.exit(f"missing {p}: this benchmark needs ../shared/data (or SPACECOMMONS_DATA)")
    truth = list(csv.DictReader(REENTRIES.open()))[:limit]
    ids = {int(r["norad_id"]) for r in truth}
    sets = {e.norad_id: e for e in read_tle(select_3le(SNAPSHOT.read_text(), ids), str(SNAPSHOT)).records}
    sw = bundled_space_weather("observed")
    density = msis_density(sw)
    rows = []
    fits = {nid: ballistic_coefficient([e], density, default_b_m2_kg=np.nan) for nid, e in sets.items()}
    # objects whose one element set shows no decay (negative MEAN_MOTION_DOT and B*: a manoeuvring or
    # badly fitted set) get the median B of the others
    typical = float(np.nanmedian([b for b, _ in fits.values()]))
    for r in truth:
        e = sets[int(r["norad_id"])]
        b, method = fits[e.norad_id]
        if not np.isfinite(b):
            b = typical
        res = decay(OrbitState.from_elements([e]), np.array([b]), density, max_days=400.0)
        epoch = e.epoch_jd + e.epoch_fr
        actual_jd = 2440587.5 + parse_utc(r["reentry_utc"]).timestamp() / 86400.0
        left = actual_jd - epoch
        pred = float(res.reentry_jd[0])
        rows.append(
            {
                "norad_id": e.norad_id,
                "name": r["name"],
                "type": r["type"],
                "epoch": jd_to_iso(e.epoch_jd, e.epoch_fr, 0),
                "predicted": jd_to_iso(pred, 0.0, 0) if np.isfinite(pred) else "none in 400 d",
                "actual": r["reentry_utc"],
                "kind": r["kind"],
                "days_left": left,
                "error": (pred - actual_jd) / left,
                "method": method,
                "b": b,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    clock = time.perf_counter()
    rows = run(args.limit)
    wall = time.perf_counter() - clock
    print(f"# lifetime_2022 — {datetime.now(UTC):%Y-%m-%d}, {platform.machine()} {os.cpu_count()} cpu, {wall:.1f} s\n")
    print("| NORAD | name | type | epoch of set | predicted | actual | days left | error / life | B (m²/kg) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['norad_id']} | {r['name']} | {r['type']} | {r['epoch']} | {r['predicted']} | {r['actual']} "
            f"| {r['days_left']:.1f} | {r['error']:+.1%} | {r['b']:.4f} ({r['method']}) |"
        )
    err = np.abs([r["error"] for r in rows])
    print(
        f"\nobjects: {len(rows)}; median |error| = {np.median(err):.1%} of the remaining life "
        f"(target <= 15%); 68th percentile {np.percentile(err, 68):.1%}; within 15%: {np.mean(err <= 0.15):.0%}"
    )


if __name__ == "__main__":
    main()
