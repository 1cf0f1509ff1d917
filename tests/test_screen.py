"""Screening engine: recall against an exhaustive oracle on real data, all regimes, spans,
executors (in-process, process pool, dask) and resume give identical results."""

from __future__ import annotations

import numpy as np
import pytest

from spacecommons.catalog import ElementSet, read_tle
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE
from .oracle import oracle_minima

ONE_MS = 1e-3
ONE_M_KM = 1e-3
# A minimum is only defined to the time in which the distance changes by less than SGP4's
# rounding noise; we allow the time in which it changes by 1 micrometre: sqrt(2 miss 1e-9 km)
# / v_rel (1 ms above ~0.1 km/s; 17 ms for 5 km at 6 m/s).
POSITION_NOISE_KM = 1e-9


def tca_tolerance_s(miss_km: float, speed_km_s: float) -> float:
    return max(ONE_MS, np.sqrt(2.0 * miss_km * POSITION_NOISE_KM) / max(speed_km_s, 1e-9))


def _sample(name: str) -> list[ElementSet]:
    return read_tle((SAMPLE / name).read_text(), name).records


def _match(events, payload, oracle):
    """Every oracle minimum has an engine event: same pair, TCA within 1 ms (or the noise limit
    of slow encounters), miss within 1 m (or it lies inside a proximity span of that pair).
    Returns the worst TCA difference scaled to its tolerance (< 1 ms means within) and the
    worst miss difference."""
    by_pair: dict[tuple[int, int], list] = {}
    for e in events:
        by_pair.setdefault((min(e.id1, e.id2), max(e.id1, e.id2)), []).append(e)
    worst_dt = worst_dd = 0.0
    for i, j, t, miss in oracle:
        a, b = sorted((payload.norad_ids[i], payload.norad_ids[j]))
        cands = by_pair.get((a, b), [])
        spans = [e for e in cands if e.kind == "proximity"]
        near = [e for e in cands if abs(e.tca_s - t) < tca_tolerance_s(miss, e.speed_km_s)]
        assert near or spans, f"missed {a}-{b} at t={t:.3f} s, miss {miss:.4f} km"
        if near:
            worst_dt = max(worst_dt, abs(near[0].tca_s - t) / tca_tolerance_s(miss, near[0].speed_km_s) * ONE_MS)
            worst_dd = max(worst_dd, abs(near[0].miss_km - miss))
    return worst_dt, worst_dd


@pytest.fixture(scope="module")
def fengyun():
    """CelesTrak's Fengyun-1C debris group (2,686 objects, epochs up to 2021-10-02)."""
    return CatalogPayload.from_elements(_sample("fengyun-1c_1999-025_celestrak_2021-10-02.txt"))


def test_recall_against_dense_sampling_oracle_on_real_debris_cloud(fengyun):
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.05, 10.0, chunk_days=0.025)
    result = screen(fengyun, params, workers=1)
    # samples every 2 s: the oracle's pair radius is padded by the closing in half a step, so it
    # misses no minimum at any step; at 1 s it found the same 175 minima (pairs equal, times within
    # 0.26 ms, distances within 2e-9 km; worst normalised dt 0.07 vs 0.20 ms of the 1 ms bound) in
    # 2.3x the CPU (21.6 s against 9.3 s)
    oracle = oracle_minima(fengyun.satrecs(), jd, fr, params.duration_s, params.threshold_km, step_s=2.0)
    assert len(oracle) > 50  # a real workload, not an empty one
    worst_dt, worst_dd = _match(result.events, fengyun, oracle)
    assert worst_dt < ONE_MS and worst_dd < ONE_M_KM
    # and nothing invented: every engine event is below the threshold on true SGP4
    assert all(e.miss_km < params.threshold_km for e in result.events)
    assert len(result.events) <= len(oracle)


def _omm(norad_id: int, **elements) -> ElementSet:
    fields = {
        "EPOCH": "2021-10-02T00:00:00.000000",
        "BSTAR": "0",
        "MEAN_MOTION_DOT": "0",
        "MEAN_MOTION_DDOT": "0",
        "NORAD_CAT_ID": str(norad_id),
        "OBJECT_NAME": f"TEST {norad_id}",
    }
    fields.update({k: repr(v) for k, v in elements.items()})
    return ElementSet(norad_id=norad_id, name=fields["OBJECT_NAME"], fields=fields, format="omm")


