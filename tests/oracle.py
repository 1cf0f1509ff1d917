"""Exhaustive screening oracle for tests: dense SGP4 sampling, then independent refinement.

Independent of the engine: positions from SatrecArray every ``step_s``, a scipy cKDTree pair
query per step with the radius padded by how far two objects can close in half a step, and
each sampled minimum refined with scipy's bounded Brent search on the SGP4 distance.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.spatial import cKDTree
from sgp4.api import SatrecArray


def oracle_minima(
    sats,
    jd0: float,
    fr0: float,
    duration_s: float,
    threshold_km: float,
    step_s: float = 1.0,
    vrel_max_km_s: float = 20.0,
):
    """Every local minimum of distance below ``threshold_km``: list of (i, j, t_s, miss_km)."""
    t = np.arange(0.0, duration_s + step_s / 2, step_s)
    arr = SatrecArray(sats)
    e, r, _ = arr.sgp4(np.full(t.shape, jd0), fr0 + t / 86400.0)
    ok = e == 0
    radius = threshold_km + vrel_max_km_s * step_s / 2.0
    flagged: dict[tuple[int, int], set[int]] = {}
    for k in range(t.size):
        good = np.flatnonzero(ok[:, k])
        tree = cKDTree(r[good, k])
        for a, b in tree.query_pairs(radius, output_type="ndarray"):
            i, j = sorted((int(good[a]), int(good[b])))
            flagged.setdefault((i, j), set()).add(k)

    def dist(i: int, j: int, tt: float) -> float:
        _, r1, _ = sats[i].sgp4(jd0, fr0 + tt / 86400.0)
        _, r2, _ = sats[j].sgp4(jd0, fr0 + tt / 86400.0)
        return float(np.linalg.norm(np.subtract(r2, r1)))

    out = []
    for (i, j), steps in flagged.items():
        ks = np.array(sorted(steps | {max(k - 1, 0) for k in steps} | {min(k + 1, t.size - 1) for k in steps}))
        d = np.linalg.norm(r[j, ks] - r[i, ks], axis=-1)
        for q in range(1, ks.size - 1):
            if ks[q - 1] == ks[q] - 1 and ks[q + 1] == ks[q] + 1 and d[q] <= d[q - 1] and d[q] < d[q + 1]:
                tc = t[ks[q]]
                # search the offset from tc: scipy's bounded Brent stops at sqrt(eps)*|x|, which
                # would be ~1 ms for x in seconds since the window start
                res = minimize_scalar(
                    lambda u, i=i, j=j, tc=tc: dist(i, j, tc + u),
                    bounds=(-step_s, step_s),
                    method="bounded",
                    options={"xatol": 1e-7},
                )
                if res.fun < threshold_km and 0.0 < tc + res.x < duration_s:
                    out.append((i, j, float(tc + res.x), float(res.fun)))
    return out
