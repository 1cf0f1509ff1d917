"""JPL SBDB API JSON (``sbdb.api?sstr=...&cov=mat&phys-par=1``): one object's orbit solution
with its covariance, non-gravitational parameters and physical parameters.

The orbit part is numeric by the API's definition (numbers written as strings) and a value that is
not a number is a :class:`RecordError` naming its field. Physical parameters (``phys_par``) are free
text in SBDB (``'50-500'`` for a thermal inertia range, ``'0.5047 x 0.4918 x 0.4567'`` for the
extent, ``'85.4522/-60.3678'`` for a pole): they are kept as text with their units and never
rejected; H, diameter (km) and albedo become numbers where SBDB gives plain numbers."""

from __future__ import annotations

import json
import math

from ..constants import GM_SUN_DE440_AU3_D2
from ..errors import RecordError
from .orbit import PhysicalParameter, SmallBodyOrbit


def _num(value, source: str, field: str) -> float | None:
    """A numeric field of the orbit: None when absent, a :class:`RecordError` naming it when not a number."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(source, 1, field, f"{value!r} is not a number") from None


def _text(value) -> str | None:
    return None if value is None else str(value).strip()


def physical_parameters(items, source: str = "<sbdb.api>") -> tuple[PhysicalParameter, ...]:
    """SBDB's ``phys_par`` list as :class:`PhysicalParameter` values (text kept as published)."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise RecordError(source, 1, "phys_par", "expected a list of physical parameters")
    out = []
    for k, p in enumerate(items):
        if not isinstance(p, dict) or not p.get("name"):
            raise RecordError(source, 1, f"phys_par[{k}]", "expected an object with a 'name'")
        out.append(
            PhysicalParameter(
                name=str(p["name"]).strip(),
                value=_text(p.get("value")) or "",
                units=_text(p.get("units")),
                sigma=_text(p.get("sigma")),
                title=_text(p.get("title")) or "",
                ref=_text(p.get("ref")),
            )
        )
    return tuple(out)


def _plain(physical: tuple[PhysicalParameter, ...], name: str, units: str | None = None) -> float | None:
    """The number of a physical parameter, when it is a plain number in the expected units (SBDB's
    own units when the answer names none)."""
    p = next((p for p in physical if p.name == name), None)
    if p is None or (units is not None and p.units not in (None, "", units)):
        return None
    return p.number


def read_sbdb_api(text: str, source: str = "<sbdb.api>") -> SmallBodyOrbit:
    """The orbit in an SBDB API answer; a missing or malformed part raises :class:`RecordError`
    naming it. Where the covariance is given at its own epoch with its own elements, the orbit
    is that one (so that nominal and covariance agree); for an elliptic orbit whose element set
    lacks a and M (the covariance's cometary set), a = q / (1 - e) and M = n (epoch - tp) with
    n = sqrt(GM_sun / a^3), the two-body relations JPL's osculating elements obey."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(source, exc.lineno, "json", exc.msg) from exc
    if not isinstance(doc, dict):
        raise RecordError(source, 1, "json", "expected an SBDB API object")
    if not isinstance(doc.get("orbit"), dict) or not isinstance(doc.get("object"), dict):
        raise RecordError(source, 1, "orbit", str(doc.get("message", "no 'object'/'orbit' in the answer")))
    obj, orb = doc["object"], doc["orbit"]
    cov = orb.get("covariance") or {}
    if not isinstance(cov, dict):
        raise RecordError(source, 1, "orbit.covariance", "expected an object")
    use_cov = bool(cov.get("elements"))
    elements = cov.get("elements") if use_cov else orb.get("elements") or []
    part = "orbit.covariance.elements" if use_cov else "orbit.elements"
    if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
        raise RecordError(source, 1, part, "expected a list of element objects")
    el = {e.get("name"): e for e in elements}
    val = {k: _num(e.get("value"), source, f"{part}.{k}") for k, e in el.items()}
    for k in ("e", "q", "i", "om", "w", "tp"):
        if val.get(k) is None:
            raise RecordError(source, 1, f"{part}.{k}", "missing")
    epoch_jd = _num(cov.get("epoch") if use_cov else orb.get("epoch"), source, "orbit.epoch")
    if epoch_jd is None:
        raise RecordError(source, 1, "orbit.epoch", "missing")
    e = val["e"]
    if e < 0.0 or val["q"] <= 0.0:
        raise RecordError(source, 1, f"{part}.e", f"e = {e}, q = {val['q']} is not an orbit")
    a, ma = val.get("a"), val.get("ma")
    if e < 1.0:
        if a is None:
            a = val["q"] / (1.0 - e)
        if ma is None:
            n_deg_day = math.degrees(math.sqrt(GM_SUN_DE440_AU3_D2 / a**3))
            ma = (n_deg_day * (epoch_jd - val["tp"])) % 360.0
    model = {
        str(p.get("name")): _num(p.get("value"), source, f"orbit.model_pars.{p.get('name')}")
        for p in orb.get("model_pars") or []
        if isinstance(p, dict)
    }
    physical = physical_parameters(doc.get("phys_par"), source)
    labels = tuple(str(x) for x in cov.get("labels") or ())
    data = cov.get("data")
    matrix = None
    if data is not None:
        try:
            matrix = tuple(tuple(float(x) for x in row) for row in data)
        except (TypeError, ValueError) as exc:
            raise RecordError(source, 1, "orbit.covariance.data", f"not a matrix of numbers: {exc}") from None
        if len(matrix) != len(labels) or any(len(r) != len(labels) for r in matrix):
            raise RecordError(source, 1, "orbit.covariance", f"{len(matrix)} rows for {len(labels)} labels")
    return SmallBodyOrbit(
        designation=str(obj.get("des", "")).strip(),
        name=str(obj.get("fullname", "")).strip(),
        epoch_jd_tdb=epoch_jd,
        a_au=a if e < 1.0 else None,
        e=e,
        i_deg=val["i"],
        om_deg=val["om"],
        w_deg=val["w"],
        ma_deg=ma if e < 1.0 else None,
        h_mag=_plain(physical, "H"),
        orbit_id=str(orb.get("orbit_id", "")),
        moid_au=_num(orb.get("moid"), source, "orbit.moid"),
        q_au=val["q"],
        tp_jd_tdb=val["tp"],
        nongrav=(model.get("A1") or 0.0, model.get("A2") or 0.0, model.get("A3") or 0.0),
        diameter_km=_plain(physical, "diameter", "km"),
        albedo=_plain(physical, "albedo"),
        covariance_labels=labels,
        covariance=matrix,
        source=source,
        line=1,
        physical=physical,
    )
