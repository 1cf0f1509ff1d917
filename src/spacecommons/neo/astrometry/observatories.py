"""Observatory codes (MPC's list) and observer positions in the GCRS.

Method. A fixed station is given by MPC's parallax constants: east longitude λ and ρ cos φ',
ρ sin φ' (geocentric distance ρ in Earth equatorial radii, geocentric latitude φ'), i.e. the
Earth-fixed (ITRF) vector R·(ρ cos φ' cos λ, ρ cos φ' sin λ, ρ sin φ') with R = 6378.137 km
(IAU/WGS-84 equatorial radius; the constants are published to 5-6 digits, i.e. tens of metres).
ITRF -> GCRS uses the project's Earth orientation (``frames.itrf_to_gcrf``: skyfield's IAU
2000A/2006 precession-nutation, UT1 and polar motion from the bundled finals2000A.all); the
velocity includes the Earth-rotation term. A roving observer ('V'/'v' records) is a WGS-84
geodetic position turned into ITRF by ``frames.itrf_from_geodetic``. A spacecraft observer ('S'/'s'
records, ADES ``pos``) carries its own geocentric position; its velocity is known only when the
record gives it (ADES ``vel``), otherwise it is NaN — never a silent zero.

Reference: MPC, "List of Observatory Codes" (parallax constants), and Explanatory Supplement
to the Astronomical Almanac (3rd ed., 2013), ch. 7 (topocentric place).
Units: km, km/s; times are UTC Julian dates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...constants import BODY_RADIUS_IAU_KM
from ...errors import InputError, RecordError
from ...frames import itrf_to_gcrf
from .model import OpticalObservation

EARTH_RADIUS_PARALLAX_KM = BODY_RADIUS_IAU_KM["earth"]  # unit of MPC's rho cos phi', rho sin phi'
GEOCENTRE = "500"  # MPC code of the geocentre


@dataclass(frozen=True)
class Observatory:
    """One MPC observatory code. ``kind``: optical, radar, satellite, roving or occultation; a
    station without parallax constants (spacecraft, roving) has ``None`` for them."""

    code: str
    name: str
    kind: str
    longitude_deg: float | None
    rho_cos_phi: float | None
    rho_sin_phi: float | None

    @property
    def is_fixed(self) -> bool:
        """True for a station fixed on the Earth (it has parallax constants)."""
        return self.longitude_deg is not None and self.rho_cos_phi is not None and self.rho_sin_phi is not None

    def itrf_km(self) -> np.ndarray:
        """Earth-fixed position (3,) in km from the parallax constants.

        >>> Observatory("500", "Geocentric", "optical", 0.0, 0.0, 0.0).itrf_km().tolist()
        [0.0, 0.0, 0.0]
        """
        if not self.is_fixed:
            raise InputError(
                f"station {self.code} ({self.name}) is not fixed on the Earth; the record gives its position"
            )
        lon = np.radians(self.longitude_deg)
        return EARTH_RADIUS_PARALLAX_KM * np.array(
            [self.rho_cos_phi * np.cos(lon), self.rho_cos_phi * np.sin(lon), self.rho_sin_phi]
        )


def _number(entry: Mapping, key: str, code: str, source: str) -> float | None:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(source, 0, f"{code}.{key}", f"{value!r} is not a number") from None


def read_observatories(text: str, source: str = "<observatories>") -> dict[str, Observatory]:
    """MPC's observatory list as served by its ``obscodes`` API (JSON object keyed by code, with
    ``longitude``, ``rhocosphi``, ``rhosinphi``, ``name``, ``observations_type``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(source, exc.lineno, "json", exc.msg) from None
    if not isinstance(data, dict):
        raise RecordError(source, 1, "json", "expected an object keyed by observatory code")
    out: dict[str, Observatory] = {}
    for code, entry in data.items():
        if not isinstance(entry, dict):
            raise RecordError(source, 0, code, "expected an object")
        out[code] = Observatory(
            code=code,
            name=str(entry.get("name") or "").strip(),
            kind=str(entry.get("observations_type") or "optical"),
            longitude_deg=_number(entry, "longitude", code, source),
            rho_cos_phi=_number(entry, "rhocosphi", code, source),
            rho_sin_phi=_number(entry, "rhosinphi", code, source),
        )
    return out


