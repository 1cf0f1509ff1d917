"""Radial-shell prefilter and the k x n broad phase for primaries (issue #18).

Independent computations: the shells are checked against the interpolant and SGP4 itself sampled
densely (every 1/50 of a segment, every 5 s); the filter and the primaries kernel against the
unfiltered all-vs-all kernel on the same states (they must give exactly its triples for the pairs
they keep, which is what makes their events identical), and against screening without the filter.
The lossless argument (Hoots, Crawford & Roehrich 1984, "An analytic method to determine future
close approaches between satellites", Celestial Mechanics 33: the apogee/perigee filter) is that
two objects whose radii stay more than the threshold apart cannot come within the threshold.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spacecommons.catalog import read_tle
from spacecommons.conjunction import ScreeningParams, kernels, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.screen import _node_times
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE

GROUPS = (
    "cosmos-2251-debris_celestrak_2021-10-02.txt",
    "iridium-33-debris_celestrak_2021-10-02.txt",
    "fengyun-1c_1999-025_celestrak_2021-10-02.txt",
)
STEP_S, SUBSTEPS = 300.0, 12


@pytest.fixture(scope="module")
def debris():
    """CelesTrak's three big debris clouds (about 4,000 objects at 500-1,500 km): the shells of the
    Fengyun (~850 km) and Iridium/Cosmos (~780 km) clouds partly overlap."""
    records = []
    for name in GROUPS:
        records += read_tle((SAMPLE / name).read_text(), name).records
    seen: dict[int, object] = {}
    for r in records:
        seen[r.norad_id] = r
    return CatalogPayload.from_elements(list(seen.values()))


@pytest.fixture(scope="module")
def states(debris):
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.025, 5.0)  # 36 minutes: 8 segments
    t, jds, frs = _node_times(params, 0, params.n_segments)
    err, r, v = propagate_satrecs(debris.satrecs(), jds, frs, debris.satrec_array())
    return params, err == 0, r, v


def test_shells_hold_the_interpolant_and_sgp4_sampled_densely(debris, states):
    params, ok, r, v = states
    n = r.shape[0]
    lo, hi = kernels.radial_shells(r, v, ok, STEP_S, SUBSTEPS, np.zeros(n))
    # the interpolant, 50 points per segment (the kernel samples 12 and bounds the rest)
    s = np.linspace(0.0, 1.0, 51)[:, None, None, None]
    p0, p1 = r[None, :, :-1], r[None, :, 1:]
    d0, d1 = STEP_S * v[None, :, :-1], STEP_S * v[None, :, 1:]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    radius = np.linalg.norm(h00 * p0 + h10 * d0 + h01 * p1 + h11 * d1, axis=-1)  # (51, n, K)
    good = ok[:, :-1] & ok[:, 1:]
    some = good.any(axis=1)  # objects with no valid segment have no shell (and are not screened)
    rad = np.where(good[None], radius, np.nan)[:, some]
    r_min, r_max = np.nanmin(rad, axis=(0, 2)), np.nanmax(rad, axis=(0, 2))
    assert some.sum() > 3000
    assert np.all(r_min >= lo[some] - 1e-9) and np.all(r_max <= hi[some] + 1e-9)
    # and not uselessly wide: the median shell is within 10 km of the sampled radial range
    assert np.median((hi[some] - lo[some]) - (r_max - r_min)) < 10.0
    # SGP4 itself every 5 s lies within the shell widened by 1 km (> the interpolation bounds here)
    t = np.arange(0.0, params.duration_s, 5.0)
    e, rr, _ = propagate_satrecs(debris.satrecs(), np.full(t.shape, params.start_jd), params.start_fr + t / 86400.0)
    every = ok.all(axis=1) & (e == 0).all(axis=1)
    true_r = np.linalg.norm(rr[every], axis=-1)
    assert every.sum() > 3000
    assert np.all(true_r.min(axis=1) >= lo[every] - 1.0) and np.all(true_r.max(axis=1) <= hi[every] + 1.0)


def _keys(n, triples):
    i, j, k = triples
    return np.unique((k * n + i) * n + j)


def test_prefilter_keeps_every_triple_that_can_hold_a_minimum(states):
    """Triples dropped by the shells have no interpolated minimum below the narrow-phase limit."""
    params, ok, r, v = states
    n = r.shape[0]
    pad = np.full(n, 0.5 + params.threshold_km / 2)
    no = np.zeros(n, dtype=bool)
    full = _keys(n, kernels.broad_phase(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, no, False))
    lo, hi = kernels.radial_shells(r, v, ok, STEP_S, SUBSTEPS, pad)
    kept = _keys(n, kernels.broad_phase_shells(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, no, False, lo, hi))
    assert np.isin(kept, full).all()
    dropped = np.setdiff1d(full, kept)
    assert dropped.size > 0.05 * full.size  # the two clouds' shells are apart for part of the pairs
    k, rest = np.divmod(dropped, n * n)
    i, j = np.divmod(rest, n)
    limit = np.full(i.size, params.threshold_km + 1.0)  # threshold + both bounds (0.5 km each)
    mc, _, _ = kernels.local_minima(r, v, STEP_S, i, j, k, limit)
    assert mc.size == 0


def test_primaries_kernel_gives_the_all_vs_all_triples_of_their_pairs(states):
    params, ok, r, v = states
    n = r.shape[0]
    pad = np.full(n, 0.5 + params.threshold_km / 2)
    lo, hi = kernels.radial_shells(r, v, ok, STEP_S, SUBSTEPS, pad)
    prim = np.arange(0, n, 97)
    is_prim = np.zeros(n, dtype=bool)
    is_prim[prim] = True
    inf = np.full(n, np.inf)
    full = kernels.broad_phase_shells(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, is_prim, False, -inf, inf)
    keep = is_prim[full[0]] | is_prim[full[1]]
    expected = _keys(n, tuple(a[keep] for a in full))
    got = _keys(n, kernels.broad_phase_primaries(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, prim, -inf, inf))
    assert got.size > 100 and np.array_equal(got, expected)
    with_shells = _keys(n, kernels.broad_phase_primaries(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, prim, lo, hi))
    assert np.isin(with_shells, expected).all()


def test_screening_with_and_without_the_prefilter_is_identical(debris, states):
    params = states[0]
    on = screen(debris, params, workers=1)
    off = screen(debris, replace(params, radial_filter=False), workers=1)
    rows = [(e.id1, e.id2, e.tca, e.miss_km, e.kind) for e in on.events]
    assert len(rows) > 10 and rows == [(e.id1, e.id2, e.tca, e.miss_km, e.kind) for e in off.events]
    assert on.stats["candidate_segments"] < off.stats["candidate_segments"]


def test_all_vs_all_kernel_gives_the_object_indexed_triples_with_shells(states):
    """The all-vs-all kernel takes objects in shell-floor order and stops scanning a bucket at the
    first shell floor above the entry's ceiling (branch `week`): its triples must stay those of the
    k x n kernel, which tests every pair in object order with the same comparisons, when every
    object is a primary, with the real (finite) shells; and a NaN shell must fail no pair, as before."""
    params, ok, r, v = states
    n = r.shape[0]
    pad = np.full(n, 0.5 + params.threshold_km / 2)
    lo, hi = kernels.radial_shells(r, v, ok, STEP_S, SUBSTEPS, pad)
    no = np.zeros(n, dtype=bool)
    everyone = np.arange(n)
    fast = _keys(n, kernels.broad_phase_shells(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, no, False, lo, hi))
    slow = _keys(n, kernels.broad_phase_primaries(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, everyone, lo, hi))
    assert fast.size > 1000 and np.array_equal(fast, slow)
    # NaN in place of some shells: those objects pass the shell test (as -inf, +inf would)
    lo_nan, hi_nan = lo.copy(), hi.copy()
    lo_nan[::50], hi_nan[1::70] = np.nan, np.nan
    lo_inf, hi_inf = np.where(np.isnan(lo_nan), -np.inf, lo_nan), np.where(np.isnan(hi_nan), np.inf, hi_nan)
    with_nan = _keys(n, kernels.broad_phase_shells(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, no, False, lo_nan, hi_nan))
    with_inf = _keys(n, kernels.broad_phase_primaries(r, v, ok, STEP_S, SUBSTEPS, pad, 300.0, everyone, lo_inf, hi_inf))
    assert np.array_equal(with_nan, with_inf) and with_nan.size > fast.size
