"""ESA NEOCC / NEODyS orbit files in OrbFit's Orbital Element Format OEF2.0, multi-line records
(``rectype = 'ML'``: the per-object ``.ke0``/``.ke1`` and ``.eq0``/``.eq1`` downloads).

A header of ``key = value`` lines ends at ``END_OF_HEADER``; then each object is a designation
line followed by keyword lines (OrbFit's OEF2.0, as NEOCC writes it):

- ``KEP`` a (au), e, i, node, argument of perihelion, mean anomaly (deg);
  ``EQU`` a, h = e sin(varpi), k = e cos(varpi), p = tan(i/2) sin(node), q = tan(i/2) cos(node),
  mean longitude (deg); ``COM`` q (au), e, i, node, argument of perihelion (deg), perihelion
  time (MJD);
- ``MJD`` epoch and its time scale (TDT: TT - TDB is below 2 ms and is ignored, as for MPCORB);
- ``MAG`` H and G;
- ``LSP`` non-gravitational model, number of parameters, dimension of the solution, codes of the
  solved-for parameters (1 area-to-mass ratio, 2 Yarkovsky A2); ``NGR`` their values
  (area-to-mass ratio in m^2/t, A2 in 1e-10 au/day^2);
- ``COV`` the upper triangle, row by row, of the covariance over the elements and the solved-for
  parameters (angles in degrees, as the ``RMS`` comment line shows); ``NOR`` the normal matrix
  (its inverse, used when no ``COV`` is given); ``COR`` the correlations (redundant, ignored).

The reference system must be ``ECLM J2000`` (the ecliptic J2000 JPL uses too). Equinoctial
elements and their covariance are converted to Keplerian ones (the covariance by a central-
difference Jacobian). One-line catalogues (``rectype = '1L'``) and Cartesian (``CAR``) records are
reported as not supported."""

from __future__ import annotations

import math

import numpy as np

from ..errors import RecordError, RecordIssue
from .orbit import PhysicalParameter, SmallBodyOrbit

MJD_TO_JD = 2400000.5
A2_UNIT_AU_D2 = 1e-10  # NGR's Yarkovsky parameter is given in 1e-10 au/day^2
# LSP solve-for codes (OrbFit): 1 area-to-mass ratio, 2 Yarkovsky transverse A2
_SOLVE_FOR = {1: "AMRAT", 2: "A2"}
_ELEMENT_LABELS = {
    "KEP": ("a", "e", "i", "node", "peri", "M"),
    "EQU": ("a", "e", "i", "node", "peri", "M"),  # after conversion
    "COM": ("q", "e", "i", "node", "peri", "tp"),
}
_SCALES = ("TDT", "TT", "TDB")


def looks_like_oef(text: str) -> bool:
    """True when the text opens with an OEF header (``format = 'OEF...'`` ... ``END_OF_HEADER``)."""
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    first = head.splitlines()[0] if head else ""
    return first.replace(" ", "").lower().startswith("format='oef") or (
        "END_OF_HEADER" in head and "OEF" in head.split("END_OF_HEADER", 1)[0]
    )


def equinoctial_to_keplerian(a, h, k, p, q, lam_deg) -> tuple[float, float, float, float, float, float]:
    """(a, e, i, node, peri, M), angles in degrees, from OrbFit's equinoctial elements."""
    e = math.hypot(h, k)
    varpi = math.atan2(h, k)
    i = 2.0 * math.atan(math.hypot(p, q))
    node = math.atan2(p, q)
    peri = varpi - node
    ma = math.radians(lam_deg) - varpi
    return a, e, math.degrees(i), math.degrees(node) % 360.0, math.degrees(peri) % 360.0, math.degrees(ma) % 360.0


def _equinoctial_jacobian(x: np.ndarray) -> np.ndarray:
    """d(Keplerian)/d(equinoctial) by central differences (angles unwrapped around the nominal)."""
    J = np.empty((6, 6))
    for c in range(6):
        step = 1e-7 * max(abs(x[c]), 1e-3)
        hi, lo = x.copy(), x.copy()
        hi[c] += step
        lo[c] -= step
        d = np.array(equinoctial_to_keplerian(*hi)) - np.array(equinoctial_to_keplerian(*lo))
        d[2:] = (d[2:] + 180.0) % 360.0 - 180.0
        J[:, c] = d / (2 * step)
    return J


