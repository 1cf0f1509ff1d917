"""JPL SBDB API JSON (``sbdb.api?sstr=...&cov=mat&phys-par=1``): one object's orbit solution
with its covariance, non-gravitational parameters and physical parameters."""

from __future__ import annotations

import json

from ..errors import RecordError
from .orbit import SmallBodyOrbit


def _num(value) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def read_sbdb_api(text: str, source: str = "<sbdb.api>") -> SmallBodyOrbit:
    """The orbit in an SBDB API answer; a missing or malformed part raises :class:`RecordError`
    naming it. Where the covariance is given at its own epoch with its own elements, the orbit
    is that one (so that nominal and covariance agree)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(source, exc.lineno, "json", exc.msg) from exc
    if "orbit" not in doc or "object" not in doc:
        raise RecordError(source, 1, "orbit", doc.get("message", "no 'object'/'orbit' in the answer"))
    obj, orb = doc["object"], doc["orbit"]
    cov = orb.get("covariance") or {}
    elements = cov.get("elements") or orb.get("elements") or []
    epoch = cov.get("epoch") if cov.get("elements") else orb.get("epoch")
    el = {e["name"]: e for e in elements}
    try:
        val = {k: _num(el[k]["value"]) if k in el else None for k in ("e", "a", "q", "i", "om", "w", "ma", "tp")}
        for k in ("e", "q", "i", "om", "w", "tp"):
            if val[k] is None:
                raise RecordError(source, 1, f"orbit.elements.{k}", "missing")
        epoch_jd = float(epoch)
    except (TypeError, ValueError) as exc:
        raise RecordError(source, 1, "orbit.elements", str(exc)) from exc
    model = {p["name"]: _num(p.get("value")) for p in orb.get("model_pars") or []}
    phys = {p["name"]: _num(p.get("value")) for p in doc.get("phys_par") or []}
    labels = tuple(cov.get("labels") or ())
    data = cov.get("data")
    matrix = None
    if data is not None:
        matrix = tuple(tuple(float(x) for x in row) for row in data)
        if len(matrix) != len(labels) or any(len(r) != len(labels) for r in matrix):
            raise RecordError(source, 1, "orbit.covariance", f"{len(matrix)} rows for {len(labels)} labels")
    e = val["e"]
    return SmallBodyOrbit(
        designation=str(obj.get("des", "")).strip(),
        name=str(obj.get("fullname", "")).strip(),
        epoch_jd_tdb=epoch_jd,
        a_au=val["a"] if e < 1.0 else None,
        e=e,
        i_deg=val["i"],
        om_deg=val["om"],
        w_deg=val["w"],
        ma_deg=val["ma"] if e < 1.0 else None,
        h_mag=phys.get("H"),
        orbit_id=str(orb.get("orbit_id", "")),
        moid_au=_num(orb.get("moid")),
        q_au=val["q"],
        tp_jd_tdb=val["tp"],
        nongrav=(model.get("A1") or 0.0, model.get("A2") or 0.0, model.get("A3") or 0.0),
        diameter_km=phys.get("diameter"),
        albedo=phys.get("albedo"),
        covariance_labels=labels,
        covariance=matrix,
        source=source,
        line=1,
    )
