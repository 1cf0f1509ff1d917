"""The curated public surface: start here; everything else may move.

Every name is the one its module defines. The service and its storage (``create_app`` and the
partner functions) and the security building blocks are imported on first use, so that importing
the library does not load FastAPI, SQLAlchemy or the cryptography package.

>>> from spacecommons.api import read_elements, iso_to_jd
>>> jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
>>> (jd, fr)
(2459489.5, 0.0)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .catalog import (
    ElementSet,
    ObjectSize,
    ParseResult,
    latest_per_object,
    read_cara_sizes,
    read_elements,
    read_omm,
    read_tle,
)
from .catalog.elements import OrbitRegime, element_regime, orbit_regime
from .catalog.trust import counts_for_latest, vet_element_sets
from .cdm import Cdm, CdmError, read_cdm, write_kvn, write_xml
from .cdm.pc import cdm_pc, encounter_from_cdm
from .clients import CelesTrakClient, ClientError, SpaceTrackClient
from .conjunction import ConjunctionEvents, ScreeningParams, ScreeningResult, screen
from .conjunction.catalog_payload import CatalogPayload
from .constants import (
    AU_KM,
    AU_PER_DAY_KM_S,
    BODY_RADIUS_IAU_KM,
    DAYS_PER_JULIAN_YEAR,
    GM_DE440_KM3_S2,
    LUNAR_DISTANCE_AU,
)
from .defense import ImpactEffects, impact_effects
from .defense.deflection import deflection_scan, kinetic_impactor_dv, required_dv
from .errors import InputError, RecordError, RecordIssue, SpacecommonsError, TimeError
from .exchange.levels import to_clpds, to_pds4
from .exchange.pds4 import ProductMetadata, read_label, write_label
from .exchange.policy import Access, can_read_data, can_see_metadata, release_dates
from .frames import rtn_basis, teme_to_gcrf, teme_to_itrf
from .neo import SmallBodyOrbit, earth_moid, palermo, read_sbdb_csv
from .neo.approaches import CloseApproach, close_approaches, close_approaches_parallel, refine_minimum
from .neo.bplane import bplane
from .neo.impact import SamplingMethod, diameter_from_h, impact_energy_mt
from .neo.nbody import body_state, heliocentric_to_barycentric, propagate_nbody
from .neo.reader import read_orbits
from .neo.risk import assess_impact_risk
from .neo.scenario import synthetic_encounter
from .neo.torino import torino
from .propagation import (
    ConstantSpaceWeather,
    Ephemeris,
    ForceModel,
    NumericalEphemeris,
    Spacecraft,
    SpaceWeather,
    propagate,
    propagate_numerical,
)
from .risk import max_pc_isotropic, pc_circle
from .risk.cdm_pc import Encounter, PcMethod, PcReport, UsageFlags, encounter_pc
from .risk.pc3d import pc3d
from .risk.sdmc import SdmcResult, pc_sdmc
from .timescales import iso_to_jd, jd_to_iso

if TYPE_CHECKING:
    from .clients.netguard import Reason, TargetRefused, check_url, fixed_resolver
    from .secrets_box import SecretBox, new_key
    from .service import create_app
    from .storage import make_engine, session_factory, upgrade
    from .storage.partners_repo import add_member, create_partner, issue_key
    from .storage.screening_repo import load_run
    from .textguard import kvn_safe, reject_control_chars
    from .workflows.jobs import JobQueue, JobState, QuotaExceeded
    from .workflows.screening import run_screening

# name -> module, imported on first use (the service, the database layer, the security building blocks)
_LAZY = {
    "JobQueue": "spacecommons.workflows.jobs",
    "JobState": "spacecommons.workflows.jobs",
    "QuotaExceeded": "spacecommons.workflows.jobs",
    "Reason": "spacecommons.clients.netguard",
    "SecretBox": "spacecommons.secrets_box",
    "TargetRefused": "spacecommons.clients.netguard",
    "add_member": "spacecommons.storage.partners_repo",
    "check_url": "spacecommons.clients.netguard",
    "create_app": "spacecommons.service",
    "create_partner": "spacecommons.storage.partners_repo",
    "fixed_resolver": "spacecommons.clients.netguard",
    "issue_key": "spacecommons.storage.partners_repo",
    "kvn_safe": "spacecommons.textguard",
    "load_run": "spacecommons.storage.screening_repo",
    "make_engine": "spacecommons.storage",
    "new_key": "spacecommons.secrets_box",
    "reject_control_chars": "spacecommons.textguard",
    "run_screening": "spacecommons.workflows.screening",
    "session_factory": "spacecommons.storage",
    "upgrade": "spacecommons.storage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spacecommons.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AU_KM",
    "AU_PER_DAY_KM_S",
    "Access",
    "BODY_RADIUS_IAU_KM",
    "CatalogPayload",
    "Cdm",
    "CdmError",
    "CelesTrakClient",
    "ClientError",
    "CloseApproach",
    "ConjunctionEvents",
    "ConstantSpaceWeather",
    "DAYS_PER_JULIAN_YEAR",
    "ElementSet",
    "Encounter",
    "Ephemeris",
    "ForceModel",
    "GM_DE440_KM3_S2",
    "ImpactEffects",
    "InputError",
    "JobQueue",
    "JobState",
    "LUNAR_DISTANCE_AU",
    "NumericalEphemeris",
    "ObjectSize",
    "OrbitRegime",
    "ParseResult",
    "PcMethod",
    "PcReport",
    "ProductMetadata",
    "QuotaExceeded",
    "Reason",
    "RecordError",
    "RecordIssue",
    "SamplingMethod",
    "ScreeningParams",
    "ScreeningResult",
    "SdmcResult",
    "SecretBox",
    "SmallBodyOrbit",
    "SpaceTrackClient",
    "SpaceWeather",
    "SpacecommonsError",
    "Spacecraft",
    "TargetRefused",
    "TimeError",
    "UsageFlags",
    "add_member",
    "assess_impact_risk",
    "body_state",
    "bplane",
    "can_read_data",
    "can_see_metadata",
    "cdm_pc",
    "check_url",
    "close_approaches",
    "close_approaches_parallel",
    "counts_for_latest",
    "create_app",
    "create_partner",
    "deflection_scan",
    "diameter_from_h",
    "earth_moid",
    "element_regime",
    "encounter_from_cdm",
    "encounter_pc",
    "fixed_resolver",
    "heliocentric_to_barycentric",
    "impact_effects",
    "impact_energy_mt",
    "iso_to_jd",
    "issue_key",
    "jd_to_iso",
    "kinetic_impactor_dv",
    "kvn_safe",
    "latest_per_object",
    "load_run",
    "make_engine",
    "max_pc_isotropic",
    "new_key",
    "orbit_regime",
    "palermo",
    "pc3d",
    "pc_circle",
    "pc_sdmc",
    "propagate",
    "propagate_nbody",
    "propagate_numerical",
    "read_cara_sizes",
    "read_cdm",
    "read_elements",
    "read_label",
    "read_omm",
    "read_orbits",
    "read_sbdb_csv",
    "read_tle",
    "refine_minimum",
    "reject_control_chars",
    "release_dates",
    "required_dv",
    "rtn_basis",
    "run_screening",
    "screen",
    "session_factory",
    "synthetic_encounter",
    "teme_to_gcrf",
    "teme_to_itrf",
    "to_clpds",
    "to_pds4",
    "torino",
    "upgrade",
    "vet_element_sets",
    "write_kvn",
    "write_label",
    "write_xml",
]