def _floats(source: str, no: int, key: str, words: list[str], count: int | None = None) -> list[float]:
    try:
        values = [float(w.replace("D", "E")) for w in words]
    except ValueError:
        raise RecordError(source, no, key, f"{' '.join(words)!r} is not a list of numbers") from None
    if count is not None and len(values) != count:
        raise RecordError(source, no, key, f"{len(values)} values, expected {count}")
    return values


def _triangle(values: list[float], dimension: int, source: str, no: int, key: str) -> np.ndarray:
    if len(values) != dimension * (dimension + 1) // 2:
        raise RecordError(
            source,
            no,
            key,
            f"{len(values)} values for a {dimension}x{dimension} upper triangle "
            f"({dimension * (dimension + 1) // 2} expected)",
        )
    m = np.zeros((dimension, dimension))
    m[np.triu_indices(dimension)] = values
    return m + np.triu(m, 1).T


def _record(designation: str, start: int, lines: list[tuple[int, str]], source: str) -> SmallBodyOrbit:
    kinds: dict[str, tuple[int, list[str]]] = {}
    cov: list[float] = []
    nor: list[float] = []
    moid = None
    for no, line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "!":
            if len(words) >= 3 and words[1] == "MOID":
                moid = _floats(source, no, "MOID", words[2:3])[0]
            continue
        key = words[0]
        if key == "COV":
            cov += _floats(source, no, key, words[1:])
        elif key == "NOR":
            nor += _floats(source, no, key, words[1:])
        elif key == "COR":
            continue
        else:
            kinds[key] = (no, words[1:])
    element_keys = [k for k in ("KEP", "EQU", "COM", "CAR") if k in kinds]
    if not element_keys:
        raise RecordError(source, start, "elements", "no KEP, EQU or COM line")
    kind = element_keys[0]
    eno, ewords = kinds[kind]
    if kind == "CAR":
        raise RecordError(source, eno, "CAR", "Cartesian OEF records are not supported (KEP, EQU, COM are)")
    x = _floats(source, eno, kind, ewords, 6)
    if "MJD" not in kinds:
        raise RecordError(source, start, "MJD", "the record has no epoch line")
    mno, mwords = kinds["MJD"]
    if len(mwords) != 2 or mwords[1].upper() not in _SCALES:
        raise RecordError(source, mno, "MJD", f"{' '.join(mwords)!r} is not 'MJD-value TDT'")
    epoch_jd = _floats(source, mno, "MJD", mwords[:1])[0] + MJD_TO_JD
    h_mag = None
    physical: list[PhysicalParameter] = []
    if "MAG" in kinds:
        gno, gwords = kinds["MAG"]
        mags = _floats(source, gno, "MAG", gwords)
        if mags:
            h_mag = mags[0]
            physical.append(PhysicalParameter("H", gwords[0], title="absolute magnitude"))
        if len(mags) > 1:
            physical.append(PhysicalParameter("G", gwords[1], title="magnitude slope"))
    dimension, codes = 6, []
    if "LSP" in kinds:
        lno, lwords = kinds["LSP"]
        ints = _floats(source, lno, "LSP", lwords)
        if len(ints) < 3:
            raise RecordError(source, lno, "LSP", "expected model, number of parameters, dimension[, codes]")
        dimension, codes = int(ints[2]), [int(c) for c in ints[3:]]
        if dimension != 6 + len(codes):
            raise RecordError(
                source, lno, "LSP", f"dimension {dimension} is not 6 + {len(codes)} solved-for parameters"
            )
    a2, extra = 0.0, {}
    if "NGR" in kinds:
        nno, nwords = kinds["NGR"]
        ngr = _floats(source, nno, "NGR", nwords)
        if len(ngr) >= 2:
            a2 = ngr[1] * A2_UNIT_AU_D2
        if ngr and ngr[0] != 0.0:
            extra["area_to_mass_m2_t"] = nwords[0]
    labels = [*_ELEMENT_LABELS[kind], *(_SOLVE_FOR.get(c, f"NG{c}") for c in codes)]
    matrix = None
    if cov:
        matrix = _triangle(cov, dimension, source, start, "COV")
    elif nor:
        normal = _triangle(nor, dimension, source, start, "NOR")
        try:
            matrix = np.linalg.inv(normal)
        except np.linalg.LinAlgError:
            raise RecordError(source, start, "NOR", "the normal matrix is singular") from None
    if kind == "EQU":
        if matrix is not None:
            J = np.eye(dimension)
            J[:6, :6] = _equinoctial_jacobian(np.array(x))
            matrix = J @ matrix @ J.T
        x = list(equinoctial_to_keplerian(*x))
    if matrix is not None:
        scale = np.array([A2_UNIT_AU_D2 if name == "A2" else 1.0 for name in labels])
        matrix = matrix * np.outer(scale, scale)
    if kind == "COM":
        q, e, i, node, peri, tp_mjd = x
        if q <= 0.0 or e < 0.0:
            raise RecordError(source, eno, kind, f"q = {q}, e = {e} is not an orbit")
        a = q / (1.0 - e) if e < 1.0 else None
        tp = tp_mjd + MJD_TO_JD
        ma = None
    else:
        a, e, i, node, peri, ma = x
        if a <= 0.0 or not 0.0 <= e < 1.0:
            raise RecordError(source, eno, kind, f"a = {a}, e = {e} is not an elliptic orbit")
        q, tp = a * (1.0 - e), None
    return SmallBodyOrbit(
        designation=designation,
        name="",
        epoch_jd_tdb=epoch_jd,
        a_au=a,
        e=e,
        i_deg=i,
        om_deg=node,
        w_deg=peri,
        ma_deg=ma,
        h_mag=h_mag,
        orbit_id="NEOCC",
        moid_au=moid,
        q_au=q,
        tp_jd_tdb=tp,
        nongrav=(0.0, a2, 0.0),
        covariance_labels=tuple(labels) if matrix is not None else (),
        covariance=None if matrix is None else tuple(tuple(float(v) for v in row) for row in matrix),
        source=source,
        line=start,
        extra=extra,
        physical=tuple(physical),
    )


