"""``kernels.broad_phase_changed``'s two ways to its candidate pairs: objects with few shell partners
test them directly, the others read the axis slabs of their segment boxes (``direct_max`` picks).

Independent computations: the interpolated minima of the all-vs-all kernel's triples with a primary
(``kernels.broad_phase_primaries``, which the stored runs' tests check against brute force) on the
Iridium 33 debris cloud (tests/data, see SOURCES.md), which every way must find; and objects in uniform
straight-line motion (the cubic Hermite interpolant is the line itself, so parallel objects keep their
distance over every segment), where every pair with a primary closer than the sum of the pads must give
a triple in every segment: more triples than the kernel's first output buffer holds.
"""

from __future__ import annotations

import numpy as np
import pytest

from .test_broad_phase_changed_grid import _straight
from .test_screen_update_kept import iridium_first_chunk

ALL_CELLS, ALL_DIRECT = 0, 1 << 40  # direct_max: no object tests its partners directly / every object does


def _triples(out) -> list[tuple[int, int, int]]:
    return sorted(zip(*(x.tolist() for x in out), strict=True))


@pytest.mark.parametrize("every", [3, 40])
def test_direct_partners_and_cell_lookups_give_the_same_triples_and_minima(every):
    """Whichever way each object takes (all cells, the default mix, all direct), the triples are the
    same and the narrow phase finds on them the all-vs-all kernel's minima with a primary."""
    from spacecommons.conjunction import kernels

    r, v, ok, h, m, pad, cell, prim, lo, hi, minima = iridium_first_chunk(every)

    ref = minima(*kernels.broad_phase_primaries(r, v, ok, h, m, pad, cell, prim, lo, hi))
    ways = {
        name: kernels.broad_phase_changed(r, v, ok, h, m, pad, prim, lo, hi, 2000.0, 0, -1, direct_max)
        for name, direct_max in (("cells", ALL_CELLS), ("default", -1), ("direct", ALL_DIRECT))
    }
    assert _triples(ways["cells"]) == _triples(ways["default"]) == _triples(ways["direct"])
    assert len(ways["cells"][0]) >= 10
    for out in ways.values():
        assert minima(*out) == ref
    assert len(ref) >= 5


@pytest.mark.parametrize("direct_max", [ALL_CELLS, ALL_DIRECT])
def test_more_triples_than_the_first_buffer_holds(direct_max):
    """400 parallel objects within 1 km of each other and two primaries among them: every pair with a
    primary (399 + 398) gives a triple in each of 6 segments, 4,782 in all (the buffer starts at 4,096)."""
    from spacecommons.conjunction import kernels

    n, h, m, segments = 400, 300.0, 12, 6
    rng = np.random.default_rng(18)
    x0 = np.array([7000.0, 0.0, 0.0]) + rng.uniform(-0.5, 0.5, (n, 3))
    vel = np.broadcast_to(np.array([0.0, 7.5, 0.0]), (n, 3))
    P, V = _straight(x0, vel, h, segments)
    ok = np.ones(P.shape[:2], dtype=np.bool_)
    pad = np.full(n, 2.5)  # 5 km threshold, zero interpolation bound; pairs at most sqrt(3) km apart
    shells = np.full(n, np.nan)
    prim = np.array([0, 1])
    out = kernels.broad_phase_changed(P, V, ok, h, m, pad, prim, shells, shells, 2000.0, 0, -1, direct_max)
    want = sorted((min(i, o), max(i, o), k) for i in (0, 1) for o in range(n) if o != i for k in range(segments))
    assert _triples(out) == sorted(set(want))
    assert len(out[0]) == (399 + 398) * segments


@pytest.mark.parametrize("seed", [0, 1])
def test_shell_partners_are_the_primaries_whose_shells_meet_each_objects(seed):
    """``kernels.shell_partners`` (binary searches into the bit sets of the primaries sorted by floor and
    by ceiling) against its definition tested pair by pair in numpy: a primary is an object's partner
    when its floor is at most the object's ceiling and its ceiling at least the object's floor (NaN:
    unbounded), and a primary object pairs only with primaries of lower index. Shells drawn with ties
    (floors and ceilings from 12 values) and NaN bounds; 300 objects, so 5 words of primaries."""
    from spacecommons.conjunction import kernels

    rng = np.random.default_rng(seed)
    n = 300
    lo = rng.choice(np.arange(6600.0, 7800.0, 100.0), n)
    hi = lo + rng.choice([0.0, 100.0, 300.0], n)
    lo[rng.random(n) < 0.05] = np.nan
    hi[rng.random(n) < 0.05] = np.nan
    prim = np.sort(rng.choice(n, 260, replace=False)).astype(np.int64)
    floor, ceiling = np.nan_to_num(lo, nan=-np.inf), np.nan_to_num(hi, nan=np.inf)
    meet = (floor[prim][None, :] <= ceiling[:, None]) & (ceiling[prim][None, :] >= floor[:, None])
    is_prim = np.isin(np.arange(n), prim)
    meet &= ~is_prim[:, None] | (prim[None, :] < np.arange(n)[:, None])
    for direct_max in (-1, 0, 1000):
        shells, count, first, partner = kernels.shell_partners(n, prim, lo, hi, direct_max)
        assert shells.shape == (n, 5)
        bits = np.unpackbits(shells.view(np.uint8), axis=1, bitorder="little")[:, : prim.size].astype(bool)
        assert np.array_equal(bits, meet)
        assert np.array_equal(count, meet.sum(axis=1))
        limit = kernels._DIRECT_MAX if direct_max < 0 else direct_max
        for o in range(n):
            listed = partner[first[o] : first[o + 1]].tolist()
            assert listed == (np.flatnonzero(meet[o]).tolist() if count[o] <= limit else [])
    assert 0 < meet.sum() < meet.size
