"""The screening run's serial tail made cheaper (issue #18 target 1, branch ``tail``): each shortcut
gives what the plain path gives. Expected values are the plain path's own, computed in the test
(an independent computation of the same thing): the in-process run, ``sorted(...)[:n]``, the
stored chunk before the round trip."""

from __future__ import annotations

import gc
import json
from dataclasses import astuple
from pathlib import Path

import pytest

from spacecommons.catalog import read_tle
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.colocated import apply_colocation, colocated_pairs
from spacecommons.conjunction.events import ConjunctionEvent, build_events, paused_gc
from spacecommons.conjunction.params import ChunkResult
from spacecommons.conjunction.screen import screen_chunk
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE

# NAUKA, SOYUZ MS-19 and DRAGON CRS-24 docked at the ISS, one element set (Space-Track 3LE snapshot
# 2022-01-22, tests/data/SOURCES.md): a co-located group in every window
ISS = Path(__file__).parent / "data" / "tle" / "iss_docked_2022-01-22.3le"
# CelesTrak's Fengyun-1C debris group (2,686 objects, epochs up to 2021-10-02), as in test_screen.py
FENGYUN = SAMPLE / "fengyun-1c_1999-025_celestrak_2021-10-02.txt"


def _rows(events) -> list[tuple]:
    return [astuple(e) for e in events]


@pytest.fixture(scope="module")
def catalog() -> CatalogPayload:
    records = read_tle(ISS.read_text(), ISS.name).records + read_tle(FENGYUN.read_text(), FENGYUN.name).records
    return CatalogPayload.from_elements(records)


@pytest.fixture(scope="module")
def params() -> ScreeningParams:
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    # the docked vehicles (elements of 2022-01-22, propagated back) stay one co-located group
    return ScreeningParams(jd, fr, 0.04, 8.0, chunk_days=0.01)


@pytest.fixture(scope="module")
def serial(catalog, params):
    return screen(catalog, params, workers=1)


def test_pool_run_with_merge_inputs_built_alongside_is_the_serial_run(catalog, params, serial):
    """With a pool, the co-located pairs and SGP4 records are built on a thread while the chunks run
    and the pool is not waited for: the events are the in-process run's, co-located rows included."""
    assert any(e.kind == "co-located" for e in serial.events)
    assert len(serial.events) > 10
    pooled = screen(catalog, params, workers=2)
    assert _rows(pooled.events) == _rows(serial.events)
    assert pooled.failures == serial.failures


def test_colocation_with_given_pairs_is_colocation_computing_them(catalog, params):
    chunks = [screen_chunk(catalog, params, k) for k in range(len(params.chunks()))]
    events = build_events(catalog, params, chunks)
    pairs = colocated_pairs(catalog, params)
    assert pairs
    assert _rows(apply_colocation(list(events), catalog, params, pairs=pairs)) == _rows(
        apply_colocation(list(events), catalog, params)
    )


def test_stored_chunk_round_trip_is_exact_and_old_form_still_loads(catalog, params, serial):
    """States travel as base64 float64: the same bits back. A chunk stored before (states as JSON
    lists) loads to the same chunk, and a run resumed from either gives the events of the run."""
    chunks = [screen_chunk(catalog, params, k) for k in range(len(params.chunks()))]
    assert sum(len(c.states) for c in chunks) > 10
    texts = [c.to_json() for c in chunks]
    assert all("states_f8" in json.loads(t) and "states" not in json.loads(t) for t in texts)
    back = [ChunkResult.from_json(t) for t in texts]
    for a, b in zip(chunks, back, strict=True):
        assert b.states == [list(map(float, s)) for s in a.states]  # == on floats: bit for bit here
        assert (b.i, b.j, b.t, b.miss_km, b.failures, b.stats) == (a.i, a.j, a.t, a.miss_km, a.failures, a.stats)
    legacy = []
    for t, c in zip(texts, chunks, strict=True):
        d = json.loads(t)
        del d["states_f8"]
        d["states"] = c.states
        legacy.append(ChunkResult.from_json(json.dumps(d)))
    assert [c.states for c in legacy] == [c.states for c in back]
    for stored in (back, legacy):
        resumed = screen(catalog, params, workers=1, completed={c.index: c for c in stored})
        assert _rows(resumed.events) == _rows(serial.events)


