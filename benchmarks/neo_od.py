"""Benchmark (issue #16): orbit determination from optical and radar astrometry.

Workloads:
- 2008 TC3: the 883-observation fit from Gauss's initial orbit on its first 6 (one night).
- Apophis (``--apophis``): the 7,819 optical observations 2004-2021 (``99942.dat``), without and
  with the 50 radar delays/Dopplers (``99942_RADAR_*.dat``), A2 free, from JPL solution 220 at its
  covariance epoch (2021-01-01 TDB) with A2 = 0; compared with JPL 220 at that epoch (position in
  JPL's sigma, A2 in JPL's sigma) and for the 2029-04-13 Earth encounter (distance +- 1 sigma,
  linear map of each covariance).
- Bennu (``--bennu``): 580 optical observations 1999-2018 + 29 radar (22 delays, 7 Dopplers), A1 and
  A2 free, compared with JPL 118 at its epoch (2011-01-01 TDB) per axis (JPL's sigma, ours, and
  radial/transverse/normal), and the diagnosis of the difference: JPL 118's state held with A1, A2
  solved (``nongrav_at_fixed_state``: is JPL's orbit consistent with the radar under our force
  model?), the optical chi-square of both orbits with the same weights, and (``--bennu-variants``)
  fits with A1 = SRP from JPL's AMRAT, A2 held at JPL's drift, without the 16 asteroid perturbers,
  without the 1999-2000 optical, without the USNO-A/B and uncatalogued optical.

Same-run baselines: (1) partials by central finite differences of the same n-body propagation for
one iteration (``finite_difference_partials``; TC3 and Apophis); (2) for whole fits, the fit with
fresh partials at every evaluation (``FitSettings(reuse_partials=False)``, what the code did before
the modified-Newton change) against the default (partials reused for steps under 1 sigma).
``--profile`` prints the cProfile of the Apophis optical+radar fit (cumulative top 15).

Needs ../shared/data/neo/observations/ (or SPACECOMMONS_OBS=dir) with reference/sbdb_*.json.
Usage: python benchmarks/neo_od.py [--apophis] [--bennu [--bennu-variants]] [--skip-baseline] [--profile]
                                   [--no-encounter]
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


AU_PER_DAY2_M_S2 = 1.495978707e11 / 86400.0**2
BENNU_SRP_A1 = 2.635943157e-6 * 1361.0 / 299_792_458.0 / AU_PER_DAY2_M_S2  # JPL 118 AMRAT x 1361 W/m^2 / c
BENNU_A2_CHESLEY = (-4.618e-14, 0.024e-14)  # Chesley et al. 2014 (ground data to 2013), da/dt -19.0e-4 au/Myr
BENNU_A2_FARNOCCHIA = -4.618e-14 * 284.6 / (19.0e-4 * 1.495978707e11 / 1e6)  # da/dt -284.6 m/yr (2021)


def _rtn(ref_state, sun):
    r, v = ref_state[:3] - sun[:3], ref_state[3:] - sun[3:]
    rad = r / np.linalg.norm(r)
    nor = np.cross(r, v)
    nor /= np.linalg.norm(nor)
    return np.array([rad, np.cross(nor, rad), nor])


def _bennu_line(label, f, ref):
    from spacecommons.constants import AU_KM
    from spacecommons.neo.nbody import body_state

    c = compare_with_reference(f, ref)
    d = c.position_km
    ours = np.sqrt(np.diag(f.covariance[:3, :3])) * AU_KM
    both = (f.covariance[:3, :3] + ref.covariance[:3, :3]) * AU_KM**2
    rot = _rtn(ref.state, body_state("sun", ref.epoch_jd_tdb))
    d_rtn = rot @ d
    s_rtn = np.sqrt(np.diag(rot @ f.covariance[:3, :3] @ rot.T)) * AU_KM
    a2 = f.nongrav[1]
    a2s = np.sqrt(f.covariance[6 + f.nongrav_free.index("A2"), 6 + f.nongrav_free.index("A2")])
    print(
        f"    {label}: |d| {np.linalg.norm(d):.1f} km, R/T/N {np.round(d_rtn, 1)} km = "
        f"{np.round(d_rtn / s_rtn, 2)} of our sigma; x/y/z {np.round(d / ours, 2)} of ours; Mahalanobis (ours + JPL) "
        f'{float(np.sqrt(d @ np.linalg.solve(both, d))):.2f}; A2 {a2:.4e} +- {a2s:.2e}; RMS {f.rms_arcsec:.3f}" '
        f"({f.n_used} used); radar normalized {f.radar_normalized_rms():.2f}"
    )


def bennu(folder: Path, args) -> None:
    """Bennu against JPL 118, and the measurements that locate the difference."""
    from spacecommons.constants import AU_KM
    from spacecommons.neo.od import variational
    from spacecommons.neo.od.compare import nongrav_at_fixed_state

    ref = reference_solution(read_sbdb_api((folder / "reference/sbdb_101955.json").read_text(), "sbdb_101955.json"))
    optical = _optical(folder, ["101955_OPTICAL_1999_2006.dat", "101955_OPTICAL_2011_2018.dat"])
    barc = optical_arc(optical)
    brad = radar_arc(_radar(folder, ["101955_RADAR_1999_2005.dat", "101955_RADAR_2011.dat"]))
    print(f"Bennu: {len(barc)} optical, {len(brad)} radar; weights: {barc.weighting}")
    print(f"    JPL 118 1-sigma at its epoch: {np.round(np.sqrt(np.diag(ref.covariance[:3, :3])) * AU_KM * 1e3, 1)} m")
    ng0 = ref.nongrav.copy()
    ng0[1] = 0.0
    f = whole_fit(
        "Bennu optical + radar, A1 + A2 free", barc, ref.epoch_jd_tdb, ref.state, ng0,
        FitSettings(nongrav_free=("A1", "A2")), brad, args.skip_baseline,
    )  # fmt: skip
    against_reference("Bennu", f, ref, None, "JPL 118")
    _bennu_line("A1 + A2 free", f, ref)
    print(f"    A2 vs Chesley et al. 2014 {BENNU_A2_CHESLEY[0]:.3e} +- {BENNU_A2_CHESLEY[1]:.1e}: "
          f"{(f.nongrav[1] - BENNU_A2_CHESLEY[0]) / BENNU_A2_CHESLEY[1]:+.1f} of its sigma; vs Farnocchia 2021 "
          f"(-284.6 m/yr = {BENNU_A2_FARNOCCHIA:.3e}): "
          f"{100 * (f.nongrav[1] / BENNU_A2_FARNOCCHIA - 1):+.1f} %")  # fmt: skip

    # JPL 118's orbit under our force model: state held, A1 and A2 solved for
    start = np.array([BENNU_SRP_A1, BENNU_A2_FARNOCCHIA, 0.0])
    (held, held0), t_held = _timed(
        lambda: (
            nongrav_at_fixed_state(barc, ref.epoch_jd_tdb, ref.state, start, ("A1", "A2"), brad),
            nongrav_at_fixed_state(barc, ref.epoch_jd_tdb, ref.state, start * [0, 1, 0], ("A2",), brad, iterations=0),
        )
    )
    rn = held.radar_normalized
    print(
        f"    JPL 118 state held, A1 A2 solved ({t_held:.0f} s): A1 = {held.nongrav[0]:.4e} +- {held.sigma['A1']:.1e} "
        f"({held.nongrav[0] / BENNU_SRP_A1:.2f} x SRP from AMRAT {BENNU_SRP_A1:.3e}), A2 = {held.nongrav[1]:.4e} +- "
        f"{held.sigma['A2']:.1e}; radar normalized RMS {np.sqrt(np.mean(rn**2)):.2f}, "
        f"max |.| {np.max(np.abs(rn)):.2f}; "
        f"with A1 = 0: max |.| {np.max(np.abs(held0.radar_normalized)):.0f}"
    )
    sigma = np.stack([barc.sigma_ra_arcsec, barc.sigma_dec_arcsec], axis=1)
    ours = np.stack([f.residual_ra_arcsec, f.residual_dec_arcsec], axis=1)
    theirs = np.stack([held.residual_ra_arcsec, held.residual_dec_arcsec], axis=1)
    c_ours = float(np.sum((ours / sigma)[f.used] ** 2))
    c_theirs = float(np.sum((theirs / sigma)[f.used] ** 2))
    sky = np.hypot(*(theirs - ours).T)
    print(
        f"    optical chi-square over our {f.n_used} used, our weights: our fit {c_ours:.1f}, JPL 118 held "
        f"{c_theirs:.1f} (+{c_theirs - c_ours:.1f} = {np.sqrt(max(c_theirs - c_ours, 0)):.1f} sigma); "
        f'the two orbits differ on the sky by {np.median(sky):.2f}" median, {np.max(sky):.2f}" max'
    )
    if not args.bennu_variants:
        return
    cat = np.array([o.catalog or "-" for o in sorted(optical, key=lambda o: o.epoch_utc_jd)])
    srp = np.array([BENNU_SRP_A1, 0.0, 0.0])
    a2 = FitSettings(nongrav_free=("A2",))
    base = fit_orbit(barc, ref.epoch_jd_tdb, ref.state, srp, a2, radar=brad)
    _bennu_line("A1 = SRP (AMRAT), A2 free", base, ref)
    held_a2 = fit_orbit(barc, ref.epoch_jd_tdb, ref.state, start, FitSettings(), radar=brad)
    print(f"    A2 held at Farnocchia's: |d| {np.linalg.norm(compare_with_reference(held_a2, ref).position_km):.1f} km")
    keep = np.flatnonzero(barc.jd_utc > 2451910.5)  # from 2001
    _bennu_line("without the 1999-2000 optical", fit_orbit(barc.subset(keep), ref.epoch_jd_tdb, ref.state, srp, a2,
                radar=brad), ref)  # fmt: skip
    keep = np.flatnonzero(~np.isin(cat, ["USNOA1", "USNOSA1", "USNOA2", "USNOSA2", "USNOB1", "-"]))
    _bennu_line(f"without USNO-A/B and uncatalogued optical ({len(keep)} left)", fit_orbit(barc.subset(keep),
                ref.epoch_jd_tdb, ref.state, srp, a2, radar=brad), ref)  # fmt: skip
    original = variational._simulation

    def without_asteroids(*a, **k):  # the benchmark's own switch: ASSIST without its 16 asteroids
        sim, extras, var = original(*a, **k)
        extras.forces = [x for x in extras.forces if x != "ASTEROIDS"]
        return sim, extras, var

    variational._simulation = without_asteroids
    try:
        no16 = fit_orbit(barc, ref.epoch_jd_tdb, ref.state, srp, a2, radar=brad)
    finally:
        variational._simulation = original
    shift = (no16.state[:3] - base.state[:3]) * AU_KM
    print(f"    without the 16 asteroid perturbers: the fit moves {np.linalg.norm(shift):.2f} km, A2 "
          f"{100 * (no16.nongrav[1] / base.nongrav[1] - 1):+.1f} %")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apophis", action="store_true")
    ap.add_argument("--bennu", action="store_true")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-encounter", action="store_true")
    ap.add_argument("--bennu-variants", action="store_true", help="with --bennu: the fits that locate the difference")
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
        bennu(folder, args)
    print(f"load average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
