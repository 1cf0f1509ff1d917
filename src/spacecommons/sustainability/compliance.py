"""Debris-mitigation compliance: the LEO post-mission lifetime rules and the GEO graveyard rule.

Rules (limits as published; the judgement is an enum, never text to match):

- **IADC / ISO 24113 25-year rule**: a LEO object (perigee below 2,000 km) must leave the LEO
  protected region within 25 years after the end of its mission (IADC Space Debris Mitigation
  Guidelines, IADC-02-01 Rev. 3 2021, §5.3.2; ISO 24113:2019 §6.3.3).
- **FCC 5-year rule**: US-licensed LEO spacecraft below 2,000 km must dispose within 5 years after
  the end of mission (FCC 22-74, Second Report and Order, 2022; 47 CFR 25.114(d)(14)(vii)).
- **GEO graveyard** (IADC-02-01 §5.3.1): re-orbit at least
  ``235 km + (1 + C_R A/m) * 1000 km`` (A/m in m^2/kg) above the geostationary altitude, with
  eccentricity at most 0.003. 235 km = the GEO protected region's 200 km plus 35 km for
  luni-solar and geopotential perturbations; the second term bounds solar radiation pressure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ..errors import InputError

GEO_ALTITUDE_KM = 35_786.0  # IADC-02-01 §3.3.2: geostationary altitude
LEO_CEILING_KM = 2_000.0  # IADC-02-01 §3.3.2: the LEO protected region's upper bound
GEO_GRAVEYARD_MAX_ECC = 0.003  # IADC-02-01 §5.3.1
RULE_YEARS = {"iadc25": 25.0, "fcc5": 5.0}


class Compliance(StrEnum):
    """The verdict of one rule for one object."""

    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"
    NOT_APPLICABLE = "not_applicable"


def leo_lifetime_compliance(perigee_alt_km: np.ndarray, lifetime_years: np.ndarray, rule: str = "iadc25") -> np.ndarray:
    """Verdicts (object array of :class:`Compliance`) of a LEO lifetime rule, ``iadc25`` or ``fcc5``.

    ``lifetime_years`` is the remaining orbital lifetime counted from the end of the mission
    (``inf`` when no reentry within the propagated span). Objects with perigee at or above
    2,000 km are not applicable.

    >>> [str(v) for v in leo_lifetime_compliance(np.array([500.0, 800.0, 20000.0]), np.array([3.0, 60.0, 1e9]), "fcc5")]
    ['compliant', 'non_compliant', 'not_applicable']
    """
    if rule not in RULE_YEARS:
        raise InputError(f"rule {rule!r}: expected one of {', '.join(RULE_YEARS)}")
    perigee = np.asarray(perigee_alt_km, dtype=float)
    life = np.asarray(lifetime_years, dtype=float)
    out = np.where(life <= RULE_YEARS[rule], Compliance.COMPLIANT, Compliance.NON_COMPLIANT).astype(object)
    out[perigee >= LEO_CEILING_KM] = Compliance.NOT_APPLICABLE
    return out


def geo_graveyard_min_perigee_km(cr: float, area_to_mass_m2_kg: float) -> float:
    """Minimum perigee altitude (km) of a GEO disposal orbit (IADC-02-01 §5.3.1).

    >>> geo_graveyard_min_perigee_km(1.5, 0.02)  # 35,786 + 235 + 1.03 * 1000
    37051.0
    """
    return GEO_ALTITUDE_KM + 235.0 + (1.0 + cr * area_to_mass_m2_kg) * 1000.0


@dataclass(frozen=True)
class GeoDisposal:
    verdict: Compliance
    min_perigee_km: float
    margin_km: float


def geo_disposal_compliance(perigee_alt_km: float, ecc: float, cr: float, area_to_mass_m2_kg: float) -> GeoDisposal:
    """Whether a disposal orbit meets the IADC graveyard rule (perigee and eccentricity)."""
    need = geo_graveyard_min_perigee_km(cr, area_to_mass_m2_kg)
    ok = perigee_alt_km >= need and ecc <= GEO_GRAVEYARD_MAX_ECC
    return GeoDisposal(Compliance.COMPLIANT if ok else Compliance.NON_COMPLIANT, need, perigee_alt_km - need)
