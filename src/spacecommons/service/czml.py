"""CZML (CesiumJS's scene format) from SGP4: trajectories around a conjunction, catalog snapshots.

Positions are ITRF (Cesium's "FIXED" frame), in metres, from SGP4 states rotated TEME -> ITRF."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ..frames import teme_to_itrf
from ..propagation.sgp4_batch import propagate_satrecs
from ..timescales import datetime_to_jd

COLORS = ([95, 179, 255, 255], [255, 107, 107, 255])


def _iso(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _itrf(satrecs, when) -> np.ndarray:
    """(n, m, 3) ITRF positions in metres of each record at each datetime."""
    jd_fr = [datetime_to_jd(t) for t in when]
    jd = np.array([a for a, _ in jd_fr])
    fr = np.array([b for _, b in jd_fr])
    _, r, v = propagate_satrecs(satrecs, jd, fr)
    out = np.empty_like(r)
    for k in range(r.shape[0]):
        out[k], _ = teme_to_itrf(r[k], v[k], jd, fr)
    return out * 1000.0


def conjunction_czml(
    tca, objects: list[tuple[int, str, object]], half_window_s: float = 2700.0, step_s: float = 30.0
) -> list[dict]:
    """Both objects' trajectories over TCA +- ``half_window_s``; ``objects`` = [(norad_id, name, satrec)]."""
    start, stop = tca - timedelta(seconds=half_window_s), tca + timedelta(seconds=half_window_s)
    n = int(2 * half_window_s / step_s) + 1
    times = [start + timedelta(seconds=k * step_s) for k in range(n)]
    pos = _itrf([s for _, _, s in objects], times)
    interval = f"{_iso(start)}/{_iso(stop)}"
    clock = {"interval": interval, "currentTime": _iso(tca), "multiplier": 30, "range": "LOOP_STOP"}
    doc = [{"id": "document", "name": "conjunction", "version": "1.0", "clock": clock}]
    for k, (nid, name, _) in enumerate(objects):
        samples = []
        for j in range(n):
            if np.all(np.isfinite(pos[k, j])):
                samples.extend([j * step_s, *pos[k, j].round(1).tolist()])
        doc.append(
            {
                "id": str(nid),
                "name": f"{nid} {name}",
                "availability": interval,
                "position": {
                    "referenceFrame": "FIXED",
                    "epoch": _iso(start),
                    "cartesian": samples,
                    "interpolationAlgorithm": "LAGRANGE",
                    "interpolationDegree": 5,
                },
                "point": {"pixelSize": 9, "color": {"rgba": COLORS[k % 2]}},
                "path": {
                    "width": 2,
                    "leadTime": half_window_s,
                    "trailTime": half_window_s,
                    "resolution": step_s,
                    "material": {"solidColor": {"color": {"rgba": COLORS[k % 2]}}},
                },
                "label": {
                    "text": f"{nid}",
                    "font": "12px sans-serif",
                    "pixelOffset": {"cartesian2": [10, -10]},
                    "fillColor": {"rgba": COLORS[k % 2]},
                },
            }
        )
    return doc


def catalog_czml(at, objects: list[tuple[int, str, object]]) -> list[dict]:
    """Every object as a point at one time (objects SGP4 cannot place are left out)."""
    pos = _itrf([s for _, _, s in objects], [at])[:, 0, :]
    doc = [{"id": "document", "name": "catalog", "version": "1.0"}]
    for (nid, name, _), p in zip(objects, pos, strict=True):
        if np.all(np.isfinite(p)):
            doc.append(
                {
                    "id": f"cat-{nid}",
                    "name": f"{nid} {name}",
                    "position": {"referenceFrame": "FIXED", "cartesian": p.round(0).tolist()},
                    "point": {"pixelSize": 2, "color": {"rgba": [220, 230, 240, 160]}},
                }
            )
    return doc
