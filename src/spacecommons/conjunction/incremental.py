"""Incremental re-screening (issue #18, target 2). From the full run's kept node states
(``screen_changed``: only the changed objects propagated, screened against every object by
``kernels.broad_phase_changed``); without them, the changed objects screened as primaries against
only the objects, and only in the segments, that the orbit-geometry sieve (``sieve.py``) keeps.

Every per-object quantity of the screening engine (SGP4 states at the nodes, the velocity mismatch
and interpolation bound, the pad, the radial shell over the object's valid segments) depends on the
object alone, and SGP4 gives the same bits for one object and time whichever batch it runs in. So
the k x n broad phase over the kept objects and segments finds exactly the all-vs-all triples of
their pairs in those segments (the radial shell over fewer segments only drops triples without a
minimum below the narrow-phase limit, ``tests/test_screen_prefilter.py``). The sieve keeps every
segment within one node step of a time at which a pair may be within the threshold, and refinement
moves a TCA at most one step from its guess, so every refined minimum below the threshold of the
full run is found again, from the same guess: the events are identical. Objects whose node
velocities are repaired (``screen.REPAIR_MISMATCH_KM_S``) are propagated at every node of the
chunk, since their bound is measured over all its segments.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from ..constants import SECONDS_PER_DAY
from . import kernels
from .bounds import VELOCITY_SAMPLES, velocity_mismatch_km_s
from .catalog_payload import CatalogPayload
from .colocated import apply_colocation, colocated_pairs
from .events import ConjunctionEvents, build_events
from .params import ChunkResult, ScreeningParams
from .screen import (
    REPAIR_MISMATCH_KM_S,
    ScreeningResult,
    _bounds_and_pads,
    _broad_phase,
    _in_threads,
    _merge_chunk_reports,
    _node_times,
    _record_failures,
    _refine_minima,
    _split,
    _unique_triples,
)


def _propagate_needed(sats, jd: np.ndarray, fr: np.ndarray, need: np.ndarray):
    """SGP4 states at the nodes each object needs (``need``: (n, m) bool); -1 and NaN elsewhere.

    Objects needed at every node go through ``propagate_satrecs`` at once; the others get one call
    each of the C++ propagator that ``Satrec.sgp4_array`` makes (the same code and arguments as
    ``SatrecArray``, so the same bits), written into one flat buffer for all of them, and
    ``propagate_satrecs``'s check for non-physical states."""
    from sgp4.api import Satrec, accelerated

    # the C++ extension's in-place call behind ``sgp4_array`` (python-sgp4 2.23-2.27); any other build
    # takes ``sgp4_array`` itself, which gives the same bits
    in_place = accelerated and hasattr(Satrec, "_sgp4")

    from ..propagation.sgp4_batch import NONPHYSICAL, max_radius_km, nonphysical_states, propagate_satrecs

    n, m = need.shape
    err = np.full((n, m), -1, dtype=np.int64)
    r = np.full((n, m, 3), np.nan)
    v = np.full((n, m, 3), np.nan)
    plain = np.zeros(n, dtype=bool)
    r_max = np.full(n, np.inf)
    whole = need.all(axis=1)
    if whole.any():  # objects needed at every node: one SatrecArray call, checks included
        rows = np.flatnonzero(whole)
        err[rows], r[rows], v[rows] = propagate_satrecs([sats[i] for i in rows], jd, fr)
    rows = np.flatnonzero(need.any(axis=1) & ~whole)
    if rows.size:
        at, cols = np.nonzero(need[rows])  # row-major: each object's nodes in a run of the flat buffer
        bounds = np.searchsorted(at, np.arange(rows.size + 1)).tolist()
        jd_flat = np.ascontiguousarray(jd[cols], dtype=np.float64)
        fr_flat = np.ascontiguousarray(fr[cols], dtype=np.float64)
        e_flat = np.zeros(cols.size, dtype=np.uint8)
        r_flat = np.empty((cols.size, 3))
        v_flat = np.empty((cols.size, 3))
        err_flat = np.zeros(cols.size, dtype=np.int64)
        for k, i in enumerate(rows.tolist()):
            a, b = bounds[k], bounds[k + 1]
            s = sats[i]
            if isinstance(s, Satrec):
                if in_place:  # what sgp4_array does, into the buffer's slices
                    s._sgp4(jd_flat[a:b], fr_flat[a:b], e_flat[a:b], r_flat[a:b], v_flat[a:b])
                else:  # python-sgp4 without its C++ extension (or a build that renamed it)
                    e_flat[a:b], r_flat[a:b], v_flat[a:b] = s.sgp4_array(jd_flat[a:b], fr_flat[a:b])
                plain[i] = True
            else:
                e1, r1, v1 = propagate_satrecs([s], jd_flat[a:b], fr_flat[a:b])
                e_flat[a:b], r_flat[a:b], v_flat[a:b] = 0, r1[0], v1[0]
                err_flat[a:b] = e1[0]
        err[rows[at], cols] = np.where(err_flat != 0, err_flat, e_flat)
        r[rows[at], cols] = r_flat
        v[rows[at], cols] = v_flat
        sel = rows[plain[rows]]
        if sel.size:
            r_max[sel] = max_radius_km([sats[i] for i in sel])
    nonphysical = nonphysical_states(r, v, r_max)  # the checks of propagate_satrecs
    err = np.where((err == 0) & nonphysical & plain[:, None], NONPHYSICAL, err)
    bad = (err != 0) & (err != -1)
    r[bad] = np.nan
    v[bad] = np.nan
    return err, r, v


