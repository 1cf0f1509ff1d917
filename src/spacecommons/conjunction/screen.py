"""All-vs-all (or primaries-vs-all) screening of a catalog over a time window.

Pipeline per time chunk (independent, so chunks run on any executor and merge identically):
SGP4 states at nodes every ``step_s`` -> cubic Hermite segments -> Bezier-box broad phase
padded by threshold/2 plus each object's interpolation-error bound -> every local minimum of
the interpolated distance below threshold + both bounds -> TCA refined on true SGP4 -> kept
when the true miss distance is below the threshold. Minima of one pair that stay below the
threshold between them are then merged into one proximity span.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..catalog.elements import ElementSet
from ..constants import SECONDS_PER_DAY
from ..timescales import normalize_jd
from . import kernels
from .bounds import DIFF_STEP_S, VELOCITY_SAMPLES, segment_error_bounds_km, velocity_mismatch_km_s
from .catalog_payload import MIN_PERIGEE_ALT_KM, CatalogPayload
from .colocated import apply_colocation, colocated_pairs
from .events import ConjunctionEvents, build_events, paused_gc
from .params import DEFAULT_CHUNK_DAYS, DEFAULT_STEP_S, DEFAULT_SUBSTEPS, ChunkResult, ScreeningParams, iter_minima
from .refine import refine_tca

# Bounds are ~0.4 km (median) to ~2 km (99th percentile) over the 2022 catalog at 300 s steps;
# far beyond that SGP4 itself is producing garbage for the element set.
MAX_BOUND_KM = 25.0
# Above this SGP4 velocity/position mismatch (1% of the 2022 catalog: decaying and very
# eccentric orbits) node velocities are replaced by central differences of SGP4 positions.
REPAIR_MISMATCH_KM_S = 0.005


@dataclass(frozen=True)
class ScreeningResult:
    events: ConjunctionEvents
    failures: dict[int, str]
    stats: dict[str, float]


def _node_times(params: ScreeningParams, k0: int, k1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(k0, k1 + 1) * params.step_s
    jd, fr = normalize_jd(np.full(t.shape, params.start_jd), params.start_fr + t / SECONDS_PER_DAY)
    return t, jd, fr


def _repair_velocities(sats, jd, fr, ok, r, v, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Node velocities from central differences of SGP4 positions, and each object's measured
    Hermite error at the segment midpoints with them (km)."""
    from ..propagation.sgp4_batch import propagate_satrecs

    if not sats:
        return v, np.zeros(0)
    d = DIFF_STEP_S / SECONDS_PER_DAY
    mid = 0.5 * (fr[:-1] + fr[1:]) + 0.5 * (jd[1:] - jd[:-1])
    jds = np.concatenate([jd, jd, jd[:-1]])
    frs = np.concatenate([fr + d, fr - d, mid])
    err, rr, _ = propagate_satrecs(sats, jds, frs)
    m = jd.size
    plus, minus, at_mid = rr[:, :m], rr[:, m : 2 * m], rr[:, 2 * m :]
    good = ok & (err[:, :m] == 0) & (err[:, m : 2 * m] == 0)
    v = np.where(good[..., None], (plus - minus) / (2.0 * DIFF_STEP_S), v)
    p0, p1, v0, v1 = r[:, :-1], r[:, 1:], v[:, :-1], v[:, 1:]
    interp = 0.5 * (p0 + p1) + step_s / 8.0 * (v0 - v1)  # cubic Hermite at s = 1/2
    miss = np.linalg.norm(interp - at_mid, axis=-1)
    seg_ok = good[:, :-1] & good[:, 1:] & (err[:, 2 * m :] == 0)
    return v, np.where(seg_ok, miss, 0.0).max(axis=1)


def _in_threads(fn: Callable, parts: list[tuple], threads: int) -> list:
    """``fn(*part)`` for each part, on up to ``threads`` threads (the compiled kernels release the GIL)."""
    if threads <= 1 or len(parts) <= 1:
        return [fn(*part) for part in parts]
    with ThreadPoolExecutor(min(threads, len(parts))) as pool:
        return list(pool.map(lambda part: fn(*part), parts))


