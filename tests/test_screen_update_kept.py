"""Incremental re-screening from the full run's kept node states (issue #18, target 2;
``storage.kept_states``, ``conjunction.incremental.screen_changed``, ``kernels.broad_phase_changed``).

Independent computations: a full all-vs-all rerun of the core ``screen`` on the updated catalog (the
stored run must hold exactly its events), the update path without kept states (the same events), and,
for the k x n kernel, the interpolated minima of the all-vs-all broad phase's triples with a primary
(``kernels.broad_phase_primaries``, which the stored runs' tests check against brute force)."""

from __future__ import annotations

import numpy as np
import pytest

from .test_screen_update import IRIDIUM, NOW, _rows, _shift_mean_anomaly, stored  # noqa: F401


def _new(records, changed, degrees=0.5, extra: str = ""):
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.catalog_payload import CatalogPayload

    text = "".join(
        f"{r.name}\n{r.line1}\n{_shift_mean_anomaly(r.line2, degrees)}\n" for r in records if r.norad_id in changed
    )
    return CatalogPayload.from_elements(read_elements("new.tle", text=text + extra).records)


def _stored_rows(maker, run_id):
    from spacecommons.storage import screening_repo as repo

    with maker() as s:
        return _rows(repo.run_events(s, run_id))


def test_kept_update_equals_a_full_rerun_twice_and_the_path_without_kept_states(stored):  # noqa: F811
    """Two successive updates from kept states (the second reads what the first rewrote in place),
    each equal to a full rerun; a copy of the run updated without kept states stores the same."""
    from spacecommons.conjunction import screen
    from spacecommons.storage import kept_states
    from spacecommons.workflows.screening import run_screening, update_run

    maker, records, payload, params, outcome = stored
    root = kept_states.keep_root(maker.kw["bind"])
    assert root is not None and (root / f"run-{outcome.run_id}" / "meta.json").exists()
    twin = run_screening(maker, payload, params, lambda: NOW, workers=1)
    first = sorted({e.id2 for e in outcome.result.events} | {r.norad_id for r in records[::10]})
    new = _new(records, first, 0.3)
    up = update_run(maker, outcome.run_id, new, workers=1)
    base = update_run(maker, twin.run_id, new, workers=1, use_kept=False)
    assert up.result.stats["kept_states"] == 1.0 and "kept_states" not in base.result.stats
    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events  # the independent computation
    assert len(full) >= 3 and any(e.id2 in first and e.id1 not in first for e in full)
    assert _stored_rows(maker, outcome.run_id) == _rows(full) == _stored_rows(maker, twin.run_id)
    # the twin's kept states describe its old catalog: the update without them removed them
    assert not (root / f"run-{twin.run_id}").exists()

    second = sorted({e.id1 for e in full})[:3]
    again = update_run(maker, outcome.run_id, _new(list(merged_records(merged)), second, -0.4), workers=1)
    assert again.result.stats["kept_states"] == 1.0
    merged2, _ = merged.updated_with(_new(list(merged_records(merged)), second, -0.4))
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged2, params, workers=1).events)

    # rows written in place are listed with their CRC (not synced): a value that did not reach the file
    # (here: changed behind its back) makes the kept states unusable, not wrong
    import json

    path = root / f"run-{outcome.run_id}"
    meta = json.loads((path / "meta.json").read_text())
    assert meta["rows"] and meta["crc"] is not None
    assert kept_states.open_kept(root, outcome.run_id, params, merged2.digest, len(merged2)) is not None
    mm = np.load(path / "v0.npy", mmap_mode="r+")
    mm[meta["rows"][0], 0, 0] += 1e-9
    mm.flush()
    del mm
    assert kept_states.open_kept(root, outcome.run_id, params, merged2.digest, len(merged2)) is None


def merged_records(payload):
    """The element sets of a payload as records (name, line1, line2, norad_id) for ``_new``."""
    from types import SimpleNamespace

    for nid, name, text in zip(payload.norad_ids, payload.names, payload.texts, strict=True):
        yield SimpleNamespace(norad_id=nid, name=name, line1=text[0], line2=text[1])


