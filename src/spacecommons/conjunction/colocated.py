"""Co-located groups: objects that stay within a distance of each other for the whole window.

Docked vehicles that share one element set (NAUKA, SOYUZ MS-19 and DRAGON CRS-24 at the ISS in
the 2022-01-22 catalog) are at distance zero all the time: the screening finds no minimum inside
the window, so before this they were silently absent. Such a pair is not an encounter: it is
reported once, as a group. The distance (``ScreeningParams.colocation_km``) is 1 km by default,
so that formations a few km apart stay proximity spans; the ISS's own, newer element set is
16-66 km from the docked vehicles' over 2022-01-22, and joins their group at 100 km.

Method: SGP4 positions of every object at the window start; candidate pairs closer than
``params.colocation_km`` there (a k-d tree); each candidate checked at samples every ``SAMPLE_S``
seconds over the window (and at its end), dropped at the first sample beyond the distance.
Groups are the connected components of the pairs left (union-find); a group is reported with its
lowest catalog number as ``id1`` and one row per other member. A pair that leaves the distance
for less than one sample interval between samples still counts as co-located.
"""

from __future__ import annotations

import numpy as np

from ..constants import SECONDS_PER_DAY
from ..frames import rtn_basis
from ..timescales import normalize_jd
from .catalog_payload import CatalogPayload
from .params import ScreeningParams

SAMPLE_S = 600.0
KIND = "co-located"


def _times(params: ScreeningParams) -> np.ndarray:
    t = np.arange(0.0, params.duration_s, SAMPLE_S)
    return np.append(t, params.duration_s)


def colocated_pairs(
    payload: CatalogPayload, params: ScreeningParams, r0: np.ndarray | None = None
) -> dict[tuple[int, int], tuple]:
    """{(i, j) payload indices, i < j: (min distance km, its time s, r1, v1, r2, v2)} for the pairs
    that stay within ``params.colocation_km`` at every sample of the window. ``r0``: every object's
    SGP4 position at the window start if already known (NaN where SGP4 failed; an incremental update
    has them kept: the same bits), so only the pairs' members are propagated."""
    from scipy.spatial import cKDTree

    from ..propagation.sgp4_batch import propagate_satrecs

    limit = params.colocation_km
    if limit <= 0 or len(payload) < 2:
        return {}
    t = _times(params)
    sats = None
    if r0 is None:
        sats = payload.satrecs()
        jd, fr = normalize_jd(np.full(1, params.start_jd), params.start_fr + t[:1] / SECONDS_PER_DAY)
        e, r, _ = propagate_satrecs(sats, jd, fr, payload.satrec_array())
        ok = np.flatnonzero(e[:, 0] == 0)
        r0 = r[:, 0]
    else:
        ok = np.flatnonzero(np.isfinite(r0).all(axis=1))
    if ok.size < 2:
        return {}
    pairs = cKDTree(r0[ok]).query_pairs(limit, output_type="ndarray")
    if pairs.size == 0:
        return {}
    a, b = ok[pairs[:, 0]], ok[pairs[:, 1]]
    if params.primaries:
        prim = np.isin(np.asarray(payload.norad_ids), np.asarray(params.primaries, dtype=np.int64))
        keep = prim[a] | prim[b]
        a, b = a[keep], b[keep]
    members = np.unique(np.concatenate([a, b]))
    if members.size == 0:
        return {}
    where = {int(m): k for k, m in enumerate(members)}
    jd, fr = normalize_jd(np.full(t.shape, params.start_jd), params.start_fr + t / SECONDS_PER_DAY)
    # only the members' records, unless the whole catalog's were built for the start positions
    member_sats = payload.subset(members).satrecs() if sats is None else [sats[int(m)] for m in members]
    e, r, v = propagate_satrecs(member_sats, jd, fr)
    ia = np.array([where[int(x)] for x in a])
    ib = np.array([where[int(x)] for x in b])
    d = np.linalg.norm(r[ib] - r[ia], axis=-1)  # (pairs, samples)
    good = np.all((e[ia] == 0) & (e[ib] == 0) & (d < limit), axis=1)
    out: dict[tuple[int, int], tuple] = {}
    for p in np.flatnonzero(good):
        k = int(np.argmin(d[p]))
        i, j = int(a[p]), int(b[p])
        ri, vi, rj, vj = r[ia[p], k], v[ia[p], k], r[ib[p], k], v[ib[p], k]
        if i > j:
            i, j, ri, vi, rj, vj = j, i, rj, vj, ri, vi
        out[(i, j)] = (float(d[p, k]), float(t[k]), ri, vi, rj, vj)
    return out


