"""Solar flux and geomagnetic indices for the drag model: observed history and forecast scenarios.

Method. NRLMSIS 2.1 takes three space-weather inputs (Emmert et al. 2021): the 10.7 cm solar
radio flux F10.7 of the *previous* day, its 81-day centred mean, and the daily geomagnetic Ap.
:class:`SpaceWeatherTable` answers them for any UTC Julian date from a daily table:

- **observed** days (CelesTrak's ``OBS`` and ``INT`` rows) are used as published;
- after the last observed day, the **forecast** is a scenario. ``nominal`` is CelesTrak's own
  prediction rows (``PRD`` daily for 45 days, then ``PRM`` monthly to 2041, which CelesTrak takes
  from NOAA/SWPC's solar-cycle progression); ``low`` and ``high`` scale the flux above the
  quiet-Sun floor of 65 sfu (ECSS-E-ST-10-04C, Table 8-3, "low activity") by 0.6 and 1.4, and the
  forecast Ap (15 nominal, ECSS-E-ST-10-04C "moderate activity") by the same factors — a simple,
  stated band, about the spread of NOAA/SWPC's cycle-25 prediction panel, not a probability;
- beyond the last prediction (October 2041) the nominal forecast repeats itself one 11-year solar
  cycle earlier (the mean cycle length), so 25-year lifetimes still get a cycle-shaped flux.

A date before the first row (1957-10-01), or after the last observed day when
``scenario="observed"``, raises :class:`~spacecommons.errors.InputError` naming the date and the
table's range — nothing is extrapolated silently.

Data. ``spacecommons/data/space_weather/celestrak_sw_all.csv.gz``: columns DATE, F10.7_OBS,
F10.7_OBS_CENTER81, AP_AVG, F10.7_DATA_TYPE of CelesTrak's SW-All.csv
(https://celestrak.org/SpaceData/, T.S. Kelso: "no licensing requirements", cite CelesTrak), as
shipped in the PyPI package ``satkit-data`` 0.9.0 (updated 2026-02-23; observed through
2026-02-23). Read once from the package, never downloaded.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Literal

import numpy as np

from ..errors import InputError
from ..timescales import JD_UNIX_EPOCH, jd_to_iso
from .atmosphere import SpaceWeather

Scenario = Literal["observed", "low", "nominal", "high"]
SCENARIOS: tuple[str, ...] = ("low", "nominal", "high")

QUIET_SUN_F107_SFU = 65.0  # ECSS-E-ST-10-04C Table 8-3, low solar activity
FORECAST_AP_NOMINAL = 15.0  # ECSS-E-ST-10-04C Table 8-3, moderate activity, long-term
SCENARIO_FACTOR = {"low": 0.6, "nominal": 1.0, "high": 1.4}
SOLAR_CYCLE_DAYS = 11.0 * 365.25  # mean solar-cycle length (Hathaway 2015, Living Rev. Sol. Phys. 12:4)
_DATA = "data/space_weather/celestrak_sw_all.csv.gz"
__all__ = ["SCENARIOS", "SpaceWeather", "SpaceWeatherTable", "bundled_space_weather", "parse_space_weather"]


@dataclass(frozen=True)
class SpaceWeatherTable:
    """Daily F10.7, 81-day mean and Ap, observed then forecast under one scenario (a :class:`SpaceWeather`).

    Arrays: ``obs_jd`` (n,) the 0h UTC Julian date of each observed day, ``obs_f107``,
    ``obs_f107a``, ``obs_ap``; ``fc_jd`` (m,) the nominal forecast's dates (daily, then monthly),
    ``fc_f107``, ``fc_f107a``.
    """

    obs_jd: np.ndarray
    obs_f107: np.ndarray
    obs_f107a: np.ndarray
    obs_ap: np.ndarray
    fc_jd: np.ndarray
    fc_f107: np.ndarray
    fc_f107a: np.ndarray
    scenario: Scenario = "nominal"
    source: str = "CelesTrak SW-All.csv via satkit-data 0.9.0"

    @property
    def last_observed_jd(self) -> float:
        return float(self.obs_jd[-1])

    def with_scenario(self, scenario: Scenario | str) -> SpaceWeatherTable:
        """The same table with another forecast scenario (``observed`` forbids any forecast)."""
        if scenario not in (*SCENARIOS, "observed"):
            raise InputError(f"scenario {scenario!r}: expected one of low, nominal, high, observed")
        return SpaceWeatherTable(
            self.obs_jd,
            self.obs_f107,
            self.obs_f107a,
            self.obs_ap,
            self.fc_jd,
            self.fc_f107,
            self.fc_f107a,
            scenario,  # type: ignore[arg-type]
            self.source,
        )

    def _forecast(self, jd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        end = self.fc_jd[-1]
        shift = np.where(jd > end, np.ceil((jd - end) / SOLAR_CYCLE_DAYS), 0.0)
        jd_in = jd - shift * SOLAR_CYCLE_DAYS
        f107 = np.interp(jd_in, self.fc_jd, self.fc_f107)
        f107a = np.interp(jd_in, self.fc_jd, self.fc_f107a)
        k = SCENARIO_FACTOR[self.scenario]
        f107 = QUIET_SUN_F107_SFU + k * (f107 - QUIET_SUN_F107_SFU)
        f107a = QUIET_SUN_F107_SFU + k * (f107a - QUIET_SUN_F107_SFU)
        ap = np.full_like(jd, FORECAST_AP_NOMINAL * k)
        return f107, f107a, ap

    def indices(self, jd_utc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """F10.7 of the previous day, 81-day centred mean F10.7, daily Ap, each shaped like ``jd_utc``."""
        jd = np.atleast_1d(np.asarray(jd_utc, dtype=float))
        first = self.obs_jd[0] + 1.0  # the previous day's flux must exist
        if np.any(jd < first):
            bad = float(jd[jd < first].min())
            raise InputError(
                f"space weather: {jd_to_iso(bad, 0.0)} is before the table ({jd_to_iso(first, 0.0)} .. "
                f"{jd_to_iso(self.last_observed_jd + 1.0, 0.0)} observed; {self.source})"
            )
        last = self.last_observed_jd + 1.0
        future = jd >= last
        if self.scenario == "observed" and np.any(future):
            bad = float(jd[future].max())
            raise InputError(
                f"space weather: {jd_to_iso(bad, 0.0)} is after the last observed day "
                f"{jd_to_iso(self.last_observed_jd, 0.0)} ({self.source}); choose a forecast scenario "
                "(low, nominal, high)"
            )
        day = np.floor(jd - 0.5) + 0.5  # 0h UTC of the day containing jd
        i_today = np.clip(np.searchsorted(self.obs_jd, day), 0, self.obs_jd.size - 1)
        i_prev = np.clip(i_today - 1, 0, self.obs_jd.size - 1)
        f107 = self.obs_f107[i_prev].copy()
        f107a = self.obs_f107a[i_today].copy()
        ap = self.obs_ap[i_today].copy()
        if np.any(future):
            ff, fa, fp = self._forecast(jd[future])
            ff_prev, _, _ = self._forecast(jd[future] - 1.0)
            # the day after the last observation still has an observed previous-day flux
            prev_obs = (jd[future] - 1.0) < last
            f107[future] = np.where(prev_obs, self.obs_f107[-1], ff_prev)
            f107a[future] = fa
            ap[future] = fp
            del ff
        shape = np.shape(jd_utc)
        return f107.reshape(shape), f107a.reshape(shape), ap.reshape(shape)


def parse_space_weather(text: str, source: str = "<space weather>") -> SpaceWeatherTable:
    """Build a table from ``date,f107_obs,f107_obs_center81,ap_avg,kind`` rows (the shipped layout)."""
    obs: list[tuple[float, float, float, float]] = []
    fc: list[tuple[float, float, float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if lineno == 1 or not line.strip():
            continue
        parts = line.split(",")
        try:
            date, f107, f107a, ap, kind = parts
            y, m, d = (int(x) for x in date.split("-"))
            jd = float(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}", "D").astype("int64")) + JD_UNIX_EPOCH
            row = (jd, float(f107), float(f107a))
        except ValueError as exc:
            raise InputError(f"{source}:{lineno}: expected date,f107,f107_81,ap,kind ({exc})") from None
        if kind in ("OBS", "INT"):
            obs.append((*row, float(ap)))
        elif kind in ("PRD", "PRM"):
            fc.append(row)
    o = np.array(obs)
    f = np.array(fc)
    # the forecast starts from the last observed day, so the two join without a jump in the mean
    f = np.vstack([o[-1:, :3], f])
    return SpaceWeatherTable(o[:, 0], o[:, 1], o[:, 2], o[:, 3], f[:, 0], f[:, 1], f[:, 2])


@lru_cache(maxsize=1)
def _bundled() -> SpaceWeatherTable:
    blob = files("spacecommons").joinpath(_DATA).read_bytes()
    return parse_space_weather(gzip.decompress(blob).decode("ascii"), source=_DATA)


def bundled_space_weather(scenario: Scenario | str = "nominal") -> SpaceWeatherTable:
    """The shipped CelesTrak table (read-only package data, read once) under a forecast scenario.

    >>> sw = bundled_space_weather()
    >>> [round(float(x[0]), 1) for x in sw.indices(np.array([2459580.5]))]  # 2022-01-01 0h UTC
    [101.5, 104.5, 12.0]
    """
    return _bundled().with_scenario(scenario)