def _split(total: int, threads: int) -> list[tuple[int, int]]:
    """``[0, total)`` cut into ``threads`` contiguous ranges of about equal length (none empty)."""
    edges = np.unique(np.linspace(0, total, max(1, threads) + 1).round().astype(np.int64))
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _broad_phase(r, v, ok, params: ScreeningParams, pad, cell: float, prim, shells, threads: int):
    """Candidate triples of the chunk. ``shells``: (2, n) the chunk's radial shells (lower, upper;
    ``kernels.radial_shells``), computed once and read by every call, or None (no radial filter).
    All-vs-all: the segments split among ``threads`` threads (segments are independent and every
    thread reads the whole chunk's shells, so the triples are those of one call); with primaries one
    call (the k x n kernel is cheap)."""
    n_seg = r.shape[1] - 1
    use_primary = bool(params.primaries)
    ranges = [(0, n_seg)] if use_primary else _split(n_seg, threads)
    if shells is None:
        shells = np.stack([np.full(r.shape[0], -np.inf), np.full(r.shape[0], np.inf)])
    lo, hi = shells[0], shells[1]

    def run(k_first: int, k_end: int):
        return kernels.screen_broad_phase(
            r, v, ok, params.step_s, params.substeps, pad, cell, prim, use_primary, lo, hi, k_first, k_end
        )

    parts = _in_threads(run, ranges, threads)
    return tuple(np.concatenate([p[c] for p in parts]) for c in range(3))


