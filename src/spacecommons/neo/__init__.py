"""NEO watch: small-body orbits (JPL SBDB), Earth MOID, risk scales."""

from .moid import earth_elements, earth_moid, moid
from .sbdb import SmallBodyOrbit, read_sbdb_csv
from .scales import palermo, palermo_cumulative

__all__ = ["SmallBodyOrbit", "earth_elements", "earth_moid", "moid", "palermo", "palermo_cumulative", "read_sbdb_csv"]