def groups(pairs: dict[tuple[int, int], tuple]) -> list[list[int]]:
    """Connected components (sorted payload indices) of the co-located pairs."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    comps: dict[int, list[int]] = {}
    for x in list(parent):
        comps.setdefault(find(x), []).append(x)
    return sorted(sorted(c) for c in comps.values())


def apply_colocation(
    events: list,
    payload: CatalogPayload,
    params: ScreeningParams,
    r0: np.ndarray | None = None,
    pairs: dict[tuple[int, int], tuple] | None = None,
) -> list:
    """``events`` without encounters inside a co-located group, plus one ``co-located`` row per
    member beyond the first of each group (``id1`` the group's lowest catalog number, since the
    payload is sorted by it); a row's miss distance and TCA are the closest sampled approach of
    the pair, or of a refined minimum of it when the screening found a closer one.

    ``r0``: as for :func:`colocated_pairs`. ``pairs``: :func:`colocated_pairs` of the same payload and
    params when the caller computed them already (they depend on the catalog and the window only, so
    the screening computes them while its chunks run); None computes them here."""
    from .events import _ORDER, ConjunctionEvent, _iso_many

    if pairs is None:
        pairs = colocated_pairs(payload, params, r0)
    if not pairs:
        return events
    comps = groups(pairs)
    group_of = {m: g for g, comp in enumerate(comps) for m in comp}
    ids = np.asarray(payload.norad_ids)
    index = {int(n): k for k, n in enumerate(ids)}
    members = {int(ids[m]) for m in group_of}  # catalog numbers are unique in the payload
    kept, inside = [], {}
    for ev in events:
        if ev.id1 in members and ev.id2 in members:
            i, j = index[ev.id1], index[ev.id2]
            if group_of[i] == group_of[j]:
                inside.setdefault((min(i, j), max(i, j)), []).append(ev)
                continue
        kept.append(ev)
    window = _iso_many(params, np.array([0.0, params.duration_s]))
    for comp in comps:
        first = comp[0]
        for m in comp[1:]:
            found = pairs.get((first, m))
            if found is None:  # in the group through others: its own closest sample
                # the two members' SGP4 records only (an update's catalog has not built all of them)
                found = _closest(*payload.subset(np.array([first, m])).satrecs(), params)
            miss, t, r1, v1, r2, v2 = found
            closer = [ev for ev in inside.get((first, m), []) if ev.miss_km < miss]
            rtn = rtn_basis(np.asarray(r1), np.asarray(v1)) @ (np.asarray(r2) - np.asarray(r1))
            speed = float(np.linalg.norm(np.asarray(v2) - np.asarray(v1)))
            if closer:
                best = min(closer, key=lambda ev: ev.miss_km)
                miss, t, speed, rtn = best.miss_km, best.tca_s, best.speed_km_s, (best.r_km, best.t_km, best.n_km)
            kept.append(
                ConjunctionEvent(
                    id1=int(ids[first]),
                    name1=payload.names[first],
                    id2=int(ids[m]),
                    name2=payload.names[m],
                    tca=_iso_many(params, np.array([t]))[0],
                    miss_km=float(miss),
                    speed_km_s=speed,
                    r_km=float(rtn[0]),
                    t_km=float(rtn[1]),
                    n_km=float(rtn[2]),
                    kind=KIND,
                    span_start=window[0],
                    span_end=window[1],
                    n_minima=len(inside.get((first, m), [])),
                    tca_s=float(t),
                )
            )
    kept.sort(key=_ORDER)
    return kept


def _closest(s1, s2, params: ScreeningParams) -> tuple:  # noqa: ANN001 - Satrec or EphemerisTrack
    t = _times(params)
    jd, fr = normalize_jd(np.full(t.shape, params.start_jd), params.start_fr + t / SECONDS_PER_DAY)
    _, r1, v1 = s1.sgp4_array(jd, fr)
    _, r2, v2 = s2.sgp4_array(jd, fr)
    d = np.linalg.norm(r2 - r1, axis=-1)
    k = int(np.nanargmin(d))
    return float(d[k]), float(t[k]), r1[k], v1[k], r2[k], v2[k]


__all__ = ["KIND", "SAMPLE_S", "apply_colocation", "colocated_pairs", "groups"]
