"""Benchmark (issues #4, #18 target 6): Earth close approaches of all 4,226 NEOs of the JPL SBDB
extract during calendar 2020 within 0.05 au, on the local process pool (issue #18: <= 0.12x the
one-object-at-a-time baseline in the same run).

Runs, in this order: the default engine (two-body sieve, then n-body only where an object may come
within 0.05 au + margin; ``close_approaches_parallel``), optionally the n-body engine of issue #4
(chunks of 8 objects sharing a simulation; ``--nbody-engine``), and the baseline: the same
propagation and refinement, one object at a time in one process (``close_approaches([orbit])``
for each orbit). Recall against the baseline's full list: every baseline approach must be found
by the engine with TCA within 1 minute and distance within 1 km, and no engine approach may be
missing from the baseline. Wall and CPU time (user + system of the process and its workers).
The CNEOS rows of 2020-01-01..04 and 2020-06-06..11 (tests/data/neo) are compared as well.

Needs ../shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv (or SPACECOMMONS_SBDB=path).
Usage: python benchmarks/neo_close_approaches.py [--workers 2] [--skip-baseline] [--nbody-engine] [--every N]
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import time
from pathlib import Path

from spacecommons.constants import AU_KM
from spacecommons.neo import read_sbdb_csv
from spacecommons.neo.approaches import ApproachSearch, close_approaches, close_approaches_parallel

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv"
START, END = 2458849.5, 2459215.5  # 2020-01-01.0 .. 2021-01-01.0 TDB


TCA_TOL_DAYS = 1.0 / 1440.0  # 1 minute
DIST_TOL_AU = 1.0 / AU_KM  # 1 km


def cpu_s() -> float:
    """User + system CPU seconds of this process and its finished children (the pool's workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def compare(found: list, base: list) -> str:
    """Recall of ``found`` against ``base``: pairs by object and TCA within 1 minute."""
    by_des: dict[str, list] = {}
    for a in found:
        by_des.setdefault(a.des, []).append(a)
    matched, missing, worst_dt, worst_dd = 0, [], 0.0, 0.0
    for b in base:
        near = [a for a in by_des.get(b.des, []) if abs(a.jd - b.jd) <= TCA_TOL_DAYS]
        if not near or abs(near[0].dist - b.dist) > DIST_TOL_AU:
            missing.append(b)
            continue
        matched += 1
        worst_dt = max(worst_dt, abs(near[0].jd - b.jd))
        worst_dd = max(worst_dd, abs(near[0].dist - b.dist))
    extra = len(found) - matched
    line = (
        f"{matched}/{len(base)} baseline approaches found (TCA within 1 min, distance within 1 km), "
        f"{len(missing)} missing, {extra} extra; largest differences: TCA {worst_dt * 86400:.3f} s, "
        f"distance {worst_dd * AU_KM * 1000:.3f} m"
    )
    for b in missing[:10]:
        line += f"\n  missing: {b.des} {b.cd} {b.dist:.6f} au"
    return line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--nbody-engine", action="store_true", help="also time the issue-4 n-body engine")
    ap.add_argument("--every", type=int, default=1, help="every Nth orbit only (quick runs)")
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_SBDB", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    orbits, issues = read_sbdb_csv(path.read_text(), str(path))
    orbits = orbits[:: args.every]
    print(f"{len(orbits)} orbits ({len(issues)} rejected), window 2020, 0.05 au, {args.workers} workers")
    print(f"load average at start: {os.getloadavg()}")

    rows = []
    stats: dict[str, float] = {}
    t, c = time.perf_counter(), cpu_s()
    found = close_approaches_parallel(orbits, START, END, max_dist_au=0.05, workers=args.workers, stats=stats)
    rows.append(("engine: two-body sieve + n-body (pool)", time.perf_counter() - t, cpu_s() - c, len(found)))
    print(
        f"sieve: {stats['n_body_objects']:.0f} of {stats['objects']:.0f} objects integrated (n-body), "
        f"{stats['carried']:.0f} carried to the window, {stats['swept_intervals']:.0f} of "
        f"{stats['intervals']:.0f} grid intervals swept"
    )
    nbody = None
    if args.nbody_engine:
        t, c = time.perf_counter(), cpu_s()
        nbody = close_approaches_parallel(
            orbits, START, END, max_dist_au=0.05, workers=args.workers, search=ApproachSearch.NBODY
        )
        rows.append(("engine: n-body, chunks of 8 (pool; issue #4)", time.perf_counter() - t, cpu_s() - c, len(nbody)))
    if not args.skip_baseline:
        t, c = time.perf_counter(), cpu_s()
        base = [a for o in orbits for a in close_approaches([o], START, END, max_dist_au=0.05)]
        rows.append(("baseline (one object at a time, 1 process)", time.perf_counter() - t, cpu_s() - c, len(base)))
        print("sieve engine vs baseline: " + compare(found, base))
        if nbody is not None:
            print("n-body engine vs baseline: " + compare(nbody, base))
    print(f"load average at end: {os.getloadavg()}")

    print("\n| run | wall s | CPU s | approaches | wall vs baseline |\n|---|---:|---:|---:|---:|")
    for name, secs, cpu, n in rows:
        ratio = f"{secs / rows[-1][1]:.3f}x" if not args.skip_baseline else ""
        print(f"| {name} | {secs:.1f} | {cpu:.1f} | {n} | {ratio} |")

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
            f"extra {len(set(ours) - set(cneos))}; largest distance difference {max(diffs, default=0.0):.3f} km"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