@lru_cache(maxsize=1)
def mpc_observatories() -> dict[str, Observatory]:
    """The observatory list bundled with the package (MPC, as of 2025-09; see
    ``data/observatories/SOURCES.md``)."""
    from importlib.resources import files

    path = files("spacecommons") / "data" / "observatories" / "observatoriesmpc.json"
    return read_observatories(path.read_text(encoding="utf-8"), "observatoriesmpc.json")


def observatory(code: str, observatories: Mapping[str, Observatory] | None = None) -> Observatory:
    """The observatory with MPC code ``code``; :class:`InputError` when the list has none."""
    table = mpc_observatories() if observatories is None else observatories
    try:
        return table[code]
    except KeyError:
        raise InputError(f"unknown MPC observatory code {code!r}") from None


def _split_jd(epoch_utc_jd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    jd = np.floor(epoch_utc_jd - 0.5) + 0.5
    return jd, epoch_utc_jd - jd


def observer_positions(
    stations: Sequence[str],
    epochs_utc_jd: np.ndarray | Sequence[float],
    observer_gcrs_km: Sequence[tuple[float, float, float] | None] | None = None,
    observer_itrf_km: Sequence[tuple[float, float, float] | None] | None = None,
    observer_gcrs_km_s: Sequence[tuple[float, float, float] | None] | None = None,
    observatories: Mapping[str, Observatory] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Geocentric GCRS positions (n, 3) km and velocities (n, 3) km/s of n observers at UTC
    Julian dates (n,). Per observation, in this order: a given GCRS position (spacecraft; velocity
    from ``observer_gcrs_km_s`` or NaN), a given ITRF position (roving observer), else the fixed
    station's parallax constants."""
    t = np.atleast_1d(np.asarray(epochs_utc_jd, dtype=float))
    n = len(stations)
    if t.shape != (n,):
        raise InputError(f"{n} stations but epochs of shape {t.shape}")
    gcrs = observer_gcrs_km or [None] * n
    itrf = observer_itrf_km or [None] * n
    vel = observer_gcrs_km_s or [None] * n
    r = np.full((n, 3), np.nan)
    v = np.full((n, 3), np.nan)
    earth_fixed = np.zeros((n, 3))
    rotate = np.zeros(n, dtype=bool)
    cache: dict[str, np.ndarray] = {}
    for k, code in enumerate(stations):
        if gcrs[k] is not None:
            r[k] = gcrs[k]
            if vel[k] is not None:
                v[k] = vel[k]
            continue
        if itrf[k] is not None:
            earth_fixed[k] = itrf[k]
        else:
            if code not in cache:
                cache[code] = observatory(code, observatories).itrf_km()
            earth_fixed[k] = cache[code]
        rotate[k] = True
    if rotate.any():
        jd, fr = _split_jd(t[rotate])
        rr, vv = itrf_to_gcrf(earth_fixed[rotate], np.zeros((int(rotate.sum()), 3)), jd, fr)
        r[rotate] = rr
        v[rotate] = vv
    return r, v


def observer_position(
    station: str,
    epoch_utc_jd: float,
    observer_gcrs_km: tuple[float, float, float] | None = None,
    observer_itrf_km: tuple[float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """GCRS position (3,) km and velocity (3,) km/s of one observer at a UTC Julian date; the
    one-observation case of :func:`observer_positions`."""
    r, v = observer_positions([station], [epoch_utc_jd], [observer_gcrs_km], [observer_itrf_km])
    return r[0], v[0]


def observation_observers(observations: Sequence[OpticalObservation]) -> tuple[np.ndarray, np.ndarray]:
    """GCRS positions and velocities (n, 3) of the observers of n optical observations."""
    return observer_positions(
        [o.station for o in observations],
        np.array([o.epoch_utc_jd for o in observations], dtype=float),
        [o.observer_gcrs_km for o in observations],
        [o.observer_itrf_km for o in observations],
        [o.observer_gcrs_km_s for o in observations],
    )
