"""NEO watch: small-body orbits (JPL SBDB), Earth MOID, risk scales."""

from .moid import earth_elements, moid
from .sbdb import SmallBodyOrbit, read_sbdb_csv
from .scales import palermo, palermo_cumulative

__all__ = ["SmallBodyOrbit", "earth_elements", "moid", "palermo", "palermo_cumulative", "read_sbdb_csv"]
