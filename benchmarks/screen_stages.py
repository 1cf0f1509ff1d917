"""Stage profile of `spacecommons screen` end to end (issue #18, target 1): load, engine stages
(propagate, bounds, broad phase, narrow phase, refine, merge), store, write — and the store stage
before/after in the same run: the same events stored one ORM object each (the code before issue #18)
and with one Core executemany (now), each into a fresh SQLite database.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, benchmarks only),
all-vs-all, 5 km, from 2022-01-22T00:00:00Z for --days (default 0.25: the 6-hour slice).

Then incremental re-screening (issue #18, target 2): --update-fraction of the objects get a new element set
(mean anomaly moved by 0.5 deg, synthetic) and `workflows.screening.update_run` re-screens and merges them;
its time is compared with the full run's engine + store time.

The full run keeps its node states (``storage.kept_states``) and the update re-screens from them; the
baseline in the same run is the same update of a copy of the run by the path without kept node states
(the sieve and the kept velocity mismatch: the code before branch ``keep``), events compared row for row.
With --keep-overhead the full engine also runs once without keeping node states (what keeping costs).
With --verify the changed objects are also screened as primaries against the whole catalog (the update
before the sieve) and the whole updated catalog is rerun, and the events of the changed objects' pairs
are compared.

    python benchmarks/screen_stages.py [--days 0.25] [--workers 2] [--update-fraction 0.01] [--verify]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.storage import screening_repo as repo
from spacecommons.storage.engine import make_engine, session_factory, upgrade
from spacecommons.storage.tables import ConjunctionEvent
from spacecommons.timescales import iso_to_jd, parse_utc

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
START = "2022-01-22T00:00:00Z"
START_CREATED = datetime(2026, 1, 1, tzinfo=UTC)  # the time the run row says it was created


def _instants(row: dict) -> dict:
    """An event's row with its times parsed, as the ORM path before issue #18 stored it."""
    times = {k: parse_utc(row[k]) if row[k] else None for k in ("tca", "span_start", "span_end")}
    return {**row, **times}


def store(url: str, payload, params, result, orm: bool):
    """Create the run and store its events (the ORM way, or through finish_run); chunk saving, the
    same in both, is left out (and so is the velocity mismatch kept for updates: ``keep_mismatch``)."""
    engine = make_engine(url)
    upgrade(engine)
    maker = session_factory(engine)
    clock = time.perf_counter()
    with maker.begin() as s:
        run_id = repo.create_run(s, params, payload, START_CREATED)
    with maker.begin() as s:
        if orm:  # the code before issue #18: one ORM object per event
            s.execute(delete(ConjunctionEvent).where(ConjunctionEvent.run_id == run_id))
            s.add_all(ConjunctionEvent(run_id=run_id, **_instants(row)) for row in result.events.rows())
            s.flush()
        else:
            repo.finish_run(s, run_id, result.events, result.stats, result.failures)
    return time.perf_counter() - clock, maker, run_id


def cpu_s(reap: bool = False) -> float:
    """User + system CPU seconds of this process and its waited-for children (the pool's workers).
    ``reap``: first wait until the worker processes have exited and are joined (a run's pool lets
    them exit after it returns, and their CPU counts only once they are joined)."""
    if reap:
        gc.collect()
        deadline = time.monotonic() + 60.0
        while multiprocessing.active_children() and time.monotonic() < deadline:
            time.sleep(0.02)
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def keep_mismatch(maker, run_id: int, payload, chunks) -> float:
    """What ``run_screening`` keeps per chunk for incremental updates: the velocity mismatch rows."""
    clock = time.perf_counter()
    with maker.begin() as s:
        for ch in chunks:
            repo.save_mismatch(s, run_id, ch.index, payload.digest, ch.mismatch)
    return time.perf_counter() - clock


