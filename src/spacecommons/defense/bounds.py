"""Physical bounds of planetary-defense inputs, one set for the command line and the API.

A value outside its bound is refused (never clamped). The ranges are wide enough for every real
case and narrow enough to keep the models inside their domain:

- impact speed 1-80 km/s: Earth impacts lie between the escape speed, 11.2 km/s, and about
  72.8 km/s (a retrograde, parabolic heliocentric orbit: 42.1 + 29.8 km/s, plus Earth's
  gravity; Chyba et al. 1993); the lower bound is kept at 1 km/s for what-if studies of slow
  bodies and low-speed debris, as the API has always accepted;
- entry angle 1-90 degrees from the horizontal: Collins et al. (2005) eq. 9-10 diverge at
  grazing entry (0 degrees);
- diameter 0.1 m - 100 km: metre-class meteoroids to the largest near-Earth asteroids
  (Ganymed, ~37 km) with margin;
- bulk density 100-20,000 kg/m^3: porous cometary material (~500) to iron (~7,800) with margin.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Bound:
    """A closed range ``[lo, hi]`` of one input, in ``unit``."""

    name: str
    unit: str
    lo: float
    hi: float

    def contains(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def text(self) -> str:
        return f"{self.lo:g} to {self.hi:g} {self.unit}"

    def check(self, value: float) -> float:
        """``value``, or an :class:`InputError` naming the input and its range."""
        if not self.contains(value):
            raise InputError(f"{self.name} {value:g} {self.unit} is outside {self.text()}")
        return value


DIAMETER_M = Bound("diameter", "m", 0.1, 1e5)
DENSITY_KG_M3 = Bound("density", "kg/m^3", 100.0, 20_000.0)
IMPACT_SPEED_KM_S = Bound("speed", "km/s", 1.0, 80.0)
ENTRY_ANGLE_DEG = Bound("entry angle", "deg", 1.0, 90.0)
# a kinetic impactor: DART hit at 6.1 km/s; a spacecraft does not reach more than the impact speeds above
IMPACTOR_SPEED_KM_S = Bound("impactor speed", "km/s", 1e-3, 80.0)
IMPACTOR_MASS_KG = Bound("impactor mass", "kg", 1.0, 1e9)
BETA = Bound("momentum enhancement beta", "", 1.0, 10.0)  # DART: 3.61 (Cheng et al. 2023); 1 = no ejecta

__all__ = [
    "BETA",
    "DENSITY_KG_M3",
    "DIAMETER_M",
    "ENTRY_ANGLE_DEG",
    "IMPACTOR_MASS_KG",
    "IMPACTOR_SPEED_KM_S",
    "IMPACT_SPEED_KM_S",
    "Bound",
]
