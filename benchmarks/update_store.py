"""The store step of an incremental update alone (issue #18, target 2; branch ``delta``):
``screening_repo.replace_object_events`` of a 1% update of a whole-catalog run, commit included,
three ways in the same run:

- ``before``: as main stores it: the run's whole input catalog (4 MB of JSON for the 2022 catalog)
  written again into the run's row (``screening_runs.catalog_json``);
- ``rows, catalog in run row``: one row per changed object, the catalog still in the run's row as
  created, which SQLite writes again whole with the row (the row's size changes with ``stats_json``);
- ``now``: one row per changed or renamed object, the catalog in its own table
  (``screening_run_catalogs``), not written by an update.

Workload: the 2022-01-22 catalog snapshot (23,939 objects; Space-Track-sourced, benchmarks only) as a
stored 1-day run on SQLite (WAL) with 21,649 synthetic events (the count of the real 1-day run at
5 km) and its kept velocity mismatch (2 chunks); the update: --fraction of the objects (evenly
spread) get another element set (synthetic text: storing does not parse it) and 706 new events (the
real 1% update's count). Each repetition stores into a fresh copy of the same database file, the
ways in turn (rotated); the table gives the median and range of the wall time.

    python benchmarks/update_store.py [--fraction 0.01] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from spacecommons.catalog import latest_per_object, read_elements
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.events import ConjunctionEvent, ConjunctionEvents
from spacecommons.conjunction.params import ScreeningParams
from spacecommons.storage import screening_repo as repo
from spacecommons.storage.engine import make_engine, session_factory, upgrade
from spacecommons.storage.tables import ScreeningCatalogUpdate
from spacecommons.timescales import iso_to_jd

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/tle/catalog_snapshots/catalog_full_3le_2022-01-22.txt"
START = "2022-01-22T00:00:00Z"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
N_EVENTS = 21649  # the 1-day run of the 2022 catalog at 5 km (benchmarks/screen_stages.py --days 1)
N_NEW_EVENTS = 706  # its 1% update's events (same)


def _events(ids: np.ndarray, n: int, rng: np.random.Generator) -> ConjunctionEvents:
    """``n`` encounters between random pairs of ``ids``, TCAs within the day."""
    pairs = rng.choice(ids, size=(n, 2))
    out = ConjunctionEvents()
    for k, (a, b) in enumerate(pairs):
        a, b = sorted((int(a), int(b)))
        b += a == b  # a pair of two objects
        s = (k * 86_399) // max(1, n)
        tca = f"2022-01-22T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{k % 1000:03d}Z"
        miss = float(rng.uniform(0.0, 5.0))
        out.append(ConjunctionEvent(a, "A", b, "B", tca, miss, 10.0, 0.1, 0.2, 0.3, "encounter", "", "", 1, float(s)))
    return out


def _in_run_row(payload: CatalogPayload) -> str:
    """The run's catalog as main's ``catalog_json`` holds it (orjson, as main writes it)."""
    import orjson

    return orjson.dumps({"norad_ids": payload.norad_ids, "names": payload.names, "texts": payload.texts}).decode()


def _before_store(session, run_id, merged, updated, events, stats, mismatch) -> None:
    """The store on main: the same events and mismatch rows, and the whole catalog written again
    into the run's row (no update rows)."""
    from sqlalchemy import delete

    from spacecommons.storage.tables import ScreeningRun

    repo.replace_object_events(session, run_id, merged, updated, events, stats, mismatch)
    session.execute(delete(ScreeningCatalogUpdate).where(ScreeningCatalogUpdate.run_id == run_id))
    session.get(ScreeningRun, run_id).catalog_json = _in_run_row(merged)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fraction", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    path = Path(os.environ.get("SPACECOMMONS_CATALOG", DEFAULT))
    if not path.exists():
        print(f"missing {path} (set SPACECOMMONS_CATALOG to a whole-catalog 3LE file)", file=sys.stderr)
        return 2
    records, _ = latest_per_object(read_elements(path).records)
    payload = CatalogPayload.from_elements(records)
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, 1.0, 5.0)
    n_chunks = len(params.chunks())
    rng = np.random.default_rng(18)
    ids = np.asarray(payload.norad_ids)

    tmp = Path(tempfile.mkdtemp())
    template = tmp / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    upgrade(engine)
    maker = session_factory(engine)
    with maker.begin() as s:
        run_id = repo.create_run(s, params, payload, CREATED)
        repo.finish_run(s, run_id, _events(ids, N_EVENTS, rng), {}, {})
        for index in range(n_chunks):
            repo.save_mismatch(s, run_id, index, payload.digest, rng.uniform(0.0, 1e-3, len(payload)))
    engine.dispose()
    # main's layout: the catalog in the run's row (the catalog row stays: an update does not write it)
    in_row = tmp / "in-row.db"
    shutil.copyfile(template, in_row)
    import sqlite3

    with sqlite3.connect(in_row) as con:
        con.execute("UPDATE screening_runs SET catalog_json = ?", (_in_run_row(payload),))
    for db in (template, in_row):
        with sqlite3.connect(db, isolation_level=None) as con:
            con.execute("VACUUM")

    step = max(1, round(1.0 / args.fraction))
    changed = [(i, t) for i, t in enumerate(payload.texts) if i % step == 0 and isinstance(t, tuple)]
    new = CatalogPayload(
        tuple(payload.norad_ids[i] for i, _ in changed),
        tuple(payload.names[i] for i, _ in changed),
        tuple((t[0], t[1][:-1] + str((int(t[1][-1]) + 1) % 10)) for _, t in changed),
    )
    merged, updated = payload.updated_with(new)
    events = _events(np.asarray(updated), N_NEW_EVENTS, rng)
    mismatch = {index: rng.uniform(0.0, 1e-3, len(merged)) for index in range(n_chunks)}

    ways = {  # name: (database, store)
        "before": (in_row, _before_store),
        "rows, catalog in run row": (in_row, repo.replace_object_events),
        "now": (template, repo.replace_object_events),
    }
    names = list(ways)
    times: dict[str, list[float]] = {name: [] for name in names}
    for k in range(args.repeat):
        for way in names[k % 3 :] + names[: k % 3]:
            source, store = ways[way]
            db = tmp / f"run-{k}.db"
            shutil.copyfile(source, db)
            engine = make_engine(f"sqlite:///{db}")
            maker = session_factory(engine)
            with maker() as s:  # the connection opened and its pragmas run before the clock starts
                s.connection()
            clock = time.perf_counter()
            with maker.begin() as s:
                store(s, run_id, merged, updated, events, {"objects": len(updated)}, mismatch)
            times[way].append(time.perf_counter() - clock)
            if store is repo.replace_object_events:
                with maker() as s:
                    _, _, back, _ = repo.load_run(s, run_id, chunks=False)
                assert back.texts == merged.texts and back.names == merged.names, way
                assert back.digest == merged.digest, way
            engine.dispose()
            db.unlink()
    shutil.rmtree(tmp)

    print(
        f"{len(payload)} objects, {len(updated)} updated ({len(updated) / len(payload):.1%}), {N_EVENTS} events "
        f"stored, {N_NEW_EVENTS} new; {args.repeat} repetitions each; load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| store step of the update (commit included) | median s | range s |\n|---|---:|---:|")
    for way in names:
        t = times[way]
        print(f"| {way} | {statistics.median(t):.3f} | {min(t):.3f}-{max(t):.3f} |")
    print(f"\nnow / before: {statistics.median(times['now']) / statistics.median(times['before']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
