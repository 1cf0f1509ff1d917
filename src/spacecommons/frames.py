"""TEME -> GCRF and ITRF with skyfield (offline Earth-orientation data from skyfield-data)."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from .constants import SECONDS_PER_DAY


@lru_cache(maxsize=1)
def timescale():
    """skyfield timescale on the bundled finals2000A.all (UT1-UTC, polar motion); no network."""
    from skyfield.api import Loader
    from skyfield.data import iers
    from skyfield_data import get_skyfield_data_path

    # Past its last row the table's predictions hold (docs/propagation.md); skyfield-data warns
    # about that on every use, which would bury real warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        load = Loader(get_skyfield_data_path(), verbose=False)
        ts = load.timescale(builtin=True)
        with load.open("finals2000A.all") as f:
            finals = iers.parse_x_y_dut1_from_finals_all(f)
    iers.install_polar_motion_table(ts, finals)
    return ts


def skyfield_time(jd: np.ndarray, fr: np.ndarray):
    """UTC two-part Julian dates -> skyfield Time (calendar day + seconds, so leap seconds count)."""
    from skyfield.timelib import calendar_date

    jd = np.asarray(jd, dtype=float)
    fr = np.asarray(fr, dtype=float)
    whole = np.floor(jd + 0.5 + fr)
    seconds = ((jd + 0.5 - whole) + fr) * SECONDS_PER_DAY
    y, m, d = calendar_date(whole.astype(np.int64))
    return timescale().utc(y, m, d, 0, 0, seconds)


def teme_to_gcrf(r_km: np.ndarray, v_km_s: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate TEME states (..., m, 3) at UTC times (m,) into GCRF (IAU 2000A/2006 via skyfield)."""
    from skyfield.sgp4lib import TEME

    t = skyfield_time(np.atleast_1d(jd), np.atleast_1d(fr))
    R = TEME.rotation_at(t)  # GCRS -> TEME, shape (3, 3, m)
    R = np.moveaxis(np.atleast_3d(R), -1, 0)  # (m, 3, 3)
    r = np.einsum("mji,...mj->...mi", R, r_km)
    v = np.einsum("mji,...mj->...mi", R, v_km_s)
    return r, v