def test_a_chunk_with_other_states_keeps_the_list_form():
    odd = ChunkResult(index=0, i=[0], j=[1], t=[1.0], miss_km=[0.5], states=[[1.0, 2.0]])
    text = odd.to_json()
    assert json.loads(text)["states"] == [[1.0, 2.0]]
    assert ChunkResult.from_json(text).states == [[1.0, 2.0]]


def test_paused_gc_restores_the_collector_state():
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError), paused_gc():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_closest_rows_are_the_first_of_the_sorted_list():
    from spacecommons.cli.screen import event_rows

    misses = [3.0, 1.0, 2.0, 1.0, 1.0, 0.5, 2.0, 3.0]
    events = [
        ConjunctionEvent(k, f"O{k}", 100 + k, "X", "2022-01-22T00:00:00Z", m, 1.0, 0, 0, 0, "encounter", "", "", 1, 0)
        for k, m in enumerate(misses)
    ]
    for limit in (0, 1, 3, 4, 8, 20, None):
        expected = sorted(events, key=lambda e: e.miss_km)[:limit]  # ties keep their order
        assert [r["id1"] for r in event_rows(events, limit)] == [e.id1 for e in expected]


def test_sgp4_records_are_kept_for_the_latest_payloads_only(catalog):
    """``CatalogPayload.satrecs`` builds a payload's records once per process, but keeps those of the
    16 payloads built last only: a service worker that updates runs for days builds records of a few
    small subsets each time, which were all kept. The records equal fresh ones (``Satrec.twoline2rv``
    of the same lines: the independent computation)."""
    from sgp4.api import Satrec

    from spacecommons.conjunction import catalog_payload

    subsets = [catalog.subset([k, k + 1]) for k in range(0, 60, 2)]
    built = [s.satrecs() for s in subsets]
    assert len(catalog_payload._CACHE) <= catalog_payload._CACHE_SIZE == 16
    assert subsets[-1].satrecs() is built[-1]  # kept: the same list, not built again
    assert subsets[0].digest not in catalog_payload._CACHE
    again = subsets[0].satrecs()  # dropped: built again, the same records
    assert again is not built[0]
    fresh = [Satrec.twoline2rv(*t) for t in subsets[0].texts]
    assert [(s.satnum, s.jdsatepoch, s.no_kozai) for s in again] == [
        (s.satnum, s.jdsatepoch, s.no_kozai) for s in fresh
    ]


def test_a_member_in_the_group_through_another_gets_its_own_closest_sample():
    """Three copies of NAUKA's element set (tests/data, docked at the ISS) 0.005 deg of mean anomaly
    apart (~0.59 km along the track): A and B, 1.18 km apart, are each within 1 km of X, so the three
    are one group through X. The row of B (not itself within 1 km of A) holds its own closest sample
    to A: the minimum over the 10-minute samples of the window of their SGP4 distance, computed here
    with ``Satrec.sgp4`` (the independent computation)."""
    import numpy as np
    from sgp4.api import Satrec

    from spacecommons.catalog import read_elements
    from spacecommons.conjunction.colocated import SAMPLE_S

    from .test_screen_update import _checksum, _shift_mean_anomaly

    nauka = next(r for r in read_tle(ISS.read_text(), ISS.name).records if r.norad_id == 49044)
    text = ""
    for number, shift in ((90001, -0.005), (90002, 0.0), (90003, 0.005)):
        l1 = f"{nauka.line1[:2]}{number}{nauka.line1[7:68]}"
        l2 = _shift_mean_anomaly(f"{nauka.line2[:2]}{number}{nauka.line2[7:68]}0", shift)
        text += f"COPY {number}\n{l1}{_checksum(l1)}\n{l2}\n"
    records = read_elements("chain.tle", text=text).records
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 1.1)  # no encounter of A and B (1.18 km) to take the row's miss from
    rows = {(e.id1, e.id2): e for e in screen(CatalogPayload.from_elements(records), params, workers=1).events}
    assert set(rows) == {(90001, 90002), (90001, 90003)}
    assert all(e.kind == "co-located" for e in rows.values())
    a, b = (Satrec.twoline2rv(r.line1, r.line2) for r in (records[0], records[2]))
    t = np.append(np.arange(0.0, params.duration_s, SAMPLE_S), params.duration_s)
    d = [np.linalg.norm(np.subtract(b.sgp4(jd, fr + s / 86400.0)[1], a.sgp4(jd, fr + s / 86400.0)[1])) for s in t]
    assert 1.0 < rows[(90001, 90003)].miss_km == pytest.approx(min(d), abs=1e-9)
