"""The ``spacecommons`` command line (Typer + rich)."""
