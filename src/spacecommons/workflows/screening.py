"""One screening run, stored: create or resume it, save each chunk as it finishes, report
progress, honour a cancel flag, record failure or interruption, and finish (events + alerts).

The CLI passes a progress callback that draws a bar; the service runs it in a background
thread with a cancel flag. Both go through :func:`run_screening`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from ..conjunction.catalog_payload import CatalogPayload
from ..conjunction.events import paused_gc
from ..conjunction.params import ChunkResult, ScreeningParams
from ..conjunction.screen import ScreeningResult, screen
from ..storage import screening_repo as repo
from ..timescales import as_utc
from .alerts import evaluate_run
from .clock import Clock

CANCELLED = "cancelled through the API"
# An update whose sieve keeps more than this share of the catalog's (object, segment) states runs on
# the caller's worker processes; below it, in this process (a spawned worker takes seconds to start).
PARALLEL_FRACTION = 0.25
# The orbit-geometry sieve runs when at most this share of the catalog changed and the window is at
# most SIEVE_MAX_DAYS long: its cost grows with (changed x catalog) pairs and the window, what it keeps
# with the changed objects and the window. Measured on the 2022 catalog (benchmarks/sieve_policy.py,
# benchmarks/README.md): 6 h, 1% changed 1.22x faster by CPU, 2% 0.83x (slower); 1 day, 1% 1.25x;
# 7 days, 1%: it keeps every state and costs 35 CPU s.
SIEVE_MAX_CHANGED = 0.015
SIEVE_MAX_DAYS = 1.0


class Cancelled(Exception):
    """Raised inside the screening loop when the cancel flag is set."""


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: ``status`` is ``done`` (with ``result``) or ``cancelled`` (``result`` None)."""

    run_id: int
    status: str
    result: ScreeningResult | None


def create_run(
    session: Session,
    payload: CatalogPayload,
    params: ScreeningParams,
    now: datetime,
    *,
    owner_partner_id: int | None = None,
    visibility: str | None = None,
) -> int:
    """A new run in status ``running`` (inside the caller's transaction); returns its id."""
    run_id = repo.create_run(session, params, payload, as_utc(now))
    if owner_partner_id is not None or visibility is not None:
        repo.set_owner(session, run_id, owner_partner_id, visibility)
    return run_id