def read_oef(text: str, source: str = "<oef>") -> tuple[list[SmallBodyOrbit], list[RecordIssue]]:
    """Orbits of an OEF2.0 multi-line file; each bad record is an issue naming line and keyword."""
    lines = text.splitlines()
    header: dict[str, str] = {}
    end = next((k for k, line in enumerate(lines) if line.strip() == "END_OF_HEADER"), None)
    if end is None:
        return [], [RecordIssue(source, 1, "header", "no END_OF_HEADER line: not an OEF file")]
    for line in lines[:end]:
        if "=" in line:
            key, value = line.split("!", 1)[0].split("=", 1)
            header[key.strip().lower()] = value.strip().strip("'\"").strip()
    fmt, rectype, refsys = header.get("format", ""), header.get("rectype", "ML"), header.get("refsys", "ECLM J2000")
    if not fmt.upper().startswith("OEF"):
        return [], [RecordIssue(source, 1, "format", f"{fmt!r} is not an OEF format")]
    if rectype.upper() != "ML":
        return [], [RecordIssue(source, 2, "rectype", f"{rectype!r}: only multi-line (ML) OEF records are supported")]
    if " ".join(refsys.upper().split()) != "ECLM J2000":
        return [], [RecordIssue(source, 3, "refsys", f"{refsys!r}: only ECLM J2000 is supported")]
    orbits: list[SmallBodyOrbit] = []
    issues: list[RecordIssue] = []
    records: list[tuple[str, int, list[tuple[int, str]]]] = []
    for no, line in enumerate(lines[end + 1 :], start=end + 2):
        if not line.strip():
            continue
        if line[:1] not in (" ", "\t", "!"):
            records.append((line.strip().strip("'"), no, []))
        elif records:
            records[-1][2].append((no, line))
        elif not line.lstrip().startswith("!"):
            issues.append(RecordIssue(source, no, "designation", f"{line.strip()[:20]!r} before any designation line"))
    for designation, start, body in records:
        try:
            orbits.append(_record(designation, start, body, source))
        except RecordError as exc:
            issues.append(exc.issue)
    if not records and not issues:
        issues.append(RecordIssue(source, end + 1, "designation", "no orbit record after the header"))
    return orbits, issues