def test_added_object_and_damaged_or_stale_kept_states(stored):  # noqa: F811
    """An element set for an object the run did not have (the kept arrays are re-ordered and written
    anew), then kept states that are truncated, or that name another catalog: the update falls back to
    the path without them, and every stored result equals a full rerun."""
    from spacecommons.conjunction import screen
    from spacecommons.storage import kept_states
    from spacecommons.workflows.screening import update_run

    maker, records, payload, params, outcome = stored
    root = kept_states.keep_root(maker.kw["bind"])
    path = root / f"run-{outcome.run_id}"
    r0 = records[0]
    # a new object: the first one's orbit with another catalog number and mean anomaly
    l1 = f"{r0.line1[:2]}99990{r0.line1[7:68]}"
    l1 += _checksum(l1)
    l2 = _shift_mean_anomaly(f"{r0.line2[:2]}99990{r0.line2[7:68]}0", 0.05)
    changed = sorted({e.id1 for e in outcome.result.events})[:2]
    new = _new(records, changed, 0.5, extra=f"NEW OBJECT\n{l1}\n{l2}\n")
    up = update_run(maker, outcome.run_id, new, workers=1)
    assert up.result.stats["kept_states"] == 1.0 and 99990 in up.updated
    merged, _ = payload.updated_with(new)
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged, params, workers=1).events)
    assert kept_states.open_kept(root, outcome.run_id, params, merged.digest, len(merged)) is not None

    # truncated: the next update does not use them, and stores a full rerun's events all the same
    target = path / "r0.npy"
    target.write_bytes(target.read_bytes()[:1000])
    assert kept_states.open_kept(root, outcome.run_id, params, merged.digest, len(merged)) is None
    new2 = _new(list(merged_records(merged)), changed, -0.2)
    up2 = update_run(maker, outcome.run_id, new2, workers=1)
    assert "kept_states" not in up2.result.stats
    merged2, _ = merged.updated_with(new2)
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged2, params, workers=1).events)
    # stale: files for another catalog are never read
    assert kept_states.open_kept(root, outcome.run_id, params, payload.digest, len(payload)) is None


def _checksum(line: str) -> str:
    return str(sum(int(c) if c.isdigit() else c == "-" for c in line[:68]) % 10)


def test_keep_root_and_size_cap(monkeypatch, tmp_path):
    """Where kept states go: beside a SQLite file, nowhere for in-memory SQLite or PostgreSQL unless
    the setting names a directory, nowhere with ``off``; a run over the cap keeps nothing."""
    from sqlalchemy.engine import make_url

    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import kept_states

    monkeypatch.delenv("SPACECOMMONS_SCREENING_KEEP_DIR", raising=False)
    assert kept_states.keep_root(make_url(f"sqlite:///{tmp_path}/a.db")) == tmp_path / "a.db.kept"
    assert kept_states.keep_root(make_url("sqlite://")) is None
    assert kept_states.keep_root(make_url("postgresql+psycopg://u@h/db")) is None
    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_DIR", str(tmp_path / "k"))
    assert kept_states.keep_root(make_url("postgresql+psycopg://u@h/db")) == tmp_path / "k"
    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_DIR", "off")
    assert kept_states.keep_root(make_url(f"sqlite:///{tmp_path}/a.db")) is None
    # 24k objects, 1 day at 300 s in two chunks: 2 x 145 nodes x 49 bytes + 2 x 24 bytes per object
    params = ScreeningParams(2459600.5, 0.0, 1.0, 5.0)
    assert kept_states.size_bytes(params, 24_000) == 24_000 * (49 * 290 + 48)
    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_MAX_MB", "1")
    assert kept_states.max_bytes() == 2**20