GEO = dict(
    MEAN_MOTION=1.00273791,
    ECCENTRICITY=0.0002,
    INCLINATION=1.0,
    RA_OF_ASC_NODE=80.0,
    ARG_OF_PERICENTER=0.0,
    MEAN_ANOMALY=10.0,
)
MOLNIYA = dict(
    MEAN_MOTION=2.00613,
    ECCENTRICITY=0.72,
    INCLINATION=63.4,
    RA_OF_ASC_NODE=200.0,
    ARG_OF_PERICENTER=270.0,
    MEAN_ANOMALY=0.0,
)


def test_deep_space_pairs_geo_and_molniya_match_the_oracle():
    """Constructed deep-space (SDP4) pairs: two GEO objects whose planes differ by 0.5 deg meet
    near the nodes twice a day at 27 m/s; two Molniya orbits 0.3 deg apart in node meet three
    times a day at 45 m/s."""
    objects = [
        _omm(90001, **GEO),
        _omm(90002, **{**GEO, "INCLINATION": 1.5, "MEAN_ANOMALY": 10.002}),
        _omm(90003, **MOLNIYA),
        _omm(90004, **{**MOLNIYA, "RA_OF_ASC_NODE": 200.3, "MEAN_ANOMALY": -0.02}),
    ]
    payload = CatalogPayload.from_elements(objects)
    assert all(s.method == "d" for s in payload.satrecs())
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 1.0, 10.0)
    result = screen(payload, params, workers=1)
    oracle = oracle_minima(payload.satrecs(), jd, fr, params.duration_s, params.threshold_km, step_s=1.0)
    pairs = {(payload.norad_ids[i], payload.norad_ids[j]) for i, j, _, _ in oracle}
    assert {(90001, 90002), (90003, 90004)} <= pairs
    assert len(oracle) == 5
    worst_dt, worst_dd = _match(result.events, payload, oracle)
    assert worst_dt < ONE_MS and worst_dd < ONE_M_KM


def test_formation_is_one_proximity_span_not_many_events():
    """Two LEO objects 0.01 deg apart in mean anomaly (~1.2 km) stay close all day."""
    leo = dict(
        MEAN_MOTION=15.2,
        ECCENTRICITY=0.001,
        INCLINATION=97.5,
        RA_OF_ASC_NODE=30.0,
        ARG_OF_PERICENTER=90.0,
        MEAN_ANOMALY=100.0,
    )
    objects = [_omm(91001, **leo), _omm(91002, **{**leo, "MEAN_ANOMALY": 100.01, "INCLINATION": 97.501})]
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.5, 5.0)
    result = screen(objects, params, workers=1)
    assert len(result.events) == 1
    span = result.events[0]
    assert span.kind == "proximity" and span.n_minima >= 5
    assert span.speed_km_s < 0.05 and span.miss_km < 2.0
    assert span.span_start <= span.tca <= span.span_end < "2021-10-02T12:00:00.000Z"


def test_primaries_screen_only_their_pairs(fengyun):
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    full = screen(fengyun, ScreeningParams(jd, fr, 0.05, 10.0), workers=1).events
    primary = full[0].id1
    params = ScreeningParams(jd, fr, 0.05, 10.0, primaries=(primary,))
    some = screen(fengyun, params, workers=1).events
    expected = [(e.tca, e.miss_km) for e in full if primary in (e.id1, e.id2)]
    assert [(e.tca, e.miss_km) for e in some] == expected
    assert all(e.id1 == primary for e in some)  # object 1 is always the primary


def _rows(events):
    return [(e.id1, e.id2, e.tca, round(e.miss_km, 9), e.kind) for e in events]


def test_pool_dask_and_resume_give_identical_results(fengyun):
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.04, 8.0, chunk_days=0.01)
    serial = screen(fengyun, params, workers=1)
    pooled = screen(fengyun, params, workers=2)
    assert _rows(pooled.events) == _rows(serial.events)

    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        dasked = screen(fengyun, params, dask_address=cluster.scheduler_address)
    assert _rows(dasked.events) == _rows(serial.events)

    # interrupt after two chunks, then resume from what was saved
    saved = {}

    class Stop(Exception):
        pass

    def on_chunk(chunk):
        saved[chunk.index] = chunk
        if len(saved) == 2:
            raise Stop

    with pytest.raises(Stop):
        screen(fengyun, params, workers=1, on_chunk=on_chunk)
    resumed = screen(fengyun, params, workers=1, completed=saved)
    assert _rows(resumed.events) == _rows(serial.events)


