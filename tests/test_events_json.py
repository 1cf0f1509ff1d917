"""The fast JSON path of ``GET /screening/runs/{id}/events`` (issue #18, target 5) writes the same
document as FastAPI's own path for ``response_model=list[EventOut]`` (a model per row, then
``jsonable_encoder``), which is the independent computation here."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi.encoders import jsonable_encoder

from spacecommons.service.screening_routes import EVENTS_JSON, EventOut
from spacecommons.storage.tables import ConjunctionEvent


def _event(i: int, **kw) -> ConjunctionEvent:
    base = dict(
        id=i,
        run_id=1,
        id1=25544,
        name1="ISS (ZARYA)",
        id2=48274 + i,
        name2="CSS (TIANHE) — ñ",
        tca=datetime(2021, 10, 2, 3, 14, 15, 926535, tzinfo=UTC),
        miss_km=0.1 + i / 3,
        speed_km_s=14.123456789,
        r_km=-1e-7,
        t_km=123456.789,
        n_km=0.0,
        kind="minimum",
        n_minima=1,
        pc=None,
        pc_method=None,
    )
    base.update(kw)
    return ConjunctionEvent(**base)


def test_fast_events_json_equals_fastapi_response_model_path():
    rows = [_event(1), _event(2, pc=3.2e-5, pc_method="foster-1992"), _event(3, tca=datetime(2022, 1, 1, tzinfo=UTC))]
    fast = json.loads(EVENTS_JSON.dump_json(EVENTS_JSON.validate_python(rows, from_attributes=True)))
    slow = jsonable_encoder([EventOut.model_validate(e, from_attributes=True) for e in rows])
    assert fast == slow
    assert fast[0]["tca"] == "2021-10-02T03:14:15.926Z"  # milliseconds, truncated (InstantMs)
    assert fast[1]["pc"] == 3.2e-5 and fast[0]["pc"] is None
    assert EVENTS_JSON.dump_json(EVENTS_JSON.validate_python([], from_attributes=True)) == b"[]"
