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

from .avoidance import AvoidancePlan, AvoidanceProblem, catalog_rescreen, plan_avoidance
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
from .conjunction.sieve import sieve
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
from .ephemeris import (
    Covariance,
    Maneuver,
    OdmError,
    Oem,
    OemSegment,
    Opm,
    read_oem,
    read_opm,
    write_oem,
    write_opm,
)
from .ephemeris.interpolate import interpolate_states
from .ephemeris.schema import schema_errors
from .ephemeris.track import EphemerisTrack, segment_from_teme
from .errors import InputError, RecordError, RecordIssue, SpacecommonsError, TimeError
from .exchange.archive import Citation, datacite
from .exchange.federation import canonical_json, new_private_key, public_key_text, sign_page, verify_page
from .exchange.levels import to_clpds, to_pds4
from .exchange.pds4 import Modification, ProductMetadata, amend_label, read_inventory, read_label, write_label
from .exchange.policy import Access, can_read_data, can_see_metadata, release_dates
from .frames import rtn_basis, teme_to_gcrf, teme_to_itrf
from .neo import SmallBodyOrbit, earth_moid, palermo, read_sbdb_csv
from .neo.approaches import (
    CloseApproach,
    close_approaches,
    close_approaches_parallel,
    close_approaches_sieved,
    refine_minimum,
)
from .neo.astrometry import (
    OpticalObservation,
    RadarObservation,
    mpc_observatories,
    observation_observers,
    observer_position,
    read_ades,
    read_jpl_radar,
    read_mpc80,
    read_observations_text,
    write_ades_psv,
)
from .neo.bplane import bplane
from .neo.bplane_map import ApproachBPlane, approach_bplane
from .neo.impact import SamplingMethod, diameter_from_h, impact_energy_mt
from .neo.nbody import body_state, heliocentric_to_barycentric, propagate_nbody
from .neo.od.compare import (
    compare_with_reference,
    encounter_distance,
    fit_solution,
    nongrav_at_fixed_state,
    reference_solution,
)
from .neo.od.fit import FitSettings, OrbitFit, fit_orbit, optical_arc
from .neo.od.impact_site import ImpactSite, impact_site
from .neo.od.iod import initial_orbit_fit
from .neo.od.radar import RadarArc, radar_arc
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
from .propagation.space_weather import SpaceWeatherTable, bundled_space_weather
from .risk import max_pc_isotropic, pc_circle
from .risk.cdm_pc import Encounter, PcMethod, PcReport, UsageFlags, encounter_pc
from .risk.pc3d import pc3d
from .risk.sdmc import SdmcResult, pc_sdmc
from .sustainability.breakup import breakup_cloud, cumulative_count, gabbard, is_catastrophic, sample_fragments
from .sustainability.compliance import (
    Compliance,
    geo_disposal_compliance,
    geo_graveyard_min_perigee_km,
    leo_lifetime_compliance,
)
from .sustainability.lifetime import LifetimePrediction, TabulatedDensity, msis_density, predict_lifetimes
from .sustainability.synthetic import SHELLS, SyntheticCatalog, synthesize, walker_shell, write_3le
from .sustainability.whatif import conjunction_rate_increase
from .timescales import iso_to_jd, jd_to_iso