def _local_minima(r, v, step_s: float, ci, cj, ck, limit, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """(candidate index, s) of every interpolated minimum below ``limit``; the candidates split
    among ``threads`` threads, the minima in candidate order as from one call."""
    ranges = _split(ci.size, threads) if ci.size else [(0, 0)]

    def run(a: int, b: int):
        mc, ms, _ = kernels.local_minima(r, v, step_s, ci[a:b], cj[a:b], ck[a:b], limit[a:b])
        return mc + a, ms

    parts = _in_threads(run, ranges, threads)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _record_failures(res: ChunkResult, payload: CatalogPayload, err: np.ndarray, ok: np.ndarray) -> None:
    """Objects that cannot be screened, one reason each, the most fundamental first: re-entered
    (``ok`` cleared), then their first SGP4 error (``err`` -1 marks a node not propagated)."""
    from ..propagation.sgp4_batch import SGP4_ERRORS

    for i in np.flatnonzero(payload.reentered()):
        ok[i] = False
        res.failures[int(payload.norad_ids[i])] = (
            f"mean perigee below {MIN_PERIGEE_ALT_KM:g} km altitude: reentered or invalid elements; not screened"
        )
    bad = (err != 0) & (err != -1)
    for i in np.flatnonzero(bad.any(axis=1)):
        code = int(err[i][bad[i]][0])
        res.failures.setdefault(int(payload.norad_ids[i]), f"SGP4 error {code}: {SGP4_ERRORS.get(code, '?')}")


def _bounds_and_pads(res: ChunkResult, payload: CatalogPayload, params: ScreeningParams, jd, fr, ok, r, v, mismatch):
    """Each object's interpolation-error bound (km), its box pad and the broad phase's cell size.

    Node velocities of objects whose SGP4 velocity disagrees with its position (``mismatch`` above
    ``REPAIR_MISMATCH_KM_S``) are replaced in ``v`` by central differences; objects whose bound shows
    erratic SGP4 output get ``ok`` cleared and a reason in ``res.failures``."""
    sats = payload.satrecs()
    a_km, ecc = payload.orbit_shape()
    fix = np.flatnonzero((mismatch > REPAIR_MISMATCH_KM_S) & ok.any(axis=1))
    v[fix], measured = _repair_velocities([sats[i] for i in fix], jd, fr, ok[fix], r[fix], v[fix], params.step_s)
    mismatch = mismatch.copy()
    mismatch[fix] = 0.0
    bound = segment_error_bounds_km(a_km, ecc, payload.deep_space(), mismatch, params.step_s)
    bound[fix] = np.maximum(bound[fix], 2.0 * measured)
    res.stats["velocities_repaired"] = float(fix.size)
    for i in np.flatnonzero(bound > MAX_BOUND_KM):
        ok[i] = False
        res.failures.setdefault(
            int(payload.norad_ids[i]),
            (
                f"SGP4 output is erratic here (interpolation-error bound {bound[i]:.0f} km: its velocity "
                "disagrees with the derivative of its position); element set invalid; not screened"
            ),
        )
    pad = bound + 0.5 * params.threshold_km
    vmax = np.minimum(payload.max_speeds_km_s(), 11.0)
    # A cell about the size of a typical LEO sub-segment box keeps each box in a few cells.
    cell = float(2.8 * np.median(vmax) * params.step_s / params.substeps + 2.0 * np.median(pad))
    return bound, pad, cell


def _unique_triples(ci, cj, ck, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate (i, j, segment) triples without repeats, sorted by segment then pair."""
    key = np.sort((ck * n + ci) * n + cj)
    key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key
    ck, rest = np.divmod(key, n * n)
    ci, cj = np.divmod(rest, n)
    return ci, cj, ck


def _refine_minima(res: ChunkResult, sats, params: ScreeningParams, t_nodes, ci, cj, ck, mc, ms) -> None:
    """Refine each interpolated minimum on true SGP4 and keep those below the threshold inside the
    window (into ``res``)."""
    clock = time.perf_counter()
    end_s = params.duration_s
    for c, s in zip(mc.tolist(), ms.tolist(), strict=True):
        i, j, k = int(ci[c]), int(cj[c]), int(ck[c])
        t_guess = t_nodes[k] + s * params.step_s
        out = refine_tca(sats[i], sats[j], params.start_jd, params.start_fr, t_guess, params.step_s)
        if out is None:
            continue
        t, miss, r1, v1, r2, v2 = out
        if miss >= params.threshold_km or not 0.0 <= t < end_s:
            continue
        res.i.append(i)
        res.j.append(j)
        res.t.append(t)
        res.miss_km.append(miss)
        res.states.append([*r1, *v1, *r2, *v2])
    res.stats["refinement_s"] = time.perf_counter() - clock


def _merge_chunk_reports(chunks: list[ChunkResult]) -> tuple[dict[int, str], dict[str, float]]:
    """Failures (first reason per object) and summed stage statistics of the chunks."""
    failures: dict[int, str] = {}
    stats: dict[str, float] = {}
    for ch in chunks:
        for nid, msg in ch.failures.items():
            failures.setdefault(nid, msg)
        for key, value in ch.stats.items():
            stats[key] = stats.get(key, 0.0) + value
    return failures, stats


def screen_chunk(
    payload: CatalogPayload, params: ScreeningParams, index: int, threads: int = 1, keep_nodes: bool = False
) -> ChunkResult:
    """Screen one chunk of the window. Pure function of its arguments; ``threads`` (the compiled
    broad and narrow phases on that many threads) changes the time it takes, not the result.
    ``keep_nodes``: also return the node states, bounds and radial shells in ``ChunkResult.nodes``
    (kept with a stored run for its incremental updates)."""
    from ..propagation.sgp4_batch import propagate_satrecs

    k0, k1 = params.chunks()[index]
    res = ChunkResult(index=index)
    sats = payload.satrecs()
    n = len(sats)
    clock = time.perf_counter()
    t_nodes, jd, fr = _node_times(params, k0, k1)
    err, r, v = propagate_satrecs(sats, jd, fr, payload.satrec_array())
    ok = err == 0  # propagate_satrecs marks non-finite and non-physical states as errors
    _record_failures(res, payload, err, ok)
    # failed states stay NaN: the kernels never read a node whose `ok` is False
    res.stats["propagation_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    samples = params.start_fr + np.linspace(t_nodes[0], t_nodes[-1], VELOCITY_SAMPLES) / SECONDS_PER_DAY
    mismatch = velocity_mismatch_km_s(sats, payload.satrec_array(), params.start_jd, samples)
    res.mismatch = mismatch  # kept with the run for incremental updates (_bounds_and_pads copies it)
    bound, pad, cell = _bounds_and_pads(res, payload, params, jd, fr, ok, r, v, mismatch)
    primary = np.isin(np.asarray(payload.norad_ids), np.asarray(params.primaries, dtype=np.int64))
    res.stats["bounds_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    shells = None  # once per chunk: every broad-phase thread and the kept nodes read these
    if params.radial_filter or keep_nodes:
        shells = np.stack(kernels.radial_shells(r, v, ok, params.step_s, params.substeps, pad))
    # with primaries, k x n: only the primaries are hashed and every object looks them up
    prim = np.flatnonzero(primary)
    filtered = shells if params.radial_filter else None
    ci, cj, ck = _unique_triples(*_broad_phase(r, v, ok, params, pad, cell, prim, filtered, threads), n)
    res.stats["broad_phase_s"] = time.perf_counter() - clock
    res.stats["candidate_segments"] = float(ci.size)
    if keep_nodes:  # what an incremental update reuses (conjunction.incremental.screen_changed)
        res.nodes = {"r": r, "v": v, "ok": ok, "bound": bound, "shells": shells}

    clock = time.perf_counter()
    limit = params.threshold_km + bound[ci] + bound[cj]
    mc, ms = _local_minima(r, v, params.step_s, ci, cj, ck, limit, threads)
    res.stats["narrow_phase_s"] = time.perf_counter() - clock
    res.stats["interpolated_minima"] = float(mc.size)
    _refine_minima(res, sats, params, t_nodes, ci, cj, ck, mc, ms)
    return res


def _merge_inputs(payload: CatalogPayload, params: ScreeningParams) -> dict[tuple[int, int], tuple]:
    """The catalog's SGP4 records (cached on the payload for the merge) and its co-located pairs."""
    payload.satrecs()
    return colocated_pairs(payload, params)


class _Background:
    """``fn(*args)`` on a daemon thread; ``result()`` waits for it and returns (or raises) its outcome.
    Not waited for when the caller stops early (cancel, Ctrl-C): it ends with the process."""

    def __init__(self, fn: Callable, *args) -> None:
        self._out: list = []
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True, name="screen-merge-inputs")
        self._thread.start()

    def _run(self, fn: Callable, args: tuple) -> None:
        try:
            self._out.append((True, fn(*args)))
        except BaseException as exc:  # handed to the caller by result()
            self._out.append((False, exc))

    def result(self):
        self._thread.join()
        ok, value = self._out[0]
        if not ok:
            raise value
        return value


def screen(
    elements: list[ElementSet] | CatalogPayload,
    params: ScreeningParams,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    completed: dict[int, ChunkResult] | None = None,
    on_chunk: Callable[[ChunkResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    threads: int = 1,
    keep_nodes: bool = False,
) -> ScreeningResult:
    """Screen the catalog; chunks already in ``completed`` are not recomputed (resume).
    ``keep_nodes``: each chunk's result carries its node states (``screen_chunk``) to ``on_chunk``.

    ``threads``: threads per chunk for the compiled broad and narrow phases (give the cores that
    the worker processes leave idle, e.g. 2 for one chunk on 2 cores); the events do not depend on it."""
    from ..parallel import map_chunks, runs_in_process

    payload = elements if isinstance(elements, CatalogPayload) else CatalogPayload.from_elements(elements)
    wall = time.perf_counter()
    done: dict[int, ChunkResult] = dict(completed or {})
    todo = [i for i in range(len(params.chunks())) if i not in done]
    total = len(params.chunks())
    if progress:
        progress(len(done), total)

    def collect(result: ChunkResult) -> None:
        done[result.index] = result
        if on_chunk:
            on_chunk(result)
        if progress:
            progress(len(done), total)

    fn = (
        screen_chunk
        if threads <= 1 and not keep_nodes
        else partial(screen_chunk, threads=threads, keep_nodes=keep_nodes)
    )
    # While other processes run the chunks, this one builds what the merge needs from the catalog
    # alone (SGP4 records, co-located pairs); in-process chunks build the records themselves.
    early = None if runs_in_process(workers, len(todo), dask_address) else _Background(_merge_inputs, payload, params)
    map_chunks(fn, payload, params, todo, collect, workers=workers, dask_address=dask_address)
    chunks = [done[i] for i in sorted(done)]
    failures, stats = _merge_chunk_reports(chunks)
    clock = time.perf_counter()
    pairs = early.result() if early is not None else None
    with paused_gc():
        events = build_events(payload, params, chunks)
        events = ConjunctionEvents(apply_colocation(events, payload, params, pairs=pairs))
    stats["merge_s"] = time.perf_counter() - clock
    stats["wall_s"] = time.perf_counter() - wall
    stats["objects"] = float(len(payload))
    stats["events"] = float(len(events))
    return ScreeningResult(events, failures, stats)


__all__ = [
    "DEFAULT_CHUNK_DAYS",
    "DEFAULT_STEP_S",
    "DEFAULT_SUBSTEPS",
    "ChunkResult",
    "ScreeningParams",
    "ScreeningResult",
    "iter_minima",
    "screen",
    "screen_chunk",
]
