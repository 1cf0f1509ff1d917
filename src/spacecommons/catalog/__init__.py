"""Element sets from TLE and CCSDS OMM, and object sizes."""

from .elements import ElementSet, ParseResult, latest_per_object
from .omm import read_omm
from .reader import read_elements
from .sizes import ObjectSize, read_cara_sizes
from .tle import read_tle

__all__ = [
    "ElementSet",
    "ObjectSize",
    "ParseResult",
    "latest_per_object",
    "read_cara_sizes",
    "read_elements",
    "read_omm",
    "read_tle",
]
