"""Benchmark (issue #4): Earth close approaches of all 4,226 NEOs of the JPL SBDB extract during
calendar 2020 within 0.05 au, on the local process pool (target: under 30 s on the 2-core machine).

Baseline in the same run: the same propagation and refinement, one object at a time in one
process (``close_approaches([orbit])`` for each orbit). Both must find the same approaches.
The CNEOS rows of 2020-01-01..04 (tests/data/neo) are compared as well.

Needs ../shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv (or SPACECOMMONS_SBDB=path).
Usage: python benchmarks/neo_close_approaches.py [--workers 2] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

from spacecommons.constants import AU_KM
from spacecommons.neo import read_sbdb_csv
from spacecommons.neo.approaches import close_approaches, close_approaches_parallel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv"
START, END = 2458849.5, 2459215.5  # 2020-01-01.0 .. 2021-01-01.0 TDB


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_SBDB", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    orbits, issues = read_sbdb_csv(path.read_text(), str(path))
    print(f"{len(orbits)} orbits ({len(issues)} rejected), window 2020, 0.05 au, {args.workers} workers")

    t = time.perf_counter()
    found = close_approaches_parallel(orbits, START, END, max_dist_au=0.05, workers=args.workers)
    engine_s = time.perf_counter() - t

    rows = [("engine (chunks on the process pool)", engine_s, len(found))]
    if not args.skip_baseline:
        t = time.perf_counter()
        base = [a for o in orbits for a in close_approaches([o], START, END, max_dist_au=0.05)]
        base_s = time.perf_counter() - t
        rows.append(("baseline (one object at a time, 1 process)", base_s, len(base)))
        key = {(a.des, round(a.jd, 3)): a for a in base}
        missing = [a for a in found if (a.des, round(a.jd, 3)) not in key]
        extra = len(base) - (len(found) - len(missing))
        worst = max(
            (abs(a.dist - key[(a.des, round(a.jd, 3))].dist) for a in found if (a.des, round(a.jd, 3)) in key),
            default=0.0,
        )
        print(
            f"engine vs baseline: {len(missing)} only in engine, {extra} only in baseline, "
            f"largest distance difference {worst * AU_KM * 1000:.1f} m"
        )

    print("\n| run | wall s | approaches |\n|---|---:|---:|")
    for name, secs, n in rows:
        print(f"| {name} | {secs:.1f} | {n} |")
    if len(rows) == 2:
        print(f"\nspeed-up: {rows[1][1] / rows[0][1]:.1f}x")

    # CNEOS's complete lists of two windows (tests/data/neo): every approach within 0.05 au, none extra
    for cad, t0, t1 in (
        ("cneos_cad_2020_jan01-04.csv", 2458849.5, 2458853.5),
        ("cneos_cad_2020_jun06-11.csv", 2459006.5, 2459012.5),
    ):
        cneos = {
            r["des"]: r for r in csv.DictReader((ROOT / "tests/data/neo" / cad).open()) if float(r["dist"]) <= 0.05
        }
        ours = {a.des: a for a in found if t0 <= a.jd < t1}
        diffs = [abs(ours[d].dist - float(r["dist"])) * AU_KM for d, r in cneos.items() if d in ours]
        print(
            f"CNEOS {cad}: {len(cneos)} approaches; found {len(diffs)}, missing {len(set(cneos) - set(ours))}, "
            f"extra {len(set(ours) - set(cneos))}; largest distance difference {max(diffs):.3f} km"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