def test_total_cap_pushes_out_the_oldest_runs_and_bad_sizes_are_errors(stored, monkeypatch):  # noqa: F811
    """All runs' kept states under one root stay within SPACECOMMONS_SCREENING_KEEP_TOTAL_MB (the least
    recently written go first, whole); a run over SPACECOMMONS_SCREENING_KEEP_MAX_MB keeps nothing; a
    size setting that is not a number is an error naming it, raised before any run is created."""
    from spacecommons.errors import InputError
    from spacecommons.storage import kept_states
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.workflows.screening import run_screening

    maker, records, payload, params, outcome = stored
    root = kept_states.keep_root(maker.kw["bind"])
    one = kept_states.size_bytes(params, len(payload))
    first = root / f"run-{outcome.run_id}"
    assert first.exists() and one <= kept_states._dir_bytes(first) < one + 4096  # npy headers, meta
    # room for one run and a half: the second run pushes out the first, not itself
    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_TOTAL_MB", str(1.5 * one / 2**20))
    second = run_screening(maker, payload, params, lambda: NOW, workers=1)
    assert not first.exists() and (root / f"run-{second.run_id}" / "meta.json").exists()
    # over the per-run cap: the run is screened and stored, nothing is kept, the others stay
    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_MAX_MB", "0")
    third = run_screening(maker, payload, params, lambda: NOW, workers=1)
    assert third.status == "done" and not (root / f"run-{third.run_id}").exists()
    assert (root / f"run-{second.run_id}").exists()
    with maker() as s:
        runs = s.query(ScreeningRun).count()
    for name in ("SPACECOMMONS_SCREENING_KEEP_MAX_MB", "SPACECOMMONS_SCREENING_KEEP_TOTAL_MB"):
        for bad in ("lots", "-1", "nan"):
            monkeypatch.setenv(name, bad)
            with pytest.raises(InputError, match=name):
                run_screening(maker, payload, params, lambda: NOW, workers=1)
            monkeypatch.delenv(name)
    with maker() as s:
        assert s.query(ScreeningRun).count() == runs


