"""Benchmark (issue #16): orbit determination from optical and radar astrometry.

Workloads:
- 2008 TC3: the 883-observation fit from Gauss's initial orbit on its first 6 (one night).
- Apophis (``--apophis``): the 7,819 optical observations 2004-2021 (``99942.dat``), without and
  with the 50 radar delays/Dopplers (``99942_RADAR_*.dat``), A2 free, from JPL solution 220 at its
  covariance epoch (2021-01-01 TDB) with A2 = 0; compared with JPL 220 at that epoch (position in
  JPL's sigma, A2 in JPL's sigma) and for the 2029-04-13 Earth encounter (distance +- 1 sigma,
  linear map of each covariance).
- Bennu (``--bennu``): 580 optical observations 1999-2018 + 27 radar, A1 and A2 free (JPL 118 models
  solar radiation pressure and Yarkovsky physically, AMRAT and RHO: only positions compare).

Same-run baselines: (1) partials by central finite differences of the same n-body propagation for
one iteration (``finite_difference_partials``; TC3 and Apophis); (2) for whole fits, the fit with
fresh partials at every evaluation (``FitSettings(reuse_partials=False)``, what the code did before
the modified-Newton change) against the default (partials reused for steps under 1 sigma).
``--profile`` prints the cProfile of the Apophis optical+radar fit (cumulative top 15).

Needs ../shared/data/neo/observations/ (or SPACECOMMONS_OBS=dir) with reference/sbdb_*.json.
Usage: python benchmarks/neo_od.py [--apophis] [--bennu] [--skip-baseline] [--profile] [--no-encounter]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from spacecommons.neo.astrometry.mpc80 import read_mpc80
from spacecommons.neo.astrometry.radar import read_jpl_radar
from spacecommons.neo.od import fit as fit_module
from spacecommons.neo.od.compare import compare_with_reference, encounter_distance, fit_solution, reference_solution
from spacecommons.neo.od.fit import FitSettings, fit_orbit, optical_arc
from spacecommons.neo.od.iod import initial_orbit_fit
from spacecommons.neo.od.radar import radar_arc
from spacecommons.neo.sbdb_api import read_sbdb_api

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/neo/observations"
APOPHIS_2029_TCA_JD_TDB = 2462240.407  # 2029-04-13 21:46 TDB (JPL CAD)


def finite_difference_partials(jd0, state, jd, nongrav=None, free=(), settings=None, node_days=None, partials=True):
    """The baseline: states and central-difference partials (n, 6, 6 + k)."""
    from spacecommons.neo.od.variational import _run

    ng = np.zeros(3) if nongrav is None else np.asarray(nongrav, float)

    def run_fast(s, g):  # one integration with dense output, as the real code does for states
        out = np.empty((len(jd), 6))
        for direction in (1.0, -1.0):
            idx = np.flatnonzero(jd >= jd0) if direction > 0 else np.flatnonzero(jd < jd0)
            if idx.size:
                order = idx[np.argsort(direction * jd[idx])]
                out[order] = _run(jd0, s, jd[order], g, (), fit_module.DEFAULT_SETTINGS, 1.0, False)[0]
        return out

    base = run_fast(state, ng)
    if not partials:
        return base, None
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


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _radar(folder: Path, names):
    out = []
    for name in names:
        obs, issues = read_jpl_radar((folder / name).read_text(), name)
        assert not issues, issues[:3]
        out += obs
    return out


def _optical(folder: Path, names):
    out = []
    for name in names:
        obs, _ = read_mpc80((folder / name).read_text(), name)
        out += obs
    return out


def one_iteration(label, arc, epoch, x0, ng, free, skip_baseline):
    _, t_var = _timed(lambda: fit_module.propagate_with_partials(epoch, x0, arc.jd_tdb, ng, free))
    p_var = fit_module.propagate_with_partials(epoch, x0, arc.jd_tdb, ng, free)[1] if not skip_baseline else None
    t_fd, worst = float("nan"), float("nan")
    if not skip_baseline:
        (_, p_fd), t_fd = _timed(lambda: finite_difference_partials(epoch, x0, arc.jd_tdb, ng, free))
        worst = float(np.max(np.abs(p_var[:, :3, :6] - p_fd[:, :3, :6])) / np.max(np.abs(p_fd[:, :3, :6])))
    print(f"{label + ': partials, one iteration':58s} {t_var:9.1f} {t_fd:9.1f}  (max diff / max partial {worst:.1e})")


def whole_fit(label, arc, epoch, x0, ng, settings, radar, skip_baseline):
    f, ours = _timed(lambda: fit_orbit(arc, epoch, x0, ng, settings, radar=radar))
    base_s, diff = float("nan"), float("nan")
    if not skip_baseline:
        b, base_s = _timed(lambda: fit_orbit(arc, epoch, x0, ng, replace(settings, reuse_partials=False), radar=radar))
        sig = np.sqrt(np.diag(f.covariance))
        x_f = np.concatenate([f.state, f.nongrav[[fit_module.NONGRAV_NAMES.index(n) for n in f.nongrav_free]]])
        x_b = np.concatenate([b.state, b.nongrav[[fit_module.NONGRAV_NAMES.index(n) for n in b.nongrav_free]]])
        diff = float(np.max(np.abs(x_f - x_b) / sig))
    print(
        f"{label + ': whole fit':58s} {ours:9.1f} {base_s:9.1f}  ratio {base_s / ours:4.1f}; "
        f"{f.iterations} iterations; solutions differ by {diff:.2g} sigma"
    )
    print(
        f'    RMS {f.rms_arcsec:.3f}" (normalized {f.normalized_rms:.3f}), {f.n_used} used, {f.n_rejected} rejected '
        f"({100 * f.n_rejected / len(arc):.2f} %)"
    )
    if radar is not None:
        print(
            f"    radar: delay RMS {f.radar_rms('delay'):.3f} us, Doppler RMS {f.radar_rms('doppler'):.4f} Hz, "
            f"normalized {f.radar_normalized_rms():.3f}"
        )
    return f


def against_reference(label, f, ref, encounter_jd, name):
    c = compare_with_reference(f, ref)
    per_axis = c.position_km / c.position_sigma_km
    print(
        f"    vs {name} at JD {ref.epoch_jd_tdb}: position diff {np.round(c.position_km, 3)} km = "
        f"{np.round(per_axis, 2)} x JPL 1-sigma {np.round(c.position_sigma_km, 3)} km (Mahalanobis "
        f"{c.position_mahalanobis:.2f}); within 1 sigma per axis: {bool(np.all(np.abs(per_axis) < 1))}"
    )
    for n, (fv, fs, rv, rs) in c.nongrav.items():
        print(
            f"    {n} = {fv:.4e} +- {fs:.2e} vs {name} {rv:.4e} +- {rs:.2e} au/d^2: "
            f"{c.nongrav_in_ref_sigma(n):+.2f} JPL sigma (within 3: {abs(c.nongrav_in_ref_sigma(n)) < 3})"
        )
    if encounter_jd is not None:
        (d_f, s_f, _), t_enc = _timed(lambda: encounter_distance(fit_solution(f), encounter_jd))
        d_r, s_r, _ = encounter_distance(ref, encounter_jd)
        print(
            f"    2029-04-13 encounter: fit {d_f:.2f} +- {s_f:.2f} km, {name} {d_r:.2f} +- {s_r:.2f} km; "
            f"difference {d_f - d_r:+.2f} km = {(d_f - d_r) / s_r:+.2f} JPL sigma ({t_enc:.0f} s)"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apophis", action="store_true")
    ap.add_argument("--bennu", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-encounter", action="store_true")
    args = ap.parse_args()
    folder = Path(os.environ.get("SPACECOMMONS_OBS", DEFAULT))
    if not (folder / "2008TC3.txt").exists():
        print(f"missing {folder / '2008TC3.txt'}", file=sys.stderr)
        return 2
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'workload':58s} {'ours s':>9s} {'base s':>9s}")

    arc = optical_arc(_optical(folder, ["2008TC3.txt"]))
    start = initial_orbit_fit(arc.subset(slice(0, 6)))
    one_iteration("2008 TC3, 883 obs", arc, start.epoch_jd_tdb, start.state, np.zeros(3), (), args.skip_baseline)
    whole_fit("2008 TC3, 883 obs", arc, start.epoch_jd_tdb, start.state, None, FitSettings(), None, args.skip_baseline)

    if args.apophis:
        ref = reference_solution(read_sbdb_api((folder / "reference/sbdb_99942.json").read_text(), "sbdb_99942.json"))
        (aarc, rarc), prep = _timed(
            lambda: (
                optical_arc(_optical(folder, ["99942.dat"])),
                radar_arc(_radar(folder, ["99942_RADAR_2005_2013.dat", "99942_RADAR_2021.dat"])),
            )
        )
        print(f"Apophis: {len(aarc)} optical, {len(rarc)} radar; reading + observer positions {prep:.1f} s")
        print(f"    weights: {aarc.weighting}")
        ng0 = ref.nongrav.copy()
        ng0[1] = 0.0  # A2 starts at zero
        settings = FitSettings(nongrav_free=("A2",))
        one_iteration("Apophis optical", aarc, ref.epoch_jd_tdb, ref.state, ng0, (1,), args.skip_baseline)
        enc = None if args.no_encounter else APOPHIS_2029_TCA_JD_TDB
        for label, radar in (("Apophis optical, A2 free", None), ("Apophis optical + radar, A2 free", rarc)):
            f = whole_fit(label, aarc, ref.epoch_jd_tdb, ref.state, ng0, settings, radar, args.skip_baseline)
            against_reference(label, f, ref, enc, "JPL 220")
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.runcall(fit_orbit, aarc, ref.epoch_jd_tdb, ref.state, ng0, settings, radar=rarc)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(15)

    if args.bennu:
        ref = reference_solution(read_sbdb_api((folder / "reference/sbdb_101955.json").read_text(), "sbdb_101955.json"))
        barc = optical_arc(_optical(folder, ["101955_OPTICAL_1999_2006.dat", "101955_OPTICAL_2011_2018.dat"]))
        brad = radar_arc(_radar(folder, ["101955_RADAR_1999_2005.dat", "101955_RADAR_2011.dat"]))
        print(f"Bennu: {len(barc)} optical, {len(brad)} radar; weights: {barc.weighting}")
        ng0 = ref.nongrav.copy()
        ng0[1] = 0.0
        f = whole_fit(
            "Bennu optical + radar, A1 + A2 free", barc, ref.epoch_jd_tdb, ref.state, ng0,
            FitSettings(nongrav_free=("A1", "A2")), brad, args.skip_baseline,
        )  # fmt: skip
        against_reference("Bennu", f, ref, None, "JPL 118")
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
