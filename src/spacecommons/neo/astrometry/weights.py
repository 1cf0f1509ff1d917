"""Astrometric weights: the a-priori uncertainty of each optical observation.

Method. When the record states its uncertainty (ADES ``rmsRA`` of RA·cos Dec, ``rmsDec``), that is
used as given. Otherwise the scheme of Vereš, Farnocchia, Chesley & Chamberlin (2017), "Statistical
analysis of astrometric errors for the most productive asteroid surveys", Icarus 296, 139-149
(doi:10.1016/j.icarus.2017.05.021): a per-station uncertainty (their Table 2: epoch-dependent
surveys; Table 3: the most active CCD observers; Table 4: selected stations, some by star catalog),
1.0" for other stations, 1.5" when the record names no astrometric catalog; then, for N > 4
observations of one station in one night, each is relaxed by sqrt(N/4) (their eq. 5), so that a
night's unmodelled systematic error does not count N times. The same uncertainty applies to RA·cos
Dec and Dec. A "night" is the station's local solar day, from noon to noon (UTC Julian date + east
longitude/360, floored), or the UTC day for observers without a longitude.

Not done: catalog debiasing (no debiasing table ships; Eggl et al. 2020 would be one), and the
scheme's tables are for CCD-era surveys: older (photographic) observations get the default 1.0"
or 1.5", larger uncertainties being the fit's outlier rejection's business.

The scheme as transcribed here agrees with NEOs.jl's independent transcription (``Veres17``,
PerezHz/NEOs.jl ``src/observations/errormodel/weightingscheme.jl``, MIT).
Units: arcseconds.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import OpticalObservation
from .observatories import Observatory, mpc_observatories

JD_2003_01_01 = 2452640.5
JD_2003_09_01 = 2452883.5
JD_2014_01_01 = 2456658.5
UNIT_ARCSEC = 1.0
NO_CATALOG_ARCSEC = 1.5  # Vereš et al. (2017): records that name no astrometric catalog
RELAX_NIGHT_SIZE = 4  # Vereš et al. (2017) eq. 5: sqrt(N/4) for N > 4 per station and night

# Table 3 and Table 4 of Vereš et al. (2017): station -> uncertainty (arcsec), any epoch and catalog
_STATION_ARCSEC = {
    "704": 1.0, "C51": 1.0, "J75": 1.0,  # LINEAR, WISE, OAM La Sagra
    "G96": 0.5,  # Mt. Lemmon Survey
    "F51": 0.2, "F52": 0.2,  # Pan-STARRS 1 and 2
    "G45": 0.6, "608": 0.6,  # Space Surveillance Telescope, Haleakala-AMOS
    "699": 0.8,  # LONEOS
    "D29": 0.75, "E12": 0.75,  # Purple Mountain XuYi, Siding Spring Survey
    "645": 0.3, "673": 0.3, "H01": 0.3,  # SDSS, Table Mountain, Magdalena Ridge
    "J04": 0.4, "K92": 0.4, "K93": 0.4, "Q63": 0.4, "Q64": 0.4, "V37": 0.4, "W85": 0.4, "W86": 0.4,
    "W87": 0.4, "K91": 0.4, "E10": 0.4, "F65": 0.4,  # ESA OGS Tenerife and Las Cumbres Observatory
    "689": 0.5, "950": 0.5, "W84": 0.5,  # USNO Flagstaff, La Palma, DECam
}  # fmt: skip
# Table 2: surveys whose uncertainty changed at a date: (station, until JD, before, from then on)
_EPOCH_ARCSEC = {
    "703": (JD_2014_01_01, 1.0, 0.8),  # Catalina Sky Survey
    "691": (JD_2003_01_01, 0.6, 0.5),  # Spacewatch
    "291": (JD_2003_01_01, 0.6, 0.5),  # Spacewatch II
    "644": (JD_2003_09_01, 0.6, 0.4),  # NEAT, Palomar
}
# Table 4, by star catalog (ADES astCat names): station -> {catalogs: uncertainty}, else 1.0
_CATALOG_ARCSEC = {
    "568": {("USNOB1", "USNOB2"): 0.5, ("Gaia1", "Gaia2"): 0.1, ("PPMXL",): 0.2},  # Mauna Kea
    "Y28": {("PPMXL", "Gaia1", "Gaia2"): 0.3},  # GINOP-KHK, Piszkesteto
    "T09": {("Gaia1", "Gaia2"): 0.1},  # Subaru
    "T12": {("Gaia1", "Gaia2"): 0.1},  # UH 2.24 m
    "T14": {("Gaia1", "Gaia2"): 0.1},  # CFHT
}


def veres2017_sigma(station: str, epoch_utc_jd: float, catalog: str | None) -> tuple[float, str]:
    """The uncertainty (arcsec) Vereš et al. (2017) assign to one observation, and which rule gave it.

    >>> veres2017_sigma("703", 2456658.5, "UCAC4")
    (0.8, 'Veres2017 Table 2: 703 from 2014-01-01')
    >>> veres2017_sigma("Z99", 2456658.5, None)
    (1.5, 'Veres2017: no catalog')
    """
    if station in _EPOCH_ARCSEC:
        until, before, after = _EPOCH_ARCSEC[station]
        return (before, f"Veres2017 Table 2: {station} before") if epoch_utc_jd < until else (after, _since(station))
    if station in _STATION_ARCSEC:
        return _STATION_ARCSEC[station], f"Veres2017 Tables 3-4: {station}"
    if station in _CATALOG_ARCSEC:
        for catalogs, sigma in _CATALOG_ARCSEC[station].items():
            if catalog in catalogs:
                return sigma, f"Veres2017 Table 4: {station} with {catalog}"
        return UNIT_ARCSEC, f"Veres2017 Table 4: {station}, other catalog"
    if not catalog:
        return NO_CATALOG_ARCSEC, "Veres2017: no catalog"
    return UNIT_ARCSEC, "Veres2017: default"


def _since(station: str) -> str:
    until = _EPOCH_ARCSEC[station][0]
    date = {JD_2003_01_01: "2003-01-01", JD_2003_09_01: "2003-09-01", JD_2014_01_01: "2014-01-01"}[until]
    return f"Veres2017 Table 2: {station} from {date}"


@dataclass(frozen=True)
class AstrometricWeights:
    """Per-observation uncertainties (n,) in arcsec of RA·cos Dec and Dec, the relaxation factor
    applied, and the rule each came from (reported with the fit)."""

    sigma_ra_arcsec: np.ndarray
    sigma_dec_arcsec: np.ndarray
    relax: np.ndarray
    rule: tuple[str, ...]

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Least-squares weights 1/sigma^2 (arcsec^-2) of RA·cos Dec and Dec."""
        return 1.0 / self.sigma_ra_arcsec**2, 1.0 / self.sigma_dec_arcsec**2


