"""The curated public surface: start here; everything else may move.

>>> from spacecommons.api import read_elements, iso_to_jd
>>> jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
>>> (jd, fr)
(2459489.5, 0.0)
"""

from .catalog import ElementSet, ParseResult, latest_per_object, read_cara_sizes, read_elements, read_omm, read_tle
from .clients import CelesTrakClient, SpaceTrackClient
from .conjunction import ConjunctionEvents, ScreeningParams, ScreeningResult, screen
from .errors import RecordError, RecordIssue, SpacecommonsError, TimeError
from .frames import rtn_basis, teme_to_gcrf, teme_to_itrf
from .propagation import Ephemeris, propagate
from .timescales import iso_to_jd, jd_to_iso

__all__ = [
    "CelesTrakClient",
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
