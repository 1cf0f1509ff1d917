"""Threads inside a screening chunk (issue #18, target 1): the broad phase split by segment ranges
and the narrow phase split by candidate ranges must give exactly what one call gives.

Independent computation: the same kernels called once over the whole chunk (the code path every
earlier identity and recall test checked against the dense-sampling oracle and the brute-force
baseline); the split results are compared with it element for element, and whole screenings row
for row. Data: CelesTrak's Iridium-33 and Cosmos-2251 debris clouds (2021-10-02, bundled sample).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from spacecommons.catalog import read_tle
from spacecommons.cli.main import app
from spacecommons.cli.screen import screen_threads, screen_workers
from spacecommons.conjunction import ScreeningParams, kernels, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.conjunction.screen import _broad_phase, _local_minima, _node_times, _split
from spacecommons.propagation.sgp4_batch import propagate_satrecs
from spacecommons.timescales import iso_to_jd

from .conftest import SAMPLE

GROUPS = ("cosmos-2251-debris_celestrak_2021-10-02.txt", "iridium-33-debris_celestrak_2021-10-02.txt")
START = "2021-10-02T00:00:00Z"


@pytest.fixture(scope="module")
def clouds():
    seen = {}
    for name in GROUPS:
        for r in read_tle((SAMPLE / name).read_text(), name).records:
            seen[r.norad_id] = r
    return CatalogPayload.from_elements(list(seen.values()))


def _rows(events):
    return [(e.id1, e.id2, e.tca, e.miss_km, e.speed_km_s, e.r_km, e.t_km, e.n_km, e.kind, e.n_minima) for e in events]


def test_split_covers_the_range_once():
    for total in (0, 1, 2, 7, 72, 1001):
        for threads in (1, 2, 3, 8):
            parts = _split(total, threads)
            covered = [k for a, b in parts for k in range(a, b)]
            assert covered == list(range(total))
            assert all(b > a for a, b in parts) and len(parts) <= threads


def test_kernels_split_by_range_give_the_triples_and_minima_of_one_call(clouds):
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, 0.05, 5.0)  # 72 minutes: 15 segments
    _, jds, frs = _node_times(params, 0, params.n_segments)
    err, r, v = propagate_satrecs(clouds.satrecs(), jds, frs, clouds.satrec_array())
    ok = err == 0
    n, n_seg = r.shape[0], r.shape[1] - 1
    pad = np.full(n, 0.5 + params.threshold_km / 2)
    none = np.zeros(0, dtype=np.int64)
    lo, hi = kernels.radial_shells(r, v, ok, params.step_s, params.substeps, pad)
    one = kernels.screen_broad_phase(
        r, v, ok, params.step_s, params.substeps, pad, 300.0, none, False, lo, hi, 0, n_seg
    )
    assert one[0].size > 1000
    for threads in (2, 3, 5):
        split = _broad_phase(r, v, ok, params, pad, 300.0, none, np.stack([lo, hi]), threads)
        for a, b in zip(one, split, strict=True):
            assert np.array_equal(a, b)  # segment ranges in order: even the order is that of one call
    ci, cj, ck = one
    limit = np.full(ci.size, params.threshold_km + 1.0)
    mc, ms, _ = kernels.local_minima(r, v, params.step_s, ci, cj, ck, limit)
    assert mc.size > 10
    for threads in (2, 3):
        sc, ss = _local_minima(r, v, params.step_s, ci, cj, ck, limit, threads)
        assert np.array_equal(sc, mc) and np.array_equal(ss, ms)
    empty = _local_minima(r, v, params.step_s, ci[:0], cj[:0], ck[:0], limit[:0], 2)
    assert empty[0].size == 0 and empty[1].size == 0


def test_screening_on_threads_is_identical_to_one_thread(clouds):
    jd, fr = iso_to_jd(START)
    params = ScreeningParams(jd, fr, 0.1, 10.0, chunk_days=0.05)
    serial = screen(clouds, params, workers=1)
    threaded = screen(clouds, params, workers=1, threads=3)
    assert len(serial.events) > 20
    assert _rows(threaded.events) == _rows(serial.events)
    assert threaded.stats["candidate_segments"] == serial.stats["candidate_segments"]


def test_worker_and_thread_rule():
    # the 2022 catalog's 6-hour slice is one chunk: one process, both cores as threads
    assert screen_workers(23_939, 0.25, 1, 2) == 1 and screen_threads(1, 2) == 2
    # 7 days: 14 chunks on 2 processes, one thread each
    assert screen_workers(23_939, 7.0, 14, 2) == 2 and screen_threads(2, 2) == 1
    assert screen_threads(3, 2) == 1 and screen_threads(1, 1) == 1


def test_timings_file_names_every_stage(tmp_path):
    db = tmp_path / "t.db"
    out = tmp_path / "t.json"
    tle = SAMPLE / GROUPS[1]
    args = ["screen", "--elements", tle, "--start", START, "--days", "0.02", "--threshold-km", "20"]
    r = CliRunner().invoke(app, [str(a) for a in (*args, "--timings", out, "--database-url", f"sqlite:///{db}")])
    assert r.exit_code == 0, r.output
    t = json.loads(out.read_text())
    assert {"open_db_s", "read_elements_s", "payload_s", "run_s"} <= set(t["stages"])
    assert {"wall_s", "broad_phase_s", "narrow_phase_s", "store_s", "save_chunks_s"} <= set(t["engine"])
    assert all(v >= 0 for v in t["stages"].values())