def screen_chunk_segments(job: tuple, params: ScreeningParams, index: int) -> ChunkResult:
    """``screen.screen_chunk`` for the primaries of ``params``, each object screened only in its
    segments ``job[1]`` ((n, n_segments) bool over the run's global node grid). ``job[2]``, if there:
    (n_chunks, n) velocity mismatch already known (the full run's, NaN where not), used instead of
    sampling SGP4 again (the same numbers: per object, SGP4 gives the same bits in any batch); the
    result's ``mismatch`` holds the known and the computed values (NaN: neither). Pure function."""
    payload, segments = job[0], job[1]
    known = job[2][index] if len(job) > 2 and job[2] is not None else np.full(len(payload), np.nan)
    k0, k1 = params.chunks()[index]
    res = ChunkResult(index=index)
    sats = payload.satrecs()
    n = len(sats)
    clock = time.perf_counter()
    t_nodes, jd, fr = _node_times(params, k0, k1)
    samples = params.start_fr + np.linspace(t_nodes[0], t_nodes[-1], VELOCITY_SAMPLES) / SECONDS_PER_DAY
    seg = segments[:, k0:k1]
    # the mismatch only of objects screened in this chunk: the others have no state here, so their
    # bound and pad are never read (the broad phase's cell size, a median, only sets its hashing)
    active = seg.any(axis=1)
    todo = np.flatnonzero(active & np.isnan(known))
    if todo.size == n:
        computed = velocity_mismatch_km_s(sats, payload.satrec_array(), params.start_jd, samples)
    else:
        computed = np.full(n, np.nan)
        if todo.size:
            computed[todo] = velocity_mismatch_km_s([sats[i] for i in todo], None, params.start_jd, samples)
    res.mismatch = np.where(np.isnan(known), computed, known)
    mismatch = np.where(active, res.mismatch, 0.0)
    res.stats["mismatch_reused"] = float(np.count_nonzero(active & ~np.isnan(known)))
    res.stats["mismatch_computed"] = float(todo.size)
    need = np.zeros((n, k1 - k0 + 1), dtype=bool)
    need[:, :-1] |= seg
    need[:, 1:] |= seg
    need[(mismatch > REPAIR_MISMATCH_KM_S) & seg.any(axis=1)] = True  # their bound needs every node
    err, r, v = _propagate_needed(sats, jd, fr, need)
    ok = err == 0
    _record_failures(res, payload, err, ok)
    res.stats["propagation_s"] = time.perf_counter() - clock
    res.stats["states"] = float(need.sum())

    clock = time.perf_counter()
    bound, pad, cell = _bounds_and_pads(res, payload, params, jd, fr, ok, r, v, mismatch)
    primary = np.isin(np.asarray(payload.norad_ids), np.asarray(params.primaries, dtype=np.int64))
    res.stats["bounds_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    # the chunk's broad phase as screen_chunk runs it (k x n: the params' primaries), in this process
    shells = (
        np.stack(kernels.radial_shells(r, v, ok, params.step_s, params.substeps, pad)) if params.radial_filter else None
    )
    ci, cj, ck = _unique_triples(*_broad_phase(r, v, ok, params, pad, cell, np.flatnonzero(primary), shells, 1), n)
    res.stats["broad_phase_s"] = time.perf_counter() - clock
    res.stats["candidate_segments"] = float(ci.size)

    mc, ms = _narrow_phase(res, params, r, v, bound, ci, cj, ck)
    _refine_minima(res, sats, params, t_nodes, ci, cj, ck, mc, ms)
    return res


def _narrow_phase(res: ChunkResult, params: ScreeningParams, r, v, bound, ci, cj, ck) -> tuple[np.ndarray, np.ndarray]:
    """The engine's narrow phase on the candidate triples (their interpolated minima below the
    threshold plus both objects' error bounds), timed into ``res.stats``."""
    clock = time.perf_counter()
    limit = params.threshold_km + bound[ci] + bound[cj]
    mc, ms, _md = kernels.local_minima(r, v, params.step_s, ci, cj, ck, limit)
    res.stats["narrow_phase_s"] = time.perf_counter() - clock
    res.stats["interpolated_minima"] = float(mc.size)
    return mc, ms


def screen_segments(
    payload: CatalogPayload,
    params: ScreeningParams,
    segments: np.ndarray,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    mismatch: np.ndarray | None = None,
) -> ScreeningResult:
    """Screen the primaries of ``params`` against ``payload``, object i only in the segments
    ``segments[i]``, and merge the minima into events as ``screen.screen`` does, each pair oriented
    as an all-vs-all run orients it (``id1`` the lower catalog number). ``mismatch``: (n_chunks, n)
    velocity mismatch already known (NaN where not); the values the chunks compute are written into
    it (so the caller can keep them for the next update)."""
    from ..parallel import map_chunks

    wall = time.perf_counter()
    done: dict[int, ChunkResult] = {}

    def collect(result: ChunkResult) -> None:
        done[result.index] = result
        if mismatch is not None and result.mismatch is not None:
            mismatch[result.index] = result.mismatch

    indices = list(range(len(params.chunks())))
    job = (payload, segments, mismatch)
    map_chunks(screen_chunk_segments, job, params, indices, collect, workers=workers, dask_address=dask_address)
    chunks = [done[i] for i in sorted(done)]
    failures, stats = _merge_chunk_reports(chunks)
    clock = time.perf_counter()
    # oriented as in an all-vs-all run (id1 the lower catalog number), not primary first: these
    # events replace the stored run's
    events = build_events(payload, replace(params, primaries=()), chunks)
    events = ConjunctionEvents(apply_colocation(events, payload, params))
    stats["merge_s"] = time.perf_counter() - clock
    stats["wall_s"] = time.perf_counter() - wall
    stats["objects"] = float(len(payload))
    stats["events"] = float(len(events))
    return ScreeningResult(events, failures, stats)


# Slab width (km) of the axis slabs of the changed objects' segment boxes in ``kernels.broad_phase_changed``:
# 150 to 500 km were equal on the 2022 catalog (benchmarks/README.md, section X), 2,000 km 17 % slower.
CHANGED_CELL_KM = 250.0


def _merge_rows(kept: dict, old_pos: np.ndarray | None, n: int) -> dict:
    """The kept arrays of one chunk in the merged catalog's order: the copy-on-write maps themselves when
    the catalog's objects did not change (``old_pos`` None), else new arrays with the old rows placed."""
    if old_pos is None:
        return {name: np.asarray(a) for name, a in kept.items()}
    out = {}
    for name, a in kept.items():
        if name == "shells":
            b = np.full((2, n), np.nan)
            b[:, old_pos] = a
        else:
            b = np.zeros((n, *a.shape[1:]), dtype=a.dtype)
            if a.dtype != np.bool_:
                b[:] = np.nan
            b[old_pos] = a
        out[name] = b
    return out


@dataclass
class _ChangedChunk:
    """One chunk of an incremental update between its stages: its result so far, node times, the
    arrays of every object with the changed objects' rows replaced, the pads and the shell partners
    of the k x n broad phase."""

    index: int
    res: ChunkResult
    t_nodes: np.ndarray
    arrays: dict
    pad: np.ndarray
    partners: tuple


def _prepare_changed(
    merged: CatalogPayload, params: ScreeningParams, index: int, changed: np.ndarray, arrays: dict
) -> _ChangedChunk:
    """Chunk ``index``'s changed objects (sorted positions in ``merged``) propagated and their rows of
    ``arrays`` (r, v, ok, bound, shells of every object of ``merged``, in its order: the full run's kept
    states) replaced, as ``screen.screen_chunk`` would compute them: every quantity is per object, and
    SGP4 gives an object the same bits in any batch. ``res.mismatch`` holds the changed objects'
    velocity mismatch (NaN elsewhere)."""
    from ..propagation.sgp4_batch import propagate_satrecs

    k0, k1 = params.chunks()[index]
    res = ChunkResult(index=index)
    n = len(merged)
    clock = time.perf_counter()
    sub = merged.subset(changed)
    t_nodes, jd, fr = _node_times(params, k0, k1)
    err, rc, vc = propagate_satrecs(sub.satrecs(), jd, fr, sub.satrec_array())
    okc = err == 0
    _record_failures(res, sub, err, okc)
    res.stats["propagation_s"] = time.perf_counter() - clock
    res.stats["states"] = float(okc.size)

    clock = time.perf_counter()
    samples = params.start_fr + np.linspace(t_nodes[0], t_nodes[-1], VELOCITY_SAMPLES) / SECONDS_PER_DAY
    mismatch = velocity_mismatch_km_s(sub.satrecs(), sub.satrec_array(), params.start_jd, samples)
    res.mismatch = np.full(n, np.nan)
    res.mismatch[changed] = mismatch
    bound_c, pad_c, _ = _bounds_and_pads(res, sub, params, jd, fr, okc, rc, vc, mismatch)
    r, v, ok, bound, shells = (arrays[name] for name in ("r", "v", "ok", "bound", "shells"))
    r[changed], v[changed], ok[changed], bound[changed] = rc, vc, okc, bound_c
    shells[:, changed] = np.stack(kernels.radial_shells(rc, vc, okc, params.step_s, params.substeps, pad_c))
    pad = bound + 0.5 * params.threshold_km
    partners = kernels.shell_partners(n, changed, shells[0], shells[1])  # once, for every thread
    res.stats["bounds_s"] = time.perf_counter() - clock
    return _ChangedChunk(index, res, t_nodes, arrays, pad, partners)


def _broad_changed(chunk: _ChangedChunk, params: ScreeningParams, changed: np.ndarray, threads: int) -> tuple:
    """The candidate triples of a prepared chunk: its changed objects against every object
    (``kernels.broad_phase_changed_partners``), the segments split among ``threads`` threads (segments
    are independent: the same triples)."""
    a = chunk.arrays
    n_seg = a["r"].shape[1] - 1
    clock = time.perf_counter()

    def run(k_first: int, k_end: int):
        return kernels.broad_phase_changed_partners(
            a["r"], a["v"], a["ok"], params.step_s, params.substeps, chunk.pad, changed, chunk.partners,
            CHANGED_CELL_KM, k_first, k_end,
        )  # fmt: skip

    parts = _in_threads(run, _split(n_seg, threads), threads)
    triples = _unique_triples(*(np.concatenate([p[c] for p in parts]) for c in range(3)), a["r"].shape[0])
    chunk.res.stats["broad_phase_s"] = time.perf_counter() - clock
    chunk.res.stats["candidate_segments"] = float(triples[0].size)
    return triples


def _finish_changed(chunk: _ChangedChunk, merged: CatalogPayload, params: ScreeningParams, triples) -> ChunkResult:
    """The narrow phase and the SGP4 refinement of a chunk's candidate triples (as ``screen_chunk``)."""
    ci, cj, ck = triples
    a = chunk.arrays
    mc, ms = _narrow_phase(chunk.res, params, a["r"], a["v"], a["bound"], ci, cj, ck)
    # SGP4 records only of the objects refined (building all of them costs ~0.4 s for 24k objects)
    involved = np.unique(np.concatenate([ci[mc], cj[mc]]))
    sats = dict(zip(involved.tolist(), merged.subset(involved).satrecs(), strict=True))
    _refine_minima(chunk.res, sats, params, chunk.t_nodes, ci, cj, ck, mc, ms)
    return chunk.res


def preload_kernels() -> None:
    """Load the compiled kernels that :func:`screen_changed` calls (numba's on-disk cache: 0.01-0.035 s
    each, ~0.1 s in all for a process's first update) by calling each once on a one-object input of the
    argument types ``screen_changed`` passes, so that a caller can overlap the loading with its own
    first steps (``workflows.screening.update_run`` runs it in a thread while it reads the run: much of
    the loading is LLVM work outside the GIL). Computes nothing else; safe to call again (then free)."""
    r = np.zeros((1, 2, 3))
    ok = np.ones((1, 2), dtype=np.bool_)
    pad = np.zeros(1)
    prim = np.zeros(1, dtype=np.intp)  # np.flatnonzero's positions
    lo, hi = kernels.radial_shells(r, r, ok, 60.0, 2, pad)
    partners = kernels.shell_partners(1, prim, lo, hi)
    kernels.broad_phase_changed_partners(r, r, ok, 60.0, 2, pad, prim, partners, CHANGED_CELL_KM, 0, 1)
    none = np.zeros(0, dtype=np.int64)
    kernels.local_minima(r, r, 60.0, none, none, none, np.zeros(0))


def screen_changed(
    merged: CatalogPayload,
    params: ScreeningParams,
    changed: np.ndarray,
    kept: dict,
    old_pos: np.ndarray | None,
    threads: int = 1,
) -> tuple[ScreeningResult, dict]:
    """Re-screen the ``changed`` objects (sorted positions in ``merged``) against the whole catalog from
    a full run's kept states (``kept``: {chunk: arrays in the run's old catalog order}; ``old_pos``: the
    old objects' positions in ``merged``, None when the objects are the same), in this process, and
    merge the minima into events as ``screen_segments`` does (oriented as an all-vs-all run). Returns the
    result and the merged arrays per chunk (what the run keeps next). Pure function of its arguments
    (the arrays are updated in place)."""
    from concurrent.futures import ThreadPoolExecutor

    wall = time.perf_counter()
    n_chunks = len(params.chunks())
    merged_arrays = {index: _merge_rows(kept[index], old_pos, len(merged)) for index in range(n_chunks)}
    # Pipelined: while chunk c's broad phase runs on its threads (compiled, outside the GIL), this thread
    # prepares chunk c + 1 (propagation, bounds) and finishes chunk c - 1 (narrow phase, refinement), and
    # during the first one finds the co-located pairs: otherwise a core would be idle. Each stage reads
    # only its own chunk's arrays, and its SGP4 records are its own: the same results as one chunk after
    # another.
    chunks: list[ChunkResult] = []
    upcoming = _prepare_changed(merged, params, 0, changed, merged_arrays[0])
    # co-located groups only of pairs with a changed object (as screen_segments, whose params have them
    # as primaries): the others' groups are stored already
    updated = tuple(merged.norad_ids[i] for i in changed.tolist())
    with_primaries = replace(params, primaries=updated)
    # the window start's positions are the first node's of the first chunk (the same SGP4 bits)
    r0 = merged_arrays[0]["r"][:, 0]
    done = None  # the previous chunk and its triples, to finish
    with ThreadPoolExecutor(1, thread_name_prefix="broad-phase") as pool:
        for index in range(n_chunks):
            current = upcoming
            triples = pool.submit(_broad_changed, current, params, changed, threads)
            if index + 1 < n_chunks:
                upcoming = _prepare_changed(merged, params, index + 1, changed, merged_arrays[index + 1])
            if index == 0:  # they depend on the catalog and the window only: found during the broad phase
                colocated = colocated_pairs(merged, with_primaries, r0)
            if done is not None:
                chunks.append(_finish_changed(done[0], merged, params, done[1]))
            done = (current, triples.result())
    chunks.append(_finish_changed(done[0], merged, params, done[1]))
    failures, stats = _merge_chunk_reports(chunks)
    clock = time.perf_counter()
    # the events from the objects with a minimum only (build_events reads their SGP4 records; building
    # all 24k costs ~0.4 s): a sorted subset keeps the order of the minima and the events' orientation
    involved = sorted({x for c in chunks for x in (*c.i, *c.j)})
    where = {x: k for k, x in enumerate(involved)}
    renumbered = [
        ChunkResult(c.index, [where[x] for x in c.i], [where[x] for x in c.j], c.t, c.miss_km, c.states) for c in chunks
    ]
    events = build_events(merged.subset(involved), replace(params, primaries=()), renumbered)
    events = ConjunctionEvents(apply_colocation(events, merged, with_primaries, pairs=colocated))
    stats["merge_s"] = time.perf_counter() - clock
    stats["wall_s"] = time.perf_counter() - wall
    stats["objects"] = float(len(merged))
    stats["events"] = float(len(events))
    mismatch = {c.index: c.mismatch for c in chunks}
    return ScreeningResult(events, failures, stats), {"arrays": merged_arrays, "mismatch": mismatch}


__all__ = ["CHANGED_CELL_KM", "preload_kernels", "screen_changed", "screen_chunk_segments", "screen_segments"]
