"""The curated public surface: start here; everything else may move.

>>> from spacecommons.api import read_elements, iso_to_jd
>>> jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
>>> (jd, fr)
(2459489.5, 0.0)
"""

from .catalog import ElementSet, ParseResult, latest_per_object, read_cara_sizes, read_elements, read_omm, read_tle
from .cdm import Cdm, read_cdm, write_kvn, write_xml
from .cdm.pc import cdm_pc, encounter_from_cdm
from .clients import CelesTrakClient, SpaceTrackClient
from .conjunction import ConjunctionEvents, ScreeningParams, ScreeningResult, screen
from .defense import impact_effects
from .defense.deflection import kinetic_impactor_dv
from .defense.deflection import scan as deflection_scan
from .errors import RecordError, RecordIssue, SpacecommonsError, TimeError
from .exchange.pds4 import ProductMetadata, read_label, write_label
from .frames import rtn_basis, teme_to_gcrf, teme_to_itrf
from .neo import earth_moid, palermo
from .neo.approaches import CloseApproach, close_approaches, close_approaches_parallel
from .neo.reader import read_orbits
from .neo.risk import assess as assess_impact_risk
from .neo.torino import torino
from .propagation import Ephemeris, propagate
from .risk.cdm_pc import Encounter, PcMethod, PcReport, UsageFlags, encounter_pc
from .risk.foster import pc_circle
from .risk.pc3d import pc3d
from .timescales import iso_to_jd, jd_to_iso

__all__ = [
    "Cdm",
    "Encounter",
    "PcMethod",
    "PcReport",
    "UsageFlags",
    "cdm_pc",
    "encounter_from_cdm",
    "encounter_pc",
    "pc3d",
    "CelesTrakClient",
    "CloseApproach",
    "ProductMetadata",
    "assess_impact_risk",
    "close_approaches",
    "close_approaches_parallel",
    "deflection_scan",
    "earth_moid",
    "impact_effects",
    "kinetic_impactor_dv",
    "palermo",
    "pc_circle",
    "read_cdm",
    "read_label",
    "read_orbits",
    "torino",
    "write_kvn",
    "write_label",
    "write_xml",
    "ConjunctionEvents",
    "ElementSet",
    "Ephemeris",
    "ParseResult",
    "RecordError",
    "RecordIssue",
    "ScreeningParams",
    "ScreeningResult",
    "SpaceTrackClient",
    "SpacecommonsError",
    "TimeError",
    "iso_to_jd",
    "jd_to_iso",
    "latest_per_object",
    "propagate",
    "read_cara_sizes",
    "read_elements",
    "read_omm",
    "read_tle",
    "rtn_basis",
    "screen",
    "teme_to_gcrf",
    "teme_to_itrf",
]
