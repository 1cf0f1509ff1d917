"""ODM keywords (OEM and OPM) in the standard's order, with their units: one table for the KVN and
XML readers and writers (CCSDS 502.0-B-2 sections 3-5 and 502.0-B-3, which adds CLASSIFICATION
and MESSAGE_ID to the header; element names of ndmxml-1.0-oem-2.0.xsd and -opm-2.0.xsd)."""

from __future__ import annotations

VERSIONS = ("1.0", "2.0", "3.0")
HEADER_KEYS = ("CLASSIFICATION", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID")
REQUIRED_HEADER = ("CREATION_DATE", "ORIGINATOR")
METADATA_KEYS = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "REF_FRAME_EPOCH", "TIME_SYSTEM")
OEM_METADATA_KEYS = (
    *METADATA_KEYS,
    "START_TIME",
    "USEABLE_START_TIME",
    "USEABLE_STOP_TIME",
    "STOP_TIME",
    "INTERPOLATION",
    "INTERPOLATION_DEGREE",
)
REQUIRED_METADATA = ("OBJECT_NAME", "OBJECT_ID", "CENTER_NAME", "REF_FRAME", "TIME_SYSTEM")
OEM_REQUIRED_METADATA = (*REQUIRED_METADATA, "START_TIME", "STOP_TIME")
#: keywords whose values are epochs (checked as such when read)
EPOCH_KEYS = ("CREATION_DATE", "REF_FRAME_EPOCH", "START_TIME", "USEABLE_START_TIME", "USEABLE_STOP_TIME", "STOP_TIME")

STATE_KEYS = ("X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT")
ACCELERATION_KEYS = ("X_DDOT", "Y_DDOT", "Z_DDOT")
COVARIANCE_KEYS = (
    "CX_X",
    "CY_X", "CY_Y",
    "CZ_X", "CZ_Y", "CZ_Z",
    "CX_DOT_X", "CX_DOT_Y", "CX_DOT_Z", "CX_DOT_X_DOT",
    "CY_DOT_X", "CY_DOT_Y", "CY_DOT_Z", "CY_DOT_X_DOT", "CY_DOT_Y_DOT",
    "CZ_DOT_X", "CZ_DOT_Y", "CZ_DOT_Z", "CZ_DOT_X_DOT", "CZ_DOT_Y_DOT", "CZ_DOT_Z_DOT",
)  # fmt: skip
KEPLERIAN_KEYS = (
    "SEMI_MAJOR_AXIS",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "TRUE_ANOMALY",
    "MEAN_ANOMALY",
    "GM",
)
SPACECRAFT_KEYS = ("MASS", "SOLAR_RAD_AREA", "SOLAR_RAD_COEFF", "DRAG_AREA", "DRAG_COEFF")
MANEUVER_KEYS = (
    "MAN_EPOCH_IGNITION",
    "MAN_DURATION",
    "MAN_DELTA_MASS",
    "MAN_REF_FRAME",
    "MAN_DV_1",
    "MAN_DV_2",
    "MAN_DV_3",
)
#: maneuver keywords whose values are text (the rest are numbers)
MANEUVER_TEXT_KEYS = ("MAN_EPOCH_IGNITION", "MAN_REF_FRAME")

UNITS = {
    **dict.fromkeys(("X", "Y", "Z", "SEMI_MAJOR_AXIS"), "km"),
    **dict.fromkeys(("X_DOT", "Y_DOT", "Z_DOT", "MAN_DV_1", "MAN_DV_2", "MAN_DV_3"), "km/s"),
    **dict.fromkeys(ACCELERATION_KEYS, "km/s**2"),
    **dict.fromkeys(("INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "TRUE_ANOMALY", "MEAN_ANOMALY"), "deg"),
    "GM": "km**3/s**2",
    "MASS": "kg",
    "MAN_DELTA_MASS": "kg",
    "SOLAR_RAD_AREA": "m**2",
    "DRAG_AREA": "m**2",
    "MAN_DURATION": "s",
    **dict.fromkeys(COVARIANCE_KEYS[:6], "km**2"),
    **{k: "km**2/s" for k in COVARIANCE_KEYS if k.count("DOT") == 1},
    **{k: "km**2/s**2" for k in COVARIANCE_KEYS if k.count("DOT") == 2},
}
