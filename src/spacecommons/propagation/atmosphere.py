"""Thermospheric mass density from NRLMSIS 2.1 (through ``pymsis``), driven by a space-weather provider.

Method: NRLMSIS 2.1 (Emmert et al. 2022, Earth and Space Science 9, e2022EA002191) evaluated by the
``pymsis`` wrapper of the NRL Fortran code, at geodetic latitude/longitude/altitude on the WGS-84
ellipsoid. The solar and geomagnetic drivers come from a :class:`SpaceWeather` provider, so that a
propagation in the past can use observed indices and one in the future a forecast scenario; the
constant provider is the simplest one (a moderate-activity default: F10.7 = 150 sfu, Ap = 15).
Daily Ap is used for all seven of MSIS's Ap slots (the storm-time switch is off), as for a daily-
resolution driver. Units: km in, kg/m^3 out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..frames import geodetic_from_itrf
from ..timescales import JD_UNIX_EPOCH

#: above this altitude the density (< 1e-15 kg/m^3) is left out: drag is below every other force
DRAG_CEILING_KM = 1500.0


class SpaceWeather(Protocol):
    """Solar and geomagnetic drivers of the thermosphere at UTC Julian dates."""

    def indices(self, jd_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """F10.7 of the previous day, 81-day centred mean F10.7, daily Ap (each shaped like ``jd_utc``)."""
        ...


@dataclass(frozen=True)
class ConstantSpaceWeather:
    """The same indices at every date (sfu for F10.7, Ap in 2 nT units)."""

    f107: float = 150.0
    f107a: float = 150.0
    ap: float = 15.0

    def indices(self, jd_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shape = np.shape(jd_utc)
        return np.full(shape, self.f107), np.full(shape, self.f107a), np.full(shape, self.ap)


#: Earth-fixed km -> WGS-84 latitude, longitude (deg), height (km): the project's one conversion
#: (``frames.geodetic_from_itrf``), under the name this module has always exported
geodetic_from_ecef = geodetic_from_itrf


def density_kg_m3(jd_utc: np.ndarray, r_ecef_km: np.ndarray, weather: SpaceWeather) -> np.ndarray:
    """Total mass density (n,) at UTC Julian dates (n,) and Earth-fixed positions (n, 3); 0 above the ceiling."""
    from pymsis import msis

    jd_utc = np.atleast_1d(np.asarray(jd_utc, dtype=float))
    lat, lon, h = geodetic_from_itrf(np.atleast_2d(r_ecef_km))
    rho = np.zeros(lat.shape)
    low = h < DRAG_CEILING_KM
    if not low.any():
        return rho
    jd = np.broadcast_to(jd_utc, lat.shape)[low]
    f107, f107a, ap = weather.indices(jd)
    # microseconds since the Unix epoch, as numpy's datetime64 wants
    us = np.round((jd - JD_UNIX_EPOCH) * 86_400e6).astype(np.int64)
    dates = us.astype("datetime64[us]")
    aps = np.repeat(np.asarray(ap, dtype=float)[:, None], 7, axis=1)
    out = msis.calculate(dates, lon[low], lat[low], np.maximum(h[low], 0.0), f107, f107a, aps, version=2.1)
    rho[low] = np.asarray(out).reshape(-1, out.shape[-1])[:, 0]
    return rho