def _night(obs: OpticalObservation, observatories: dict[str, Observatory]) -> tuple[str, int]:
    station = observatories.get(obs.station)
    lon = station.longitude_deg if station is not None and station.longitude_deg is not None else 0.0
    return obs.station, math.floor(obs.epoch_utc_jd + lon / 360.0)


def astrometric_weights(
    observations: Sequence[OpticalObservation],
    use_record_uncertainties: bool = True,
    observatories: dict[str, Observatory] | None = None,
) -> AstrometricWeights:
    """Uncertainties of ``observations``: the record's own (ADES rmsRA/rmsDec) when it gives both
    and ``use_record_uncertainties``, else Vereš et al. (2017) relaxed per station and night."""
    table = mpc_observatories() if observatories is None else observatories
    nights = [_night(o, table) for o in observations]
    per_night = Counter(nights)
    n = len(observations)
    sra, sdec, relax = np.empty(n), np.empty(n), np.ones(n)
    rules = []
    for k, (o, night) in enumerate(zip(observations, nights, strict=True)):
        if use_record_uncertainties and o.sigma_ra_arcsec is not None and o.sigma_dec_arcsec is not None:
            sra[k], sdec[k] = o.sigma_ra_arcsec, o.sigma_dec_arcsec
            rules.append("record (ADES rmsRA/rmsDec)")
            continue
        sigma, rule = veres2017_sigma(o.station, o.epoch_utc_jd, o.catalog)
        count = per_night[night]
        if count > RELAX_NIGHT_SIZE:
            relax[k] = math.sqrt(count / RELAX_NIGHT_SIZE)
        sra[k] = sdec[k] = sigma * relax[k]
        rules.append(rule)
    return AstrometricWeights(sra, sdec, relax, tuple(rules))
