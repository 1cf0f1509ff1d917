"""``kernels.broad_phase_changed`` beyond its axis slabs (+-50,000 km, indices clamped at the ends).

Independent computation: objects in uniform straight-line motion, whose cubic Hermite interpolant is
the line itself, so the distance of two parallel objects is constant over every segment: a pair 1 km
apart must give a triple in every segment (1 km < the sum of the pads), a pair 80,000 km apart none,
even though the clamped slabs put both far objects in the same end slab of the x axis.
"""

from __future__ import annotations

import numpy as np

from spacecommons.conjunction import kernels


def _straight(x0: np.ndarray, vel: np.ndarray, h: float, segments: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(segments + 1) * h
    P = x0[:, None, :] + t[None, :, None] * vel[:, None, :]
    V = np.broadcast_to(vel[:, None, :], P.shape).copy()
    return P, V


def test_far_objects_clamped_grid_keeps_close_pair_and_drops_far_one() -> None:
    h, m, segments = 300.0, 12, 6
    x0 = np.array([[120_000.0, 0.0, 0.0], [120_000.0, 1.0, 0.0], [200_000.0, 0.0, 0.0], [-120_000.0, 0.0, 0.0]])
    vel = np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 3.0], [0.0, 0.0, 3.0]])
    P, V = _straight(x0, vel, h, segments)
    ok = np.ones(P.shape[:2], dtype=np.bool_)
    pad = np.full(4, 2.5)  # 5 km threshold, zero interpolation bound
    shells = np.full(4, np.nan)  # no radial shells: every pair's shells meet
    ci, cj, ck = kernels.broad_phase_changed(P, V, ok, h, m, pad, np.array([0]), shells, shells, 2000.0)
    triples = sorted(zip(ci.tolist(), cj.tolist(), ck.tolist(), strict=True))
    assert triples == [(0, 1, k) for k in range(segments)]