if TYPE_CHECKING:
    from .clients.netguard import Reason, TargetRefused, check_url, fixed_resolver
    from .exchange.validate import validate_label
    from .secrets_box import SecretBox, new_key
    from .service import create_app
    from .storage import make_engine, session_factory, upgrade
    from .storage.catalog_repo import store_elements
    from .storage.partners_repo import add_member, create_partner, issue_key
    from .storage.screening_repo import load_run
    from .textguard import kvn_safe, reject_control_chars
    from .workflows.archive import export_bundle, import_bundle
    from .workflows.avoidance import problem_from_cdm, run_avoidance
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
    "export_bundle": "spacecommons.workflows.archive",
    "import_bundle": "spacecommons.workflows.archive",
    "fixed_resolver": "spacecommons.clients.netguard",
    "issue_key": "spacecommons.storage.partners_repo",
    "kvn_safe": "spacecommons.textguard",
    "load_run": "spacecommons.storage.screening_repo",
    "make_engine": "spacecommons.storage",
    "new_key": "spacecommons.secrets_box",
    "problem_from_cdm": "spacecommons.workflows.avoidance",
    "reject_control_chars": "spacecommons.textguard",
    "run_avoidance": "spacecommons.workflows.avoidance",
    "run_screening": "spacecommons.workflows.screening",
    "session_factory": "spacecommons.storage",
    "store_elements": "spacecommons.storage.catalog_repo",
    "upgrade": "spacecommons.storage",
    "validate_label": "spacecommons.exchange.validate",  # lxml + elementpath: loaded when first used
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
    "ApproachBPlane",
    "AvoidancePlan",
    "AvoidanceProblem",
    "BODY_RADIUS_IAU_KM",
    "CatalogPayload",
    "Cdm",
    "CdmError",
    "CelesTrakClient",
    "Citation",
    "ClientError",
    "CloseApproach",
    "Compliance",
    "ConjunctionEvents",
    "ConstantSpaceWeather",
    "Covariance",
    "DAYS_PER_JULIAN_YEAR",
    "ElementSet",
    "Encounter",
    "Ephemeris",
    "EphemerisTrack",
    "FitSettings",
    "ForceModel",
    "GM_DE440_KM3_S2",
    "ImpactEffects",
    "ImpactSite",
    "InputError",
    "JobQueue",
    "JobState",
    "LUNAR_DISTANCE_AU",
    "LifetimePrediction",
    "Maneuver",
    "Modification",
    "NumericalEphemeris",
    "ObjectSize",
    "OdmError",
    "Oem",
    "OemSegment",
    "Opm",
    "OpticalObservation",
    "OrbitFit",
    "OrbitRegime",
    "ParseResult",
    "PcMethod",
    "PcReport",
    "ProductMetadata",
    "QuotaExceeded",
    "RadarArc",
    "RadarObservation",
    "Reason",
    "RecordError",
    "RecordIssue",
    "SHELLS",
    "SamplingMethod",
    "ScreeningParams",
    "ScreeningResult",
    "SdmcResult",
    "SecretBox",
    "SmallBodyOrbit",
    "SpaceTrackClient",
    "SpaceWeather",
    "SpaceWeatherTable",
    "SpacecommonsError",
    "Spacecraft",
    "SyntheticCatalog",
    "TabulatedDensity",
    "TargetRefused",
    "TimeError",
    "UsageFlags",
    "add_member",
    "amend_label",
    "approach_bplane",
    "assess_impact_risk",
    "body_state",
    "bplane",
    "breakup_cloud",
    "bundled_space_weather",
    "can_read_data",
    "can_see_metadata",
    "canonical_json",
    "catalog_rescreen",
    "cdm_pc",
    "check_url",
    "close_approaches",
    "close_approaches_parallel",
    "close_approaches_sieved",
    "compare_with_reference",
    "conjunction_rate_increase",
    "counts_for_latest",
    "create_app",
    "create_partner",
    "cumulative_count",
    "datacite",
    "deflection_scan",
    "diameter_from_h",
    "earth_moid",
    "element_regime",
    "encounter_distance",
    "encounter_from_cdm",
    "encounter_pc",
    "export_bundle",
    "fit_orbit",
    "fit_solution",
    "fixed_resolver",
    "gabbard",
    "geo_disposal_compliance",
    "geo_graveyard_min_perigee_km",
    "heliocentric_to_barycentric",
    "impact_effects",
    "impact_energy_mt",
    "impact_site",
    "import_bundle",
    "initial_orbit_fit",
    "interpolate_states",
    "is_catastrophic",
    "iso_to_jd",
    "issue_key",
    "jd_to_iso",
    "kinetic_impactor_dv",
    "kvn_safe",
    "latest_per_object",
    "leo_lifetime_compliance",
    "load_run",
    "make_engine",
    "max_pc_isotropic",
    "mpc_observatories",
    "msis_density",
    "new_key",
    "new_private_key",
    "nongrav_at_fixed_state",
    "observation_observers",
    "observer_position",
    "optical_arc",
    "orbit_regime",
    "palermo",
    "pc3d",
    "pc_circle",
    "pc_sdmc",
    "plan_avoidance",
    "predict_lifetimes",
    "problem_from_cdm",
    "propagate",
    "propagate_nbody",
    "propagate_numerical",
    "public_key_text",
    "radar_arc",
    "read_ades",
    "read_cara_sizes",
    "read_cdm",
    "read_elements",
    "read_inventory",
    "read_jpl_radar",
    "read_label",
    "read_mpc80",
    "read_observations_text",
    "read_oem",
    "read_omm",
    "read_opm",
    "read_orbits",
    "read_sbdb_csv",
    "read_tle",
    "reference_solution",
    "refine_minimum",
    "reject_control_chars",
    "release_dates",
    "required_dv",
    "rtn_basis",
    "run_avoidance",
    "run_screening",
    "sample_fragments",
    "schema_errors",
    "screen",
    "segment_from_teme",
    "session_factory",
    "sieve",
    "sign_page",
    "store_elements",
    "synthesize",
    "synthetic_encounter",
    "teme_to_gcrf",
    "teme_to_itrf",
    "to_clpds",
    "to_pds4",
    "torino",
    "upgrade",
    "validate_label",
    "verify_page",
    "vet_element_sets",
    "walker_shell",
    "write_3le",
    "write_ades_psv",
    "write_kvn",
    "write_label",
    "write_oem",
    "write_opm",
    "write_xml",
]