def gcrf_to_itrf(r_km: np.ndarray, v_km_s: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCRF -> ITRF (with polar motion); velocity includes the Earth-rotation term."""
    from skyfield.framelib import itrs

    t = skyfield_time(np.atleast_1d(jd), np.atleast_1d(fr))
    R = np.moveaxis(np.atleast_3d(itrs.rotation_at(t)), -1, 0)
    W = np.moveaxis(np.atleast_3d(itrs._dRdt_times_RT_at(t)), -1, 0)  # dR/dt R^T, per day
    r = np.einsum("mij,...mj->...mi", R, r_km)
    v = np.einsum("mij,...mj->...mi", R, v_km_s) + np.einsum("mij,...mj->...mi", W, r) / SECONDS_PER_DAY
    return r, v


def itrf_to_gcrf(r_km: np.ndarray, v_km_s: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ITRF -> GCRF, the inverse of :func:`gcrf_to_itrf`."""
    from skyfield.framelib import itrs

    t = skyfield_time(np.atleast_1d(jd), np.atleast_1d(fr))
    R = np.moveaxis(np.atleast_3d(itrs.rotation_at(t)), -1, 0)
    W = np.moveaxis(np.atleast_3d(itrs._dRdt_times_RT_at(t)), -1, 0)
    v_rot = np.asarray(v_km_s) - np.einsum("mij,...mj->...mi", W, np.asarray(r_km)) / SECONDS_PER_DAY
    r = np.einsum("mji,...mj->...mi", R, r_km)
    v = np.einsum("mji,...mj->...mi", R, v_rot)
    return r, v


def teme_to_itrf(r_km: np.ndarray, v_km_s: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TEME -> ITRF through GCRF."""
    r, v = teme_to_gcrf(r_km, v_km_s, jd, fr)
    return gcrf_to_itrf(r, v, jd, fr)


def rtn_basis(r_km: np.ndarray, v_km_s: np.ndarray) -> np.ndarray:
    """Rows R (radial), T (in-track), N (cross-track) of the RTN frame; shape (..., 3, 3)."""
    R = r_km / np.linalg.norm(r_km, axis=-1, keepdims=True)
    h = np.cross(r_km, v_km_s)
    N = h / np.linalg.norm(h, axis=-1, keepdims=True)
    T = np.cross(N, R)
    return np.stack([R, T, N], axis=-2)


def gcrf_to_teme(r_km: np.ndarray, v_km_s: np.ndarray, jd: np.ndarray, fr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCRF states (m, 3) at UTC times (m,) -> TEME, the inverse of :func:`teme_to_gcrf`."""
    from skyfield.sgp4lib import TEME

    t = skyfield_time(np.atleast_1d(jd), np.atleast_1d(fr))
    R = np.moveaxis(np.atleast_3d(TEME.rotation_at(t)), -1, 0)  # GCRS -> TEME, (m, 3, 3)
    r = np.einsum("mij,...mj->...mi", R, r_km)
    v = np.einsum("mij,...mj->...mi", R, v_km_s)
    return r, v


def eme2000_to_gcrf(x: np.ndarray) -> np.ndarray:
    """Vectors (..., 3) in EME2000 (mean equator and equinox of J2000) -> GCRF (ICRS axes):
    the constant frame-bias rotation, under 23 mas (IERS Conventions 2010, eq. 5.21; skyfield's
    ``ICRS_to_J2000``)."""
    from skyfield.framelib import ICRS_to_J2000

    return np.einsum("ji,...j->...i", ICRS_to_J2000, x)


def gcrf_to_eme2000(x: np.ndarray) -> np.ndarray:
    """Vectors (..., 3) in GCRF -> EME2000, the inverse of :func:`eme2000_to_gcrf`."""
    from skyfield.framelib import ICRS_to_J2000

    return np.einsum("ij,...j->...i", ICRS_to_J2000, x)


# --- WGS 84 geodetic coordinates (the one implementation; atmosphere, impact site and ADES use it) ---

WGS84_A_KM = 6378.137  # semi-major axis, WGS 84 (NIMA TR8350.2, 3rd ed., 2000, table 3.1)
WGS84_F = 1.0 / 298.257223563  # flattening, same source
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
# rounds of the latitude's fixed-point iteration: each shrinks the error by at most
# e^2 cos^2(lat) N / (N + h) < 2 e^2 ~ 0.013 for heights above -N/2, and the start (the
# latitude of the surface point on the same line p:z = (1 - e^2)) is within 0.2 deg (3.4e-3 rad),
# so six rounds reach 3.4e-3 x 0.013^6 < 1e-14 rad at any height from the surface to the Moon
_GEODETIC_ROUNDS = 6


def geodetic_from_itrf(
    r_km: np.ndarray, a_km: float = WGS84_A_KM, f: float = WGS84_F
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Earth-fixed (ITRF) positions (..., 3) in km -> geodetic latitude (deg), east longitude
    (deg, -180..180] and height above the ellipsoid (km), each shaped (...); the WGS 84
    ellipsoid unless ``a_km`` and ``f`` name another.

    Method: fixed-point iteration on the geodetic latitude, lat = atan2(z + e^2 N sin(lat), p)
    (Vallado 2013, *Fundamentals of Astrodynamics and Applications*, 4th ed., algorithm 12, in
    the form of Borkowski 1989), six rounds (see ``_GEODETIC_ROUNDS``), then the height from
    h = p cos(lat) + z sin(lat) - a sqrt(1 - e^2 sin^2(lat)), which holds at the poles too.
    Valid for heights above about -3,000 km (not near the Earth's centre).

    >>> lat, lon, h = geodetic_from_itrf(np.array([6524.834, 6862.875, 6448.296]))
    >>> print(f"{lat:.6f} {lon:.6f} {h:.3f}")
    34.352495 46.446417 5085.219
    """
    r_km = np.asarray(r_km, dtype=float)
    e2 = f * (2.0 - f)
    x, y, z = r_km[..., 0], r_km[..., 1], r_km[..., 2]
    p = np.hypot(x, y)
    lat = np.arctan2(z, p * (1.0 - e2))
    for _ in range(_GEODETIC_ROUNDS):
        s = np.sin(lat)
        n = a_km / np.sqrt(1.0 - e2 * s * s)
        lat = np.arctan2(z + e2 * n * s, p)
    s, c = np.sin(lat), np.cos(lat)
    h = p * c + z * s - a_km * np.sqrt(1.0 - e2 * s * s)
    return np.degrees(lat), np.degrees(np.arctan2(y, x)), h


def itrf_from_geodetic(
    lat_deg: np.ndarray, lon_deg: np.ndarray, h_km: np.ndarray, a_km: float = WGS84_A_KM, f: float = WGS84_F
) -> np.ndarray:
    """Geodetic latitude, east longitude (deg) and height (km), broadcast together -> Earth-fixed
    (ITRF) positions (..., 3) in km; closed form (Vallado 2013, eqs. 3-7 and 3-14), WGS 84 unless
    ``a_km`` and ``f`` name another ellipsoid.

    >>> print(np.round(itrf_from_geodetic(20.9, 31.4, 65.4), 3))
    [5140.186 3137.583 2284.386]
    """
    e2 = f * (2.0 - f)
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    lat, lon, h = np.broadcast_arrays(lat, lon, np.asarray(h_km, dtype=float))
    s = np.sin(lat)
    n = a_km / np.sqrt(1.0 - e2 * s * s)
    rho = (n + h) * np.cos(lat)
    return np.stack([rho * np.cos(lon), rho * np.sin(lon), (n * (1.0 - e2) + h) * s], axis=-1)
