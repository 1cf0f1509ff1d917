"""Measurement behind ``TWO_BODY_MARGIN_AU`` (issue #18 target 6): how far the two-body (Kepler)
model of the close-approach sieve drifts from the n-body search integration before an object first
comes close to Earth (or passes within PERTURBER_RADII_AU of Venus or Mars).

For every ``--every``-th NEO of the 2020 SBDB extract: the object is anchored as in a one-object
``close_approaches`` run (its epoch, or the window edge after an exact carry), integrated with the
search settings (ASSIST, GR from the Sun) to every day of 2020 each way, and carried with the
two-body model from the same anchor state. Printed: quantiles of the largest two-body error over
the stretch from the anchor up to and including the first day the n-body distance to Earth is
<= D (D = 0.05 and 0.1 au) or within 0.05 au of Venus or Mars, and the worst objects. The
sieve's margin must exceed that error: past that day the sieve no longer relies on the two-body
model (the n-body search sweeps the encounter and the two-body search restarts from its state).

Needs ../shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv (or SPACECOMMONS_SBDB=path).
Usage: python benchmarks/neo_search_margin.py [--every 4] [--offset 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from spacecommons.neo import read_sbdb_csv
from spacecommons.neo.approach_search import kepler_states
from spacecommons.neo.approaches import PERTURBER_RADII_AU, TWO_BODY_MARGIN_AU, states_at
from spacecommons.neo.nbody import DEFAULT_SETTINGS, Integrator, body_state, heliocentric_to_barycentric
from spacecommons.neo.orbit import heliocentric_states

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/neo/sbdb_neos_subset_epoch2020-05-31.csv"
START, END = 2458849.5, 2459215.5  # 2020-01-01.0 .. 2021-01-01.0 TDB


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--every", type=int, default=4)
    ap.add_argument("--offset", type=int, default=0)
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_SBDB", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    orbits = read_sbdb_csv(path.read_text(), str(path))[0][args.offset :: args.every]
    search = replace(DEFAULT_SETTINGS, gr_sources=1, epsilon=1e-8)
    grid = np.arange(START, END + 0.01, 1.0)
    sun = np.array([body_state("sun", t) for t in grid])
    earth = np.array([body_state("earth", t) for t in grid])
    planets = {p: np.array([body_state(p, t) for t in grid]) for p in PERTURBER_RADII_AU if p != "earth"}
    rows = []
    t0 = time.process_time()
    for orbit in orbits:
        epoch, ng = orbit.epoch_jd_tdb, np.array([orbit.nongrav])
        state = heliocentric_to_barycentric(heliocentric_states([orbit]), [epoch])
        anchor = float(np.clip(epoch, START, END))
        state = states_at(anchor, np.array([epoch]), state, ng, search)
        pos = np.empty((grid.size, 3))
        sides = [np.flatnonzero(grid < anchor)[::-1], np.flatnonzero(grid >= anchor)]
        for idx in sides:
            integ = Integrator(anchor, state, ng, search)
            for k in idx:
                integ.integrate(grid[k], exact=False)
                pos[k] = integ.states()[0, :3]
        kep = kepler_states(state - body_state("sun", anchor), grid - anchor)[0, :, :3] + sun[:, :3]
        err = np.linalg.norm(kep - pos, axis=1)
        dist = np.linalg.norm(pos - earth[:, :3], axis=1)
        # the sieve also stops at a deep pass of another planet (PERTURBER_RADII_AU)
        deep = np.zeros(grid.size, bool)
        for p, states in planets.items():
            deep |= np.linalg.norm(pos - states[:, :3], axis=1) <= PERTURBER_RADII_AU[p]
        row = {"des": orbit.designation, "dmin": float(dist.min())}
        for limit in (0.05, 0.1):
            worst = 0.0
            for idx in sides:
                for k in idx:
                    worst = max(worst, err[k])
                    if dist[k] <= limit or deep[k]:
                        break
            row[limit] = worst
        rows.append(row)
    print(f"{len(rows)} objects (every {args.every}th from {args.offset}), {time.process_time() - t0:.0f} s CPU")
    for limit in (0.05, 0.1):
        e = np.array([r[limit] for r in rows])
        q = np.quantile(e, [0.5, 0.9, 0.99, 1.0])
        print(
            f"two-body error up to the first day within {limit} au: median {q[0]:.2e}, 90% {q[1]:.2e}, "
            f"99% {q[2]:.2e}, max {q[3]:.2e} au (margin {TWO_BODY_MARGIN_AU} au = {TWO_BODY_MARGIN_AU / q[3]:.1f}x)"
        )
        for r in sorted(rows, key=lambda r: -r[limit])[:5]:
            print(f"  {r['des']}: {r[limit]:.2e} au (closest n-body approach {r['dmin']:.4f} au)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
