"""CDM 1.0 keywords in standard order, with their XML blocks and units (CCSDS 508.0-B-1,
Tables 3-1..3-5, and the NDM/XML schema ndmxml-1.0-cdm-1.0.xsd)."""

from __future__ import annotations

HEADER = ("CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_FOR", "MESSAGE_ID")
RELATIVE = (
    "TCA",
    "MISS_DISTANCE",
    "RELATIVE_SPEED",
    "RELATIVE_POSITION_R",
    "RELATIVE_POSITION_T",
    "RELATIVE_POSITION_N",
    "RELATIVE_VELOCITY_R",
    "RELATIVE_VELOCITY_T",
    "RELATIVE_VELOCITY_N",
    "START_SCREEN_PERIOD",
    "STOP_SCREEN_PERIOD",
    "SCREEN_VOLUME_FRAME",
    "SCREEN_VOLUME_SHAPE",
    "SCREEN_VOLUME_X",
    "SCREEN_VOLUME_Y",
    "SCREEN_VOLUME_Z",
    "SCREEN_ENTRY_TIME",
    "SCREEN_EXIT_TIME",
    "COLLISION_PROBABILITY",
    "COLLISION_PROBABILITY_METHOD",
)
METADATA = (
    "OBJECT",
    "OBJECT_DESIGNATOR",
    "CATALOG_NAME",
    "OBJECT_NAME",
    "INTERNATIONAL_DESIGNATOR",
    "OBJECT_TYPE",
    "OPERATOR_CONTACT_POSITION",
    "OPERATOR_ORGANIZATION",
    "OPERATOR_PHONE",
    "OPERATOR_EMAIL",
    "EPHEMERIS_NAME",
    "COVARIANCE_METHOD",
    "MANEUVERABLE",
    "ORBIT_CENTER",
    "REF_FRAME",
    "GRAVITY_MODEL",
    "ATMOSPHERIC_MODEL",
    "N_BODY_PERTURBATIONS",
    "SOLAR_RAD_PRESSURE",
    "EARTH_TIDES",
    "INTRACK_THRUST",
)
OD = (
    "TIME_LASTOB_START",
    "TIME_LASTOB_END",
    "RECOMMENDED_OD_SPAN",
    "ACTUAL_OD_SPAN",
    "OBS_AVAILABLE",
    "OBS_USED",
    "TRACKS_AVAILABLE",
    "TRACKS_USED",
    "RESIDUALS_ACCEPTED",
    "WEIGHTED_RMS",
)
ADDITIONAL = (
    "AREA_PC",
    "AREA_DRG",
    "AREA_SRP",
    "MASS",
    "CD_AREA_OVER_MASS",
    "CR_AREA_OVER_MASS",
    "THRUST_ACCELERATION",
    "SEDR",
)
STATE = ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")
_AXES = ("R", "T", "N", "RDOT", "TDOT", "NDOT", "DRG", "SRP", "THR")
_ROWS = ("CR", "CT", "CN", "CRDOT", "CTDOT", "CNDOT", "CDRG", "CSRP", "CTHR")
COVARIANCE = tuple(f"{_ROWS[i]}_{_AXES[j]}" for i in range(9) for j in range(i + 1))
COVARIANCE_6 = COVARIANCE[:21]

BLOCKS = {  # XML block of each keyword (for the object sections: metadata or a data sub-block)
    **{k: "header" for k in HEADER},
    **{k: "relativeMetadataData" for k in RELATIVE},
    **{k: "metadata" for k in METADATA},
    **{k: "odParameters" for k in OD},
    **{k: "additionalParameters" for k in ADDITIONAL},
    **{k: "stateVector" for k in STATE},
    **{k: "covarianceMatrix" for k in COVARIANCE},
}
RELATIVE_STATE = RELATIVE[3:9]

MANDATORY_HEADER = ("CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID")
MANDATORY_RELATIVE = ("TCA", "MISS_DISTANCE")
MANDATORY_OBJECT = (
    "OBJECT",
    "OBJECT_DESIGNATOR",
    "CATALOG_NAME",
    "OBJECT_NAME",
    "INTERNATIONAL_DESIGNATOR",
    "EPHEMERIS_NAME",
    "COVARIANCE_METHOD",
    "MANEUVERABLE",
    "REF_FRAME",
    *STATE,
    *COVARIANCE_6,
)


def _cov_unit(i: int, j: int) -> str:
    # rows/cols 0-2 position (m), 3-5 velocity (m/s), 6 drag (m**2/kg), 7 SRP (m**2/kg), 8 thrust (m/s**2)
    table = {
        (0, 0): "m**2",
        (3, 0): "m**2/s",
        (3, 3): "m**2/s**2",
        (6, 0): "m**3/kg",
        (6, 3): "m**3/(kg*s)",
        (6, 6): "m**4/kg**2",
        (7, 0): "m**3/kg",
        (7, 3): "m**3/(kg*s)",
        (7, 6): "m**4/kg**2",
        (7, 7): "m**4/kg**2",
        (8, 0): "m**2/s**2",
        (8, 3): "m**2/s**3",
        (8, 6): "m**3/(kg*s**2)",
        (8, 7): "m**3/(kg*s**2)",
        (8, 8): "m**2/s**4",
    }
    ci = 0 if i < 3 else (3 if i < 6 else i)
    cj = 0 if j < 3 else (3 if j < 6 else j)
    return table[(ci, cj)]


UNITS = {
    "MISS_DISTANCE": "m",
    "RELATIVE_SPEED": "m/s",
    **{k: "m" for k in RELATIVE[3:6]},
    **{k: "m/s" for k in RELATIVE[6:9]},
    "SCREEN_VOLUME_X": "m",
    "SCREEN_VOLUME_Y": "m",
    "SCREEN_VOLUME_Z": "m",
    "RECOMMENDED_OD_SPAN": "d",
    "ACTUAL_OD_SPAN": "d",
    "RESIDUALS_ACCEPTED": "%",
    "AREA_PC": "m**2",
    "AREA_DRG": "m**2",
    "AREA_SRP": "m**2",
    "MASS": "kg",
    "CD_AREA_OVER_MASS": "m**2/kg",
    "CR_AREA_OVER_MASS": "m**2/kg",
    "THRUST_ACCELERATION": "m/s**2",
    "SEDR": "W/kg",
    "X": "km",
    "Y": "km",
    "Z": "km",
    "X_DOT": "km/s",
    "Y_DOT": "km/s",
    "Z_DOT": "km/s",
    **{f"{_ROWS[i]}_{_AXES[j]}": _cov_unit(i, j) for i in range(9) for j in range(i + 1)},
}
# Numeric keywords (value must parse as a number)
NUMERIC = set(UNITS) | {
    "COLLISION_PROBABILITY",
    "OBS_AVAILABLE",
    "OBS_USED",
    "TRACKS_AVAILABLE",
    "TRACKS_USED",
    "WEIGHTED_RMS",
}
TIMES = {
    "CREATION_DATE",
    "TCA",
    "START_SCREEN_PERIOD",
    "STOP_SCREEN_PERIOD",
    "SCREEN_ENTRY_TIME",
    "SCREEN_EXIT_TIME",
    "TIME_LASTOB_START",
    "TIME_LASTOB_END",
}
