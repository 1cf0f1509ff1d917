"""Test-only stand-ins for the ``neo.astrometry`` readers (owned by another module): a minimal
MPC 80-column reader and observer positions from MPC parallax constants, used until the
readers land, so that the orbit-determination tests exercise the fit and not a parser."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spacecommons.frames import itrf_to_gcrf

DATA = Path(__file__).parent / "data" / "neo" / "observations"
EARTH_RADIUS_MPC_KM = 6378.137  # MPC parallax constants are in units of the equatorial radius


@dataclass(frozen=True)
class Observation:
    designation: str
    epoch_utc_jd: float
    ra_deg: float
    dec_deg: float
    station: str
    sigma_ra_arcsec: float | None = None
    sigma_dec_arcsec: float | None = None
    catalog: str | None = None
    mode: str | None = None
    observer_gcrs_km: tuple[float, float, float] | None = None
    source: str = ""


def _jd(year: int, month: int, day: float) -> float:
    if month <= 2:
        year, month = year - 1, month + 12
    a = year // 100
    b = 2 - a + a // 4
    return int(365.25 * (year + 4716)) + int(30.6001 * (month + 1)) + day + b - 1524.5


def read_mpc80(path: Path) -> list[Observation]:
    out = []
    for line in path.read_text().splitlines():
        if len(line) < 80 or line[14] in "sSrRvV":
            continue
        y, m, d = int(line[15:19]), int(line[20:22]), float(line[23:32])
        h, mi, s = float(line[32:34]), float(line[35:37]), float(line[38:44])
        sign = -1.0 if line[44] == "-" else 1.0
        dd, dm, ds = float(line[45:47]), float(line[48:50]), float(line[51:56])
        out.append(
            Observation(
                designation=line[5:12].strip() or line[0:5].strip(),
                epoch_utc_jd=_jd(y, m, d),
                ra_deg=15.0 * (h + mi / 60 + s / 3600),
                dec_deg=sign * (dd + dm / 60 + ds / 3600),
                station=line[77:80],
                catalog=line[71].strip() or None,
                mode=line[14],
                source=path.name,
            )
        )
    return out


_STATIONS = json.loads((DATA / "observatories_tc3_dw.json").read_text())


def observers(observations: list[Observation]) -> tuple[np.ndarray, np.ndarray]:
    """GCRS positions (n, 3) km and velocities (n, 3) km/s of MPC ground stations."""
    xyz = []
    for o in observations:
        s = _STATIONS[o.station]
        lon = np.radians(float(s["longitude"]))
        rc, rs = float(s["rhocosphi"]), float(s["rhosinphi"])
        xyz.append(EARTH_RADIUS_MPC_KM * np.array([rc * np.cos(lon), rc * np.sin(lon), rs]))
    t = np.array([o.epoch_utc_jd for o in observations])
    jd = np.floor(t - 0.5) + 0.5
    return itrf_to_gcrf(np.array(xyz), np.zeros((len(t), 3)), jd, t - jd)