def iridium_first_chunk(every: int) -> tuple:
    """The first chunk's node states, bounds, pads and radial shells of the Iridium 33 debris cloud
    (tests/data) over 6 hours at a 40 km threshold (many minima to compare), with every ``every``-th
    object a primary: ``(r, v, ok, h, m, pad, cell, prim, lo, hi, minima)``, ``minima(ci, cj, ck)`` the
    narrow phase's interpolated minima of a kernel's triples. Shared by the tests of
    ``kernels.broad_phase_changed``."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import kernels
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ChunkResult, ScreeningParams
    from spacecommons.conjunction.screen import _bounds_and_pads, _node_times, _unique_triples
    from spacecommons.propagation.sgp4_batch import propagate_satrecs
    from spacecommons.timescales import iso_to_jd

    payload = CatalogPayload.from_elements(read_elements(IRIDIUM).records)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.25, 40.0)  # a wide threshold: more minima to compare
    k0, k1 = params.chunks()[0]
    _, jdn, frn = _node_times(params, k0, k1)
    err, r, v = propagate_satrecs(payload.satrecs(), jdn, frn, payload.satrec_array())
    ok = err == 0
    bound, pad, cell = _bounds_and_pads(ChunkResult(0), payload, params, jdn, frn, ok, r, v, np.zeros(len(payload)))
    lo, hi = kernels.radial_shells(r, v, ok, params.step_s, params.substeps, pad)
    n = len(payload)

    def minima(ci, cj, ck):
        ci, cj, ck = _unique_triples(ci, cj, ck, n)
        mc, ms, md = kernels.local_minima(r, v, params.step_s, ci, cj, ck, params.threshold_km + bound[ci] + bound[cj])
        return sorted(zip(ci[mc].tolist(), cj[mc].tolist(), ck[mc].tolist(), ms.tolist(), md.tolist(), strict=True))

    prim = np.arange(0, n, every)
    return r, v, ok, params.step_s, params.substeps, pad, cell, prim, lo, hi, minima


@pytest.mark.parametrize("every", [3, 17])
def test_broad_phase_changed_finds_the_minima_of_the_all_vs_all_triples(every):
    """The k x n kernel of the kept path against the all-vs-all kernel's triples with a primary
    (``broad_phase_primaries`` with the radial shells): the narrow phase finds the same interpolated
    minima (positions and values) from both, on the Iridium 33 debris cloud."""
    from spacecommons.conjunction import kernels

    r, v, ok, h, m, pad, cell, prim, lo, hi, minima = iridium_first_chunk(every)
    ref = minima(*kernels.broad_phase_primaries(r, v, ok, h, m, pad, cell, prim, lo, hi))
    for size in (50.0, 2000.0):  # the slab width changes the work, not the minima
        got = minima(*kernels.broad_phase_changed(r, v, ok, h, m, pad, prim, lo, hi, size))
        assert got == ref
    assert len(ref) >= 5


def test_damaged_content_inside_a_kept_file_of_the_right_shape(stored):  # noqa: F811
    """One byte changed in the middle of a kept file (an unchanged object's row, shape and header
    intact): its XOR fold no longer matches the meta's, so ``open_kept`` refuses the files and the
    update, which compared the folds in a thread while it screened, stores nothing computed from them,
    removes them and takes the path without them. The independent computation: a full rerun."""
    from spacecommons.conjunction import screen
    from spacecommons.storage import kept_states
    from spacecommons.workflows.screening import update_run

    maker, records, payload, params, outcome = stored
    root = kept_states.keep_root(maker.kw["bind"])
    path = root / f"run-{outcome.run_id}"
    assert kept_states.open_kept(root, outcome.run_id, params, payload.digest, len(payload)) is not None
    target = path / "v0.npy"
    data = bytearray(target.read_bytes())
    middle = len(data) // 2 + 3
    data[middle] ^= 0x10  # one bit of one velocity component: a plausible value still
    target.write_bytes(bytes(data))
    assert kept_states.open_kept(root, outcome.run_id, params, payload.digest, len(payload)) is None
    background = kept_states.open_kept(root, outcome.run_id, params, payload.digest, len(payload), background=True)
    assert background is not None and background.intact() is False

    changed = sorted({e.id1 for e in outcome.result.events})[:2]
    new = _new(records, changed, 0.4)
    up = update_run(maker, outcome.run_id, new, workers=1)
    assert "kept_states" not in up.result.stats and not path.exists()
    merged, _ = payload.updated_with(new)
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged, params, workers=1).events)


def test_a_failed_store_leaves_the_run_and_no_kept_states_of_the_unstored_catalog(stored, monkeypatch):  # noqa: F811
    """The kept files are rewritten in a thread while the events are stored. When storing fails, the
    update raises, the run's events stay those stored before (the independent computation: the rows
    read before the update), and the rewritten files, which describe a catalog the run does not have,
    are removed; the next update takes the path without them and equals a full rerun."""
    from spacecommons.conjunction import screen
    from spacecommons.storage import kept_states
    from spacecommons.storage import screening_repo as repo
    from spacecommons.workflows.screening import update_run

    maker, records, payload, params, outcome = stored
    root = kept_states.keep_root(maker.kw["bind"])
    path = root / f"run-{outcome.run_id}"
    before = _stored_rows(maker, outcome.run_id)
    changed = sorted({e.id1 for e in outcome.result.events})[:2]
    new = _new(records, changed, 0.4)

    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "replace_object_events", refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        update_run(maker, outcome.run_id, new, workers=1)
    assert _stored_rows(maker, outcome.run_id) == before
    assert not path.exists()
    monkeypatch.undo()
    up = update_run(maker, outcome.run_id, new, workers=1)
    assert "kept_states" not in up.result.stats
    merged, _ = payload.updated_with(new)
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged, params, workers=1).events)


def test_kept_update_over_several_chunks_equals_a_full_rerun(sqlite_url):
    """An update of a run of four chunks, whose stages overlap (one chunk's broad phase on its threads
    while the next is prepared and the previous finished), stores the events of a full all-vs-all
    rerun of the updated catalog (the independent computation), and so does the next update."""
    from dataclasses import replace

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening, update_run

    engine = make_engine(sqlite_url)
    upgrade(engine)
    maker = session_factory(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = replace(ScreeningParams(jd, fr, 0.1, 10.0), chunk_days=0.03)  # 29 segments of 5 minutes
    assert [k1 - k0 for k0, k1 in params.chunks()] == [9, 9, 9, 2]
    records = read_elements(IRIDIUM).records
    payload = CatalogPayload.from_elements(records)
    outcome = run_screening(maker, payload, params, lambda: NOW, workers=1)
    changed = sorted({e.id1 for e in outcome.result.events} | {r.norad_id for r in records[::7]})
    new = _new(records, changed, 0.3)
    up = update_run(maker, outcome.run_id, new, workers=2)
    assert up.result.stats["kept_states"] == 1.0
    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events
    assert len(full) >= 3 and _stored_rows(maker, outcome.run_id) == _rows(full)
    again = _new(list(merged_records(merged)), changed[::2], -0.2)
    assert update_run(maker, outcome.run_id, again, workers=2).result.stats["kept_states"] == 1.0
    merged2, _ = merged.updated_with(again)
    assert _stored_rows(maker, outcome.run_id) == _rows(screen(merged2, params, workers=1).events)
    engine.dispose()


def test_kept_update_on_each_backend_with_the_keep_dir_setting(backend_url, monkeypatch, tmp_path):
    """The kept path where the database is not a SQLite file (PostgreSQL: only with
    ``SPACECOMMONS_SCREENING_KEEP_DIR``), and on SQLite with the same setting: the run keeps its node
    states in that directory, two successive updates use them (the second reads what the first rewrote
    in place) and the stored events equal a full rerun's each time (the independent computation)."""
    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import kept_states, make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening, update_run

    monkeypatch.setenv("SPACECOMMONS_SCREENING_KEEP_DIR", str(tmp_path / "kept"))
    engine = make_engine(backend_url)
    upgrade(engine)
    maker = session_factory(engine)
    try:
        jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
        params = ScreeningParams(jd, fr, 0.1, 10.0)
        records = read_elements(IRIDIUM).records
        payload = CatalogPayload.from_elements(records)
        outcome = run_screening(maker, payload, params, lambda: NOW, workers=1)
        assert kept_states.keep_root(maker.kw["bind"]) == tmp_path / "kept"
        assert (tmp_path / "kept" / f"run-{outcome.run_id}" / "meta.json").exists()
        merged = payload
        for k, degrees in enumerate((0.3, -0.2)):
            changed = sorted({e.id1 for e in outcome.result.events})[k : k + 2] + [records[5 + k].norad_id]
            new = _new(list(merged_records(merged)), changed, degrees)
            up = update_run(maker, outcome.run_id, new, workers=1)
            assert up.result.stats["kept_states"] == 1.0
            merged, _ = merged.updated_with(new)
            full = screen(merged, params, workers=1).events
            assert len(full) >= 3
            assert _stored_rows(maker, outcome.run_id) == _rows(full)
    finally:
        engine.dispose()


