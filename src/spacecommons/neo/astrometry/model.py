"""Observations of small bodies as read from MPC 80-column, ADES and JPL radar files.

One frozen value per measurement; times are UTC Julian dates (the scale MPC, ADES and JPL's
radar astrometry give), angles in degrees (RA and Dec in the ICRF/J2000 frame the formats
prescribe), uncertainties as the record states them (``None`` when it gives none). The fields up
to ``source`` are the interface agreed with orbit determination; the later fields have defaults,
so code that builds observations with the agreed fields alone keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Vector3 = tuple[float, float, float]

# MPC 80-column note 2 (column 15), "Format for optical astrometric observations", and the
# one-letter meaning that ADES ``mode`` values map onto (``ADES_MODE_TO_NOTE2``).
NOTE2_MEANING = {
    "P": "photographic",
    " ": "photographic (blank)",
    "e": "encoder",
    "C": "CCD",
    "B": "CMOS",
    "T": "meridian or transit circle",
    "M": "micrometer",
    "V": "roving observer (first line)",
    "v": "roving observer (second line)",
    "R": "radar (first line)",
    "r": "radar (second line)",
    "S": "satellite (first line)",
    "s": "satellite (second line)",
    "c": "corrected-without-republication CCD",
    "E": "occultation-derived",
    "O": "offset (natural satellites)",
    "H": "Hipparcos geocentric",
    "N": "normal place",
    "n": "mini-normal place from video frames",
    "A": "converted from B1950.0 to J2000.0",
    "X": "discovery observation replaced (not to be used)",
    "x": "replaced discovery observation (not to be used)",
}
# MPC 80-column astrometric catalog codes (column 72), as ADES ``astCat`` names (MPC "Astrometric
# catalogue codes" and ADES "valid values"), so that both formats name a catalog the same way.
MPC_CATALOG_CODES = {
    "a": "USNOA1", "b": "USNOSA1", "c": "USNOA2", "d": "USNOSA2", "e": "UCAC1", "f": "Tycho1",
    "g": "Tycho2", "h": "GSC1.0", "i": "GSC1.1", "j": "GSC1.2", "k": "GSC2.2", "l": "ACT",
    "m": "GSCACT", "n": "SDSS8", "o": "USNOB1", "p": "PPM", "q": "UCAC4", "r": "UCAC2",
    "s": "USNOB2", "t": "PPMXL", "u": "UCAC3", "v": "NOMAD", "w": "CMC14", "x": "Hip2",
    "y": "Hip1", "z": "GSC", "A": "AC", "B": "SAO1984", "C": "SAO", "D": "AGK3", "E": "FK4",
    "F": "ACRS", "G": "LickGas", "H": "Ida93", "I": "Perth70", "J": "COSMOS", "K": "Yale",
    "L": "2MASS", "M": "GSC2.3", "N": "SDSS7", "O": "SSTRC1", "P": "MPOSC3", "Q": "CMC15",
    "R": "SSTRC4", "S": "URAT1", "T": "URAT2", "U": "Gaia1", "V": "Gaia2", "W": "Gaia3",
    "X": "Gaia3E", "Y": "UCAC5", "Z": "ATLAS2", "0": "IHW", "1": "PS1_DR1", "2": "PS1_DR2",
    "3": "Gaia_Int", "4": "GZ", "5": "UBSC", "6": "Gaia_2016",
}  # fmt: skip
ADES_MODE_TO_NOTE2 = {"CCD": "C", "CMO": "B", "PHO": "P", "ENC": "e", "MER": "T", "MIC": "M", "VID": "n", "OCC": "E"}


@dataclass(frozen=True)
class OpticalObservation:
    """One optical position measurement (RA, Dec) of a small body.

    ``sigma_ra_arcsec`` is the uncertainty of RA·cos(Dec) (ADES ``rmsRA``). ``mode`` is the MPC
    note 2 letter ("C" CCD, "P" photographic, "S" satellite, "V" roving, ...; ADES modes are
    mapped onto these letters, unknown ones are kept as the ADES code). ``observer_gcrs_km`` is
    the geocentric position of a spacecraft observer (MPC 'S'/'s' two-line records, ADES
    ``pos1..3``); ``observer_itrf_km`` the Earth-fixed position of a roving observer ('V'/'v').
    """

    designation: str
    epoch_utc_jd: float
    ra_deg: float
    dec_deg: float
    station: str
    sigma_ra_arcsec: float | None
    sigma_dec_arcsec: float | None
    catalog: str | None
    mode: str | None
    observer_gcrs_km: Vector3 | None
    source: str
    # --- optional detail (defaults keep the agreed constructor valid) ---
    observer_gcrs_km_s: Vector3 | None = None  # spacecraft velocity when the record gives it (ADES vel1..3)
    observer_itrf_km: Vector3 | None = None  # roving observer, from its longitude, latitude, altitude
    sigma_corr: float | None = None  # ADES rmsCorr: correlation of the RA·cos(Dec) and Dec errors
    sigma_time_s: float | None = None  # ADES rmsTime
    mag: float | None = None
    band: str | None = None
    note1: str | None = None  # MPC column 14: a note letter or a program code
    discovery: bool = False  # MPC column 13 asterisk / ADES disc="*"
    ra_digits: int | None = None  # decimals of the RA seconds as published (precision of the record)
    dec_digits: int | None = None  # decimals of the Dec arcseconds as published


@dataclass(frozen=True)
class RadarObservation:
    """One radar measurement: round-trip delay (s) or Doppler shift (Hz) at the receive time.

    ``sigma`` is in the unit of ``value``. ``transmitter`` and ``receiver`` are MPC station codes;
    ``bounce_point`` is JPL's "C" (centre of mass) or "P" (peak power).
    """

    designation: str
    epoch_utc_jd: float
    kind: Literal["delay", "doppler"]
    value: float
    sigma: float
    frequency_mhz: float
    transmitter: str
    receiver: str
    source: str
    bounce_point: str = "C"