def run_screening(
    session_maker: sessionmaker,
    payload: CatalogPayload,
    params: ScreeningParams,
    clock: Clock,
    *,
    run_id: int | None = None,
    completed: dict[int, ChunkResult] | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    cancel_message: str = CANCELLED,
    threads: int = 1,
    keep: bool = True,
) -> RunOutcome:
    """Run (or resume: ``run_id`` and its ``completed`` chunks) a stored screening run.

    ``keep``: keep the chunks' node states beside the database for incremental updates
    (``storage.kept_states``: where the database allows it and within the size cap).

    Each finished chunk is committed at once, so an interrupted run resumes where it stopped.
    ``cancel()`` is asked after every chunk; when it answers True the run ends ``cancelled``.
    ``KeyboardInterrupt`` marks the run ``interrupted`` and any other exception ``failed``
    (with the exception's text); both are re-raised after the status is stored. ``threads``: per
    chunk, for the compiled kernels (:func:`~spacecommons.conjunction.screen.screen`).

    The result's ``stats`` gain ``save_chunks_s`` (committing each finished chunk) and ``store_s``
    (storing the events and raising alerts), measured here; they are not in the stored stats.
    """
    import time

    if keep:  # a mistyped size setting is an error before the run exists, not a run that failed
        from ..storage import kept_states

        kept_states.max_bytes(), kept_states.total_bytes()
    if run_id is None:
        with session_maker.begin() as session:
            run_id = create_run(session, payload, params, clock())

    saving = [0.0]
    writer = _kept_writer(session_maker, run_id, params, payload) if keep else None

    def save(chunk: ChunkResult) -> None:
        clock = time.perf_counter()
        with session_maker.begin() as session:
            repo.save_chunk(session, run_id, chunk)
            if chunk.mismatch is not None:  # kept for incremental updates (update_run)
                repo.save_mismatch(session, run_id, chunk.index, payload.digest, chunk.mismatch)
        if writer is not None and chunk.nodes is not None:  # node states kept for update_run
            writer.save(chunk.index, chunk.nodes)
        chunk.nodes = None  # ~170 MB per chunk of 24k objects: not held until the run ends
        saving[0] += time.perf_counter() - clock

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        if cancel is not None and cancel():
            raise Cancelled

    try:
        result = screen(
            payload,
            params,
            workers=workers,
            dask_address=dask_address,
            completed=completed,
            on_chunk=save,
            progress=report,
            threads=threads,
            keep_nodes=writer is not None,
        )
    except Cancelled:
        with session_maker.begin() as session:
            repo.set_status(session, run_id, "cancelled", cancel_message)
        return RunOutcome(run_id, "cancelled", None)
    except KeyboardInterrupt:
        with session_maker.begin() as session:
            repo.set_status(session, run_id, "interrupted", "interrupted by the user")
        raise
    except Exception as exc:
        with session_maker.begin() as session:
            repo.set_status(session, run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    stored = time.perf_counter()
    with paused_gc(), session_maker.begin() as session:  # 10^5 rows, no cycles: no collector passes
        repo.finish_run(session, run_id, result.events, result.stats, result.failures)
        evaluate_run(session, run_id, clock())
    result.stats["store_s"] = time.perf_counter() - stored
    result.stats["save_chunks_s"] = saving[0]
    return RunOutcome(run_id, "done", result)


def _kept_writer(session_maker: sessionmaker, run_id: int, params: ScreeningParams, payload: CatalogPayload):
    """A writer of the run's kept node states, or None (no place for them, over the size cap, or an
    all-vs-all run it is not: only those can be updated)."""
    from ..storage import kept_states

    root = kept_states.keep_root(session_maker.kw.get("bind"))
    if root is None or params.primaries or kept_states.size_bytes(params, len(payload)) > kept_states.max_bytes():
        return None
    try:
        return kept_states.KeptWriter(root, run_id, params, payload)
    except OSError:  # an unwritable place: the run goes on without them
        return None


@dataclass(frozen=True)
class UpdateOutcome:
    """An incremental re-screening: which objects changed, their new events, the run's event count."""

    run_id: int
    updated: tuple[int, ...]
    result: ScreeningResult | None
    n_events: int
    # the objects re-screened: ``updated`` and the members of the co-located groups they touch
    rescreened: tuple[int, ...] = ()


def update_run(
    session_maker: sessionmaker,
    run_id: int,
    new: CatalogPayload,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    use_kept: bool = True,
) -> UpdateOutcome:
    """Re-screen only the pairs involving objects whose element set ``new`` changes or adds, and
    replace those pairs' events in the stored run ``run_id`` (issue #18, target 2).

    When the full run kept its node states (``storage.kept_states``, ``run_screening``'s ``keep``) and
    they describe the run as stored, only the changed objects are propagated and they are screened
    against every object from those states, in this process (``conjunction.incremental.screen_changed``);
    the kept states are then brought up to date. Otherwise (``use_kept`` False, nothing kept, or
    stale, foreign or damaged files) the path below, which gives the same events:

    The orbit-geometry sieve (``conjunction.sieve``) picks, from the element sets alone, the objects
    that may come within the threshold (or the co-location distance, if larger) of a changed one and
    the segments of the window in which they may; the changed objects are then screened as primaries
    against those objects in those segments (``conjunction.incremental``), which finds exactly the
    all-vs-all events of their pairs; every other pair keeps its stored events (its element sets did
    not change). When more than ``SIEVE_MAX_CHANGED`` of the catalog changed, or the window is longer
    than ``SIEVE_MAX_DAYS``, the sieve is skipped and every object is screened over the whole window
    (the same events; the sieve would cost more than it saves). Only done all-vs-all runs can be
    updated; a run with primaries is refused (see docs/screening.md). The screening runs in this
    process unless it covers more than ``PARALLEL_FRACTION`` of the catalog's states (or
    ``dask_address`` is given): starting worker processes costs more than the work it would share.

    Either path re-screens, beside the changed objects, every member of a co-located group that they
    join, leave or belong to (``colocation_closure``): a group's rows change with its membership.

    The cyclic garbage collector is paused for the update (``events.paused_gc``): the catalog's
    10^5 tuples and strings it creates are not cycles, and the full collection they set off walked
    every live container of the process (numba's, SQLAlchemy's): 0.4-0.8 s of a 1% update of the
    2022 catalog (docs/design-notes.md).
    """
    with paused_gc():
        return _update_run(session_maker, run_id, new, workers, dask_address, use_kept)


def _update_run(session_maker, run_id, new, workers, dask_address, use_kept) -> UpdateOutcome:
    """``update_run`` (see there)."""
    import numpy as np

    from ..conjunction.incremental import preload_kernels
    from ..errors import InputError
    from ..storage import kept_states

    steps: dict[str, float] = {}  # the kept path's steps outside the engine (s), into the result's stats
    clock = time.perf_counter()
    root = kept_states.keep_root(session_maker.kw.get("bind"))
    if use_kept and root is not None and kept_states.run_dir(root, run_id).is_dir():
        # the kept path's compiled kernels are loaded in a thread while the run is read (~0.1 s in a
        # process's first update, much of it outside the GIL); the path calls them once they are loaded
        threading.Thread(target=preload_kernels, name="preload-kernels", daemon=True).start()
    with session_maker() as session:
        # not the stored chunks: the minima a run keeps for resuming are not read by an update
        run, params, payload, _ = repo.load_run(session, run_id, chunks=False)
        status = run.status
        kept = repo.load_mismatch(session, run_id, payload.digest, len(payload))
    steps["load_run_s"] = time.perf_counter() - clock
    if status != "done":
        raise InputError(f"run {run_id} is {status}: only a finished run can be updated")
    if params.primaries:
        raise InputError(f"run {run_id} screens primaries: --update needs an all-vs-all run")
    clock = time.perf_counter()
    merged, updated = payload.updated_with(new)
    steps["updated_with_s"] = time.perf_counter() - clock
    if not updated:
        with session_maker() as session:
            n = session.get(type(run), run_id).n_events or 0
        return UpdateOutcome(run_id, (), None, n)
    clock = time.perf_counter()
    ids = np.asarray(merged.norad_ids)
    changed = np.flatnonzero(np.isin(ids, np.asarray(updated, dtype=np.int64)))
    states = None
    if use_kept:  # their files' folds are compared in a thread, during the propagation of the changed objects
        states = kept_states.open_kept(root, run_id, params, payload.digest, len(payload), background=True)
    steps["open_kept_s"] = time.perf_counter() - clock
    if states is not None:
        outcome = _update_from_kept(
            session_maker, run_id, params, payload, merged, updated, changed, kept, states, root, workers, steps
        )
        if outcome is not None:
            return outcome
        clock = time.perf_counter()  # damaged kept states (removed): the path without them
    # re-screened: the changed objects, and the members of the co-located groups they touch (rarely any)
    rescreened = updated
    while True:
        result, mismatch = _update_without_kept(
            merged, params, payload, ids, rescreened, kept, clock, workers, dask_address
        )
        wider = colocation_closure(session_maker, run_id, rescreened, result.events)
        if wider == rescreened:
            break
        rescreened = wider
        clock = time.perf_counter()
    with session_maker.begin() as session:
        n = repo.replace_object_events(
            session, run_id, merged, rescreened, result.events, result.stats, dict(enumerate(mismatch)), payload
        )
    kept_states.delete(root, run_id)  # they describe the catalog before this update
    return UpdateOutcome(run_id, updated, result, n, rescreened)


def _update_without_kept(merged, params, payload, ids, rescreened, kept, clock, workers, dask_address):
    """``update_run``'s path without kept node states for the objects ``rescreened`` (catalog numbers):
    the sieve, then those objects screened as primaries (see ``update_run``). Returns the result and
    the velocity mismatch per chunk to keep ((n_chunks, n) in ``merged``'s order)."""
    from dataclasses import replace

    import numpy as np

    from ..conjunction.incremental import screen_segments
    from ..conjunction.sieve import sieve

    changed = np.flatnonzero(np.isin(ids, np.asarray(rescreened, dtype=np.int64)))
    # the full run's velocity mismatch of the unchanged objects, in the merged catalog's order (NaN:
    # not kept, or changed); the chunks fill in what they compute, and it is kept for the next update
    n_chunks = len(params.chunks())
    mismatch = np.full((n_chunks, len(merged)), np.nan)
    old_pos = np.searchsorted(ids, np.asarray(payload.norad_ids, dtype=np.int64))
    for index, values in kept.items():
        if 0 <= index < n_chunks:
            mismatch[index, old_pos] = values
    mismatch[:, changed] = np.nan
    n_seg = params.n_segments
    if changed.size <= SIEVE_MAX_CHANGED * len(merged) and params.days <= SIEVE_MAX_DAYS:
        found = sieve(
            merged.texts,
            merged.subset(changed).satrecs(),
            changed,
            params.start_jd,
            params.start_fr,
            params.days,
            max(params.threshold_km, params.colocation_km),
            params.step_s,
        )
        keep = np.flatnonzero(found.keep)
        segments = found.segments[keep]
        pairs, pairs_total = found.pairs, found.pairs_total
    else:  # many changed objects or a long window: the sieve would cost more than it saves
        keep = np.arange(len(merged))
        segments = np.ones((keep.size, n_seg), dtype=bool)
        pairs, pairs_total = -1, changed.size * (len(merged) - changed.size)
    share = float(segments.sum()) / max(1, len(merged) * n_seg)
    sieve_s = time.perf_counter() - clock
    local = workers if share > PARALLEL_FRACTION else 1
    sub = merged if keep.size == len(merged) else merged.subset(keep)
    primaries = replace(params, primaries=rescreened)
    known = np.ascontiguousarray(mismatch[:, keep])
    result = screen_segments(sub, primaries, segments, workers=local, dask_address=dask_address, mismatch=known)
    mismatch[:, keep] = known
    result.stats.update(
        sieve_s=sieve_s,
        sieve_objects=float(keep.size),
        sieve_pairs=float(pairs),
        sieve_pairs_total=float(pairs_total),
        sieve_state_share=share,
    )
    return result, mismatch


def colocation_closure(
    session_maker: sessionmaker, run_id: int, rescreened: tuple[int, ...], events
) -> tuple[int, ...]:
    """The catalog numbers an update must re-screen so that its co-located groups are a full rerun's:
    ``rescreened`` (sorted), the members of the co-located rows of ``events`` (the update's result for
    them: the groups that their pairs form) and every member of a group the run stored before the update
    that meets either (``screening_repo.colocated_groups``). A group is a connected component of
    co-located pairs, and rows are written per group, so a changed object that joins, leaves or links
    groups changes rows, and which encounters fall inside a group, for pairs of unchanged members; with
    every member of such a group re-screened, the update replaces all of them. Pairs of unchanged
    objects that are co-located stay so, and lie in one stored group: one pass adds every member a
    second pass would find (the caller repeats until nothing is added all the same). Sorted, as
    ``updated``."""
    from ..conjunction.colocated import KIND

    members = set(rescreened)
    members.update(x for e in events if e.kind == KIND for x in (e.id1, e.id2))
    with session_maker() as session:
        for group in repo.colocated_groups(session, run_id, members):
            members |= group
    return tuple(sorted(members))


def _update_from_kept(
    session_maker, run_id, params, payload, merged, updated, changed, kept, states, root, workers, steps
):
    """``update_run`` from the full run's kept node states (see there). ``steps``: the times of the
    steps before it, added to the result's stats with its own (``store_s``; ``keep_s``: the wait for
    the kept files after the store, during which they are rewritten). None, with the kept states
    removed and nothing stored, when their files' folds show damaged content."""
    from concurrent.futures import ThreadPoolExecutor, wait

    import numpy as np

    from ..conjunction.incremental import screen_changed
    from ..storage import kept_states

    clock = time.perf_counter()
    same = merged.norad_ids == payload.norad_ids
    old_pos = None if same else np.searchsorted(np.asarray(merged.norad_ids), np.asarray(payload.norad_ids))
    # in this process (no pool to start), the broad phase on every core (workers: the caller's cores);
    # again with the members of the co-located groups the changed objects touch, if any (``colocation_closure``)
    rescreened = updated
    while True:
        result, nxt = screen_changed(merged, params, changed, states.chunks, old_pos, threads=workers or 1)
        wider = colocation_closure(session_maker, run_id, rescreened, result.events)
        if wider == rescreened:
            break
        rescreened = wider
        changed = np.flatnonzero(np.isin(np.asarray(merged.norad_ids), np.asarray(rescreened, dtype=np.int64)))
    # the velocity mismatch rows stay up to date for the path without kept states
    n_chunks = len(params.chunks())
    mismatch = np.full((n_chunks, len(merged)), np.nan)
    for index, values in kept.items():
        if 0 <= index < n_chunks:
            mismatch[index, slice(None) if old_pos is None else old_pos] = values
    for index, values in nxt["mismatch"].items():
        mismatch[index, changed] = values[changed]
    result.stats.update(kept_states=1.0, sieve_s=0.0, screen_s=time.perf_counter() - clock)
    clock = time.perf_counter()
    intact = states.intact()  # the thread open_kept started: done long before, unless the disk is slow
    steps["fold_wait_s"] = time.perf_counter() - clock
    if not intact:
        kept_states.delete(root, run_id)
        return None
    clock = time.perf_counter()
    # the kept files are rewritten in a thread while the events are stored: files beside the database
    # and rows in it, independent; both spend much of their time outside the GIL (file and SQLite I/O)
    pool = ThreadPoolExecutor(1, thread_name_prefix="kept-rewrite")
    # first the merged catalog's digest (~12 ms of Python for the 2022 catalog; the files' meta and the
    # stored rows name it), while the store's first statements run in SQLite outside the GIL
    pool.submit(getattr, merged, "digest")
    rewriting = pool.submit(kept_states.rewrite, root, run_id, params, merged, changed, nxt["arrays"])
    pool.shutdown(wait=False)
    try:
        with session_maker.begin() as session:
            n = repo.replace_object_events(
                session, run_id, merged, rescreened, result.events, result.stats, dict(enumerate(mismatch)), payload
            )
    except BaseException:  # nothing stored: the rewritten files would describe a catalog the run lacks
        wait([rewriting])
        kept_states.delete(root, run_id)
        raise
    result.stats.update(steps, store_s=time.perf_counter() - clock)
    clock = time.perf_counter()
    try:
        rewriting.result()
    except OSError:  # the update is stored; the next one takes the path without kept states
        kept_states.delete(root, run_id)
    result.stats["keep_s"] = time.perf_counter() - clock  # the wait for the files after the store
    return UpdateOutcome(run_id, updated, result, n, rescreened)


def finish_run(session: Session, run_id: int, result: ScreeningResult, now: datetime) -> None:
    """Store a computed result as the run's events and raise its alerts (caller's transaction)."""
    repo.finish_run(session, run_id, result.events, result.stats, result.failures)
    evaluate_run(session, run_id, now)


__all__ = [
    "CANCELLED",
    "Cancelled",
    "RunOutcome",
    "SIEVE_MAX_CHANGED",
    "SIEVE_MAX_DAYS",
    "UpdateOutcome",
    "colocation_closure",
    "create_run",
    "finish_run",
    "run_screening",
    "update_run",
]