def test_the_preloaded_kernels_are_the_ones_the_update_calls(stored, monkeypatch):  # noqa: F811
    """``incremental.preload_kernels`` (run in a thread by ``update_run`` while it reads the run) must
    load the very specialisations the update then calls: numba compiles one per argument-type tuple,
    so a preload with other types would load code nobody runs and leave the update to load its own.
    The independent check: numba's own typing (``numba.typeof``) of every argument of every call of
    the four kernels, recorded around the preload alone and around a real update from kept states."""
    import threading

    import numba

    from spacecommons.conjunction import incremental, kernels
    from spacecommons.workflows.screening import update_run

    calls: list[tuple[str, str, tuple]] = []
    names = ("radial_shells", "shell_partners", "broad_phase_changed_partners", "local_minima")
    for name in names:
        kernel = getattr(kernels, name)

        def recorded(*args, _kernel=kernel, _name=name):
            calls.append((threading.current_thread().name, _name, tuple(numba.typeof(a) for a in args)))
            return _kernel(*args)

        monkeypatch.setattr(kernels, name, recorded)
    incremental.preload_kernels()
    preloaded = {(name, types) for _, name, types in calls}
    assert {name for name, _ in preloaded} == set(names)
    calls.clear()
    maker, records, payload, params, outcome = stored
    up = update_run(maker, outcome.run_id, _new(records, sorted({e.id1 for e in outcome.result.events})[:2]), workers=2)
    assert up.result.stats["kept_states"] == 1.0
    for thread in threading.enumerate():
        if thread.name == "preload-kernels":
            thread.join()
    used = {(name, types) for thread, name, types in calls if thread != "preload-kernels"}
    assert {name for name, _ in used} == set(names)
    assert used <= preloaded, used - preloaded
    assert any(thread == "preload-kernels" for thread, _, _ in calls)  # update_run started the preload


