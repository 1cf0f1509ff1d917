"""Benchmark (issue #16): orbit determination from optical astrometry.

Workloads: the full 883-observation fit of 2008 TC3 and the 7,819-observation optical fit of
Apophis 2004-2021 (optical only: radar is not fitted yet; A2 free with --nongrav), each from the
same starting orbit. Baseline in the same run: partials from central finite differences of the n-body propagation
(12 extra propagations per iteration, 2 per free A_k) instead of ASSIST's variational equations,
timed for one iteration (and compared with ours); ``--full-baseline`` runs whole fits that way
too (both must reach the same solution, compared in units of its sigma).

Needs ../shared/data/neo/observations/ (or SPACECOMMONS_OBS=dir) and, for the Apophis start,
reference/sbdb_99942.json there.
Usage: python benchmarks/neo_od.py [--apophis] [--nongrav] [--skip-baseline] [--full-baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.neo.od import fit as fit_module
from spacecommons.neo.od.fit import FitSettings, fit_orbit, optical_arc
from spacecommons.neo.od.iod import initial_orbit_fit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/neo/observations"


def finite_difference_partials(jd0, state, jd, nongrav=None, free=(), settings=None, node_days=None):
    """The baseline: states and central-difference partials (n, 6, 6 + k)."""
    ng = np.zeros(3) if nongrav is None else np.asarray(nongrav, float)

    def run_fast(s, g):  # one integration with dense output, as the real code does for states
        from spacecommons.neo.od.variational import _run

        out = np.empty((len(jd), 6))
        for direction in (1.0, -1.0):
            idx = np.flatnonzero(jd >= jd0) if direction > 0 else np.flatnonzero(jd < jd0)
            if idx.size:
                order = idx[np.argsort(direction * jd[idx])]
                out[order] = _run(jd0, s, jd[order], g, (), fit_module.DEFAULT_SETTINGS, 1.0)[0]
        return out

    base = run_fast(state, ng)
    parts = np.empty((len(jd), 6, 6 + len(free)))
    steps = [1e-8] * 3 + [1e-10] * 3
    for j in range(6):
        d = np.zeros(6)
        d[j] = steps[j]
        parts[:, :, j] = (run_fast(state + d, ng) - run_fast(state - d, ng)) / (2 * steps[j])
    for m, k in enumerate(free):
        d = np.zeros(3)
        d[k] = 1e-14
        parts[:, :, 6 + m] = (run_fast(state, ng + d) - run_fast(state, ng - d)) / 2e-14
    return base, parts


def timed_fit(arc, epoch, state, nongrav, settings, baseline: bool):
    original = fit_module.propagate_with_partials
    if baseline:
        fit_module.propagate_with_partials = finite_difference_partials
    try:
        t = time.perf_counter()
        f = fit_orbit(arc, epoch, state, nongrav, settings)
        return f, time.perf_counter() - t
    finally:
        fit_module.propagate_with_partials = original


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apophis", action="store_true", help="also the 17-year optical fit of Apophis")
    ap.add_argument("--nongrav", action="store_true", help="A2 free in the Apophis fit")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--full-baseline", action="store_true", help="whole fits with finite differences (slow)")
    args = ap.parse_args()
    folder = Path(os.environ.get("SPACECOMMONS_OBS", DEFAULT))
    if not (folder / "2008TC3.txt").exists():
        print(f"missing {folder / '2008TC3.txt'}", file=sys.stderr)
        return 2
    rows = []

    obs, _ = read_mpc80((folder / "2008TC3.txt").read_text(), "2008TC3.txt")
    arc = optical_arc(obs)
    start = initial_orbit_fit(arc.subset(slice(0, 6)))
    work = [("2008 TC3, 883 obs, 0.8 d", arc, start.epoch_jd_tdb, start.state, None, FitSettings())]
    if args.apophis:
        from spacecommons.neo.nbody import heliocentric_to_barycentric
        from spacecommons.neo.orbit import heliocentric_states
        from spacecommons.neo.sbdb_api import read_sbdb_api

        ref = folder / "reference" / "sbdb_99942.json"
        jpl = read_sbdb_api(ref.read_text(), ref.name)
        aobs, _ = read_mpc80((folder / "99942.dat").read_text(), "99942.dat")
        aarc = optical_arc(aobs)
        x0 = heliocentric_to_barycentric(heliocentric_states([jpl]), jpl.epoch_jd_tdb)[0]
        settings = FitSettings(nongrav_free=("A2",) if args.nongrav else ())
        label = f"Apophis optical, {len(aarc)} obs, 17 y" + (", A2 free" if args.nongrav else "")
        work.append((label, aarc, jpl.epoch_jd_tdb, x0, np.asarray(jpl.nongrav), settings))

    head = f"{'workload':42s} {'variational s':>13s} {'finite-diff s':>13s} {'ratio':>6s}"
    print(head + '  rms"  used/rej  max |diff|/sigma')
    for label, a, epoch, x0, ng, settings in work:
        free = tuple(fit_module.NONGRAV_NAMES.index(n) for n in settings.nongrav_free)
        g = np.zeros(3) if ng is None else ng
        # one iteration's propagation and partials, both ways
        t = time.perf_counter()
        _, p_var = fit_module.propagate_with_partials(epoch, x0, a.jd_tdb, g, free)
        one_var = time.perf_counter() - t
        one_fd, worst = float("nan"), float("nan")
        if not args.skip_baseline:
            t = time.perf_counter()
            _, p_fd = finite_difference_partials(epoch, x0, a.jd_tdb, g, free)
            one_fd = time.perf_counter() - t
            worst = float(np.max(np.abs(p_var[:, :3, :6] - p_fd[:, :3, :6])) / np.max(np.abs(p_fd[:, :3, :6])))
        print(
            f"{label + ': partials, one iteration':42s} {one_var:13.1f} {one_fd:13.1f} {one_fd / one_var:6.1f}", end=""
        )
        print(f"  (max partials difference / max partial: {worst:.1e})")
        f, ours = timed_fit(a, epoch, x0, ng, settings, baseline=False)
        base_s, diff = float("nan"), float("nan")
        if args.full_baseline:
            b, base_s = timed_fit(a, epoch, x0, ng, settings, baseline=True)
            sig = np.sqrt(np.diag(f.covariance))[:6]
            diff = float(np.max(np.abs(b.state - f.state) / sig))
        rows.append((label, ours, base_s))
        print(
            f"{label + ': whole fit':42s} {ours:13.1f} {base_s:13.1f} {base_s / ours:6.1f}  {f.rms_arcsec:.3f}  "
            f"{f.n_used}/{f.n_rejected}  {diff:.3g}  ({f.iterations} iterations)"
        )
        if f.nongrav_free:
            print(f"   A2 = {f.nongrav[1]:.4e} +- {np.sqrt(f.covariance[6, 6]):.2e} au/d^2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