def test_reentered_and_broken_objects_are_reported_not_screened():
    from importlib.resources import files

    lines = (files("sgp4") / "SGP4-VER.TLE").read_text().splitlines()
    l1 = next(t for t in lines if t.startswith("1 33333"))
    l2 = next(t for t in lines if t.startswith("2 33333"))[:69]
    from spacecommons.catalog.tle import checksum

    bad = read_tle(f"{l1[:68]}{checksum(l1)}\n{l2[:68]}{checksum(l2)}\n").records
    good = _sample("iridium-33-debris_celestrak_2021-10-02.txt")[:20]
    jd, fr = bad[0].epoch_jd, bad[0].epoch_fr
    result = screen(good + bad, ScreeningParams(jd, fr, 0.1, 5.0), workers=1)
    assert 33333 in result.failures and "perigee" in result.failures[33333]
    assert all(33333 not in (e.id1, e.id2) for e in result.events)


def test_events_write_the_documented_columns(tmp_path, fengyun):
    import csv
    import json

    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    events = screen(fengyun, ScreeningParams(jd, fr, 0.02, 10.0), workers=1).events
    events.write(tmp_path / "e.csv")
    events.write(tmp_path / "e.json")
    events.write(tmp_path / "e.parquet")
    rows = list(csv.DictReader((tmp_path / "e.csv").open()))
    assert list(rows[0])[:10] == [
        "id1",
        "name1",
        "id2",
        "name2",
        "tca",
        "miss_km",
        "speed_km_s",
        "r_km",
        "t_km",
        "n_km",
    ]
    assert rows[0]["tca"].endswith("Z") and len(rows[0]["tca"]) == len("2021-10-02T00:00:00.000Z")
    first = events[0]
    assert np.isclose(np.linalg.norm([first.r_km, first.t_km, first.n_km]), first.miss_km, rtol=1e-9)
    assert len(json.loads((tmp_path / "e.json").read_text())) == len(events)
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "e.parquet").num_rows == len(events)


def test_interrupting_a_pool_run_stops_its_workers_at_once(fengyun):
    """Ctrl-C (or any failure) must not leave the pool computing every queued chunk."""
    import multiprocessing
    import time

    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    params = ScreeningParams(jd, fr, 0.4, 5.0, chunk_days=0.01)  # 40 chunks
    seen = []

    class Stop(Exception):
        pass

    def on_chunk(chunk):
        seen.append(chunk.index)
        raise Stop

    with pytest.raises(Stop):
        screen(fengyun, params, workers=2, on_chunk=on_chunk)
    deadline = time.monotonic() + 10.0
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
    assert len(seen) == 1


def test_golden_section_min_meets_its_tolerance_at_the_golden_rate():
    """The one golden-section search of TCA refinement and maneuver planning. Expected values are
    analytic: |x - pi| and cos have their minimum on [2, 4] at pi; a parabola at its vertex. Golden section
    (Kiefer 1953; Numerical Recipes 3rd ed. section 10.2) shrinks the bracket by 1/phi per
    evaluation, so reaching a width tol from W takes ceil(log(W/tol)/log(phi)) steps after the
    first two evaluations."""
    import math

    from spacecommons.conjunction.refine import golden_section_min

    calls = []

    def f(x: float) -> float:  # |x - pi|: the distance of a pair that collides, a V-shaped minimum
        calls.append(x)
        return abs(x - math.pi)

    x = golden_section_min(f, 2.0, 4.0, 1e-9)
    assert abs(x - math.pi) <= 0.5e-9
    phi = (1 + math.sqrt(5)) / 2
    assert len(calls) == 2 + math.ceil(math.log(2.0 / 1e-9) / math.log(phi))
    # a smooth minimum is resolved to the tolerance (above sqrt(machine epsilon), where cos is still
    # distinguishable from its minimum)
    assert abs(golden_section_min(math.cos, 2.0, 4.0, 1e-6) - math.pi) <= 1e-6
    # an undefined region answered with inf (an SGP4 failure) is never preferred to finite values
    assert abs(golden_section_min(lambda t: math.inf if t > 3.5 else (t - 1.25) ** 2, 0.0, 4.0, 1e-8) - 1.25) < 1e-8