def keep_nodes(maker, run_id: int, payload, params, chunks) -> float:
    """What ``run_screening`` keeps per chunk beside the database: the node states (kept_states)."""
    from spacecommons.storage import kept_states

    clock = time.perf_counter()
    writer = kept_states.KeptWriter(kept_states.keep_root(maker.kw["bind"]), run_id, params, payload)
    for ch in chunks:
        writer.save(ch.index, ch.nodes)
        ch.nodes = None
    return time.perf_counter() - clock


def shifted(payload: CatalogPayload, fraction: float) -> CatalogPayload:
    """New element sets for every 1/fraction-th object with a TLE: mean anomaly moved by 0.5 deg."""
    step = max(1, round(1 / fraction))
    ids, names, texts = [], [], []
    for k in range(0, len(payload), step):
        text = payload.texts[k]
        if not isinstance(text, tuple):
            continue
        l2 = text[1]
        line = f"{l2[:43]}{(float(l2[43:51]) + 0.5) % 360.0:8.4f}{l2[51:68]}"
        line += str(sum(int(c) if c.isdigit() else c == "-" for c in line) % 10)
        ids.append(payload.norad_ids[k])
        names.append(payload.names[k])
        texts.append((text[0], line))
    return CatalogPayload(tuple(ids), tuple(names), tuple(texts))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=0.25)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--update-fraction", type=float, default=0.01, help="incremental re-screening; 0: skip")
    ap.add_argument(
        "--sieve-max-changed",
        type=float,
        default=None,
        help="override workflows.screening.SIEVE_MAX_CHANGED (1: always sieve, whatever the window; 0: never)",
    )
    ap.add_argument(
        "--verify",
        action="store_true",
        help="also screen the changed objects without the sieve (the update before it) and rerun the whole "
        "updated catalog, and compare their events for the changed objects' pairs",
    )
    ap.add_argument(
        "--keep-overhead",
        action="store_true",
        help="also run the full engine without keeping node states first (what keeping them costs the full run)",
    )
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_CATALOG", DEFAULT))
    if not path.exists():
        print(f"missing {path}", file=sys.stderr)
        return 2
    t = {}
    clock = time.perf_counter()
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    t["load"] = time.perf_counter() - clock
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, args.days, 5.0)
    keep = bool(args.update_fraction)
    if keep and args.keep_overhead:  # the same full run without the node states kept, first
        cpu = cpu_s()
        clock = time.perf_counter()
        screen(payload, params, workers=args.workers)
        t["engine without keeping node states (wall)"] = time.perf_counter() - clock
        t["engine without keeping node states (CPU)"] = cpu_s(reap=True) - cpu
    cpu = cpu_s()
    clock = time.perf_counter()
    chunks = []
    result = screen(payload, params, workers=args.workers, on_chunk=chunks.append, keep_nodes=keep)
    t["engine (wall)"] = time.perf_counter() - clock
    if keep:
        t["engine (CPU)"] = cpu_s(reap=True) - cpu
    tmp = Path(tempfile.mkdtemp())
    t["store, ORM objects (before)"], orm_maker, _ = store(
        f"sqlite:///{tmp / 'orm.db'}", payload, params, result, orm=True
    )
    t["store, executemany (now)"], maker, run_id = store(
        f"sqlite:///{tmp / 'core.db'}", payload, params, result, orm=False
    )
    t["keep velocity mismatch for updates"] = keep_mismatch(maker, run_id, payload, chunks)
    if keep:
        keep_mismatch(orm_maker, run_id, payload, chunks)  # the copy updated by the path without kept states
        t["keep node states for updates"] = keep_nodes(maker, run_id, payload, params, chunks)
    clock = time.perf_counter()
    result.events.write(tmp / "events.csv")
    t["write CSV"] = time.perf_counter() - clock
    print(
        f"{len(payload)} objects, {args.days} d, {len(result.events)} events, {args.workers} workers, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("\n| stage | s |\n|---|---:|")
    for k, v in t.items():
        print(f"| {k} | {v:.2f} |")
    for k in ("propagation_s", "bounds_s", "broad_phase_s", "narrow_phase_s", "refinement_s", "merge_s"):
        if k in result.stats:
            how = "once, in the parent" if k == "merge_s" else "summed over chunks"
            print(f"| engine: {k[:-2]} (s, {how}) | {result.stats[k]:.1f} |")
    ratio = t["store, ORM objects (before)"] / t["store, executemany (now)"]
    print(f"\nstore stage: executemany {ratio:.1f}x faster than ORM objects on the same events")
    if args.update_fraction:
        from spacecommons.workflows import screening
        from spacecommons.workflows.screening import update_run

        if args.sieve_max_changed is not None:
            screening.SIEVE_MAX_CHANGED = args.sieve_max_changed
            if args.sieve_max_changed >= 1:  # always: whatever the window
                screening.SIEVE_MAX_DAYS = float("inf")

        new = shifted(payload, args.update_fraction)
        warm_up(payload, params)
        full = t["engine (wall)"] + t["store, executemany (now)"] + t["keep velocity mismatch for updates"]
        full_keep = full + t["keep node states for updates"]
        plain = t.get("engine without keeping node states (wall)")
        # baseline in the same run: the same update of a copy of the run (the ORM copy, with the kept
        # velocity mismatch) by the path without kept node states: the code before this branch
        with orm_maker.begin() as s:  # its events are stored; finish_run would have marked it done
            repo.set_status(s, run_id, "done")
        cpu = cpu_s()
        clock = time.perf_counter()
        base = update_run(orm_maker, run_id, new, workers=args.workers, use_kept=False)
        dt0 = time.perf_counter() - clock
        # the baseline's workers joined first: their CPU is the baseline's, not the next update's
        cpu0 = cpu_s(reap=True) - cpu
        cpu = cpu_s()
        clock = time.perf_counter()
        up = update_run(maker, run_id, new, workers=args.workers)
        dt, cpu1 = time.perf_counter() - clock, cpu_s() - cpu
        if up.result.stats.get("kept_states") != 1.0:
            raise SystemExit("the update did not use the kept node states")
        print(
            f"incremental without kept node states (baseline: sieve, kept mismatch): {dt0:.2f} s wall, "
            f"{cpu0:.2f} s CPU (process + children) = {dt0 / full:.1%} of the full run's engine + store + "
            f"kept mismatch ({full:.1f} s)"
        )
        print(
            f"incremental from kept node states: {len(up.updated)} objects updated ({args.update_fraction:.1%}), "
            f"re-screened and merged in {dt:.2f} s wall, {cpu1:.2f} s CPU (process + children) = "
            f"**{dt / full:.2%}** of the full run's engine + store + kept mismatch ({full:.1f} s), "
            f"{dt / full_keep:.2%} of it with the node states kept ({full_keep:.1f} s)"
            + (
                f", {dt / (plain + full - t['engine (wall)']):.2%} of it with the engine not keeping them"
                if plain
                else ""
            )
            + f"; {dt0 / dt:.1f}x faster than the baseline; load average {os.getloadavg()[0]:.1f}"
        )
        a, b = sorted(map(repr, base.result.events.tuples())), sorted(map(repr, up.result.events.tuples()))
        print(f"kept == without: {a == b} ({len(up.result.events)} events, {len(base.result.events)} without)")
        if a != b:
            print("only without:", sorted(set(a) - set(b))[:5])
            print("only kept:", sorted(set(b) - set(a))[:5])
        print(
            "incremental engine stages without kept node states (s): "
            + ", ".join(f"{k[:-2]} {v:.2f}" for k, v in base.result.stats.items() if k.endswith("_s"))
        )
        print(
            "incremental engine stages from kept node states (s): "
            + ", ".join(f"{k[:-2]} {v:.2f}" for k, v in up.result.stats.items() if k.endswith("_s"))
            + f"; candidate segments {up.result.stats.get('candidate_segments', 0):.0f}"
        )
        st = up.result.stats
        engine = ("propagation_s", "bounds_s", "broad_phase_s", "narrow_phase_s", "refinement_s", "merge_s")
        steps = ("load_run_s", "updated_with_s", "open_kept_s", "screen_s", "fold_wait_s", "store_s", "keep_s")
        inside = st.get("screen_s", 0.0) - sum(st.get(k, 0.0) for k in engine)
        print(
            "update from kept node states, steps (s, wall): "
            + ", ".join(f"{k[:-2]} {st.get(k, 0.0):.3f}" for k in steps)
            + f"; in screen but in no engine stage {inside:.3f} (merging rows, SGP4 records, triples; negative"
            " when the chunks' stages overlap: an update pipelines its chunks)"
            + f"; in no step {dt - sum(st.get(k, 0.0) for k in steps):.3f}"
            + f"; all but the broad phase {dt - st.get('broad_phase_s', 0.0):.3f}"
        )
        size = sum(f.stat().st_size for f in (tmp / "core.db.kept").rglob("*"))
        print(f"kept node states on disk: {size / 2**20:.0f} MiB")
        st = base.result.stats
        if "sieve_objects" in st:
            print(
                f"baseline sieve (<= {screening.SIEVE_MAX_CHANGED:.2%} changed, <= {screening.SIEVE_MAX_DAYS} d): "
                f"{st['sieve_objects']:.0f} of {len(payload)} objects kept, {st['sieve_state_share']:.1%} of the "
                f"catalog's (object, segment) states screened; {st['events']:.0f} events"
            )
        if args.verify:
            verify(payload, new, params, up, args.workers, dt)
    return 0


def warm_up(payload, params) -> None:
    """Load the sieve's compiled kernels (numba's cache; compiled on the first run on a machine,
    as the engine's kernels were by the full run) on two objects, outside the timed update."""
    import numpy as np

    from spacecommons.conjunction.sieve import sieve

    two = CatalogPayload(payload.norad_ids[:2], payload.names[:2], payload.texts[:2])
    sieve(two.texts, two.satrecs()[:1], np.array([0]), params.start_jd, params.start_fr, 0.1, 5.0, params.step_s)


def verify(payload, new, params, up, workers, dt) -> None:
    """Events of the update (from kept node states) == the changed objects screened against the whole
    catalog as primaries (the update before the sieve) == a full rerun, for the changed objects' pairs."""
    from dataclasses import replace

    merged, updated = payload.updated_with(new)
    changed = set(updated)

    def rows(events):  # screened with primaries, a pair has the primary first: compare pairs as sets
        return sorted(
            (min(e.id1, e.id2), max(e.id1, e.id2), e.tca, round(e.miss_km, 9), e.kind, e.n_minima)
            for e in events
            if e.id1 in changed or e.id2 in changed
        )

    clock = time.perf_counter()
    before = screen(merged, replace(params, primaries=updated), workers=workers)
    t_before = time.perf_counter() - clock
    clock = time.perf_counter()
    full = screen(merged, params, workers=workers)
    t_full = time.perf_counter() - clock
    a, b, c = rows(up.result.events), rows(before.events), rows(full.events)
    if a != c:
        print("only in the update:", sorted(set(a) - set(c))[:5])
        print("only in the full rerun:", sorted(set(c) - set(a))[:5])
    print(
        f"identity: update from kept states {len(a)} events, primaries screen {len(b)} ({t_before:.1f} s: the update "
        f"is {t_before / dt:.1f}x faster), full rerun {len(c)} for those pairs ({t_full:.1f} s); "
        f"with == without: {a == b}; with == full rerun: {a == c}; load average {os.getloadavg()[0]:.1f}"
    )
    if not a == b == c:
        raise SystemExit("the incremental events differ")

    return 0


if __name__ == "__main__":
    sys.exit(main())