def test_kept_update_with_a_vehicle_docking_stores_the_full_reruns_colocated_rows(sqlite_url):
    """A vehicle docks: an update adds an object flying NAUKA's element set (another catalog number), so
    it is co-located with NAUKA, SOYUZ MS-19 and DRAGON CRS-24 (docked at the ISS, one element set:
    tests/data/SOURCES.md) for the whole window; then SOYUZ MS-19 undocks. Each changes the rows of
    unchanged members (one row per member beyond the group's first), so the update re-screens the whole
    group (``colocation_closure``). After each, the stored events, co-located rows included, are those of
    a full all-vs-all rerun of the updated catalog (the independent computation), on the kept path and
    on the path without kept states (a twin run)."""
    from pathlib import Path

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction import screen
    from spacecommons.conjunction.catalog_payload import CatalogPayload
    from spacecommons.conjunction.params import ScreeningParams
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.timescales import iso_to_jd
    from spacecommons.workflows.screening import run_screening, update_run

    iss = Path(__file__).parent / "data" / "tle" / "iss_docked_2022-01-22.3le"
    engine = make_engine(sqlite_url)
    upgrade(engine)
    maker = session_factory(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 10.0)
    records = read_elements(iss).records + read_elements(IRIDIUM).records
    payload = CatalogPayload.from_elements(records)
    outcome = run_screening(maker, payload, params, lambda: NOW, workers=1)
    nauka = next(r for r in records if r.norad_id == 49044)
    l1 = f"{nauka.line1[:2]}99991{nauka.line1[7:68]}"
    l2 = f"{nauka.line2[:2]}99991{nauka.line2[7:68]}"
    new = CatalogPayload.from_elements(
        read_elements("new.tle", text=f"DOCKING VEHICLE\n{l1}{_checksum(l1)}\n{l2}{_checksum(l2)}\n").records
    )
    twin = run_screening(maker, payload, params, lambda: NOW, workers=1)
    up = update_run(maker, outcome.run_id, new, workers=2)
    assert up.result.stats["kept_states"] == 1.0 and up.updated == (99991,)
    assert up.rescreened == (49044, 49269, 50318, 99991)  # the vehicle and the group it joins
    assert "kept_states" not in update_run(maker, twin.run_id, new, workers=1, use_kept=False).result.stats
    merged, _ = payload.updated_with(new)
    full = screen(merged, params, workers=1).events
    assert {(e.id1, e.id2) for e in full if e.kind == "co-located"} == {(49044, m) for m in (49269, 50318, 99991)}
    assert _stored_rows(maker, outcome.run_id) == _rows(full) == _stored_rows(maker, twin.run_id)

    # then SOYUZ MS-19 undocks (mean anomaly moved by 0.5 deg, ~60 km): the group loses a member
    soyuz = _new(list(merged_records(merged)), [49269], 0.5)
    up = update_run(maker, outcome.run_id, soyuz, workers=2)
    assert up.result.stats["kept_states"] == 1.0 and up.updated == (49269,)
    update_run(maker, twin.run_id, soyuz, workers=1, use_kept=False)
    merged2, _ = merged.updated_with(soyuz)
    full2 = screen(merged2, params, workers=1).events
    assert {(e.id1, e.id2) for e in full2 if e.kind == "co-located"} == {(49044, m) for m in (50318, 99991)}
    assert _stored_rows(maker, outcome.run_id) == _rows(full2) == _stored_rows(maker, twin.run_id)
    engine.dispose()
