"""Dask and the local process pool screen a synthetic future catalog identically (issue #18, target 3).

The catalog is the Iridium 33 debris sample + one Starlink Gen2 shell (FCC 22-91) + NASA-breakup
debris; each chunk is a pure function of (payload, params, index), so every executor must return
the same events, pair by pair, to the last bit of TCA and miss distance.
"""

from __future__ import annotations

import pytest

from spacecommons.catalog import read_tle
from spacecommons.conjunction import ScreeningParams, screen
from spacecommons.conjunction.catalog_payload import CatalogPayload
from spacecommons.parallel import dask_client, is_local, local_workers
from spacecommons.sustainability.synthetic import SHELLS, synthesize
from spacecommons.timescales import datetime_to_jd

from .conftest import SAMPLE


def _rows(events):
    return [(e.id1, e.id2, e.tca, e.miss_km, e.kind, e.n_minima) for e in events]


def test_dask_and_local_pool_give_identical_events_on_a_synthetic_catalog():
    name = "iridium-33-debris_celestrak_2021-10-02.txt"
    base = read_tle((SAMPLE / name).read_text(), name).records
    syn = synthesize(base, 520, seed=11, shells=(SHELLS[7],))
    payload = CatalogPayload.from_elements(syn.elements)
    jd, fr = datetime_to_jd(syn.epoch)
    params = ScreeningParams(jd, fr, 0.04, 10.0, chunk_days=0.01)
    assert len(params.chunks()) >= 4  # several chunks, so each executor merges results from several
    pooled = screen(payload, params, workers=2)
    assert pooled.events, "the comparison needs events"

    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        dasked = screen(payload, params, dask_address=cluster.scheduler_address)
    assert _rows(dasked.events) == _rows(pooled.events)
    assert dasked.failures == pooled.failures


def test_local_cluster_addresses():
    assert is_local("local") and is_local("local:3") and not is_local("tcp://10.0.0.1:8786")
    assert local_workers("local") is None and local_workers("local:3") == 3
    for bad in ("local:0", "local:x", "localhost:8786"):
        with pytest.raises(ValueError, match="local:N"):
            local_workers(bad)
    with pytest.raises(ValueError, match="local:N"), dask_client("local:two"):
        pass
