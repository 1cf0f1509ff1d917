"""spacecommons: share and screen space data together."""

__version__ = "0.1.0"
