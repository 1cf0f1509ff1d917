"""`spacecommons --help` starts without the heavy libraries (issue 10: it took 2.7 s when every
command module imported scipy, SQLAlchemy, matplotlib and the service at start). Timing lives in
benchmarks/cli_startup.py; here the cause is checked: which modules one start-up imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("numpy", "scipy", "numba", "sqlalchemy", "alembic", "matplotlib", "fastapi", "httpx", "sgp4", "skyfield")
SRC = str(Path(__file__).parents[1] / "src")


def test_help_imports_none_of_the_heavy_libraries():
    code = (
        "import json, sys; sys.argv = ['spacecommons', '--help']\n"
        "from spacecommons.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "Usage" in done.stdout and "screen" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_help_texts_written_out_in_the_cli_match_their_sources():
    """The CLI spells out two tuples so that --help needs neither SQLAlchemy nor REBOUND."""
    from spacecommons.cli import neo, serve
    from spacecommons.neo.approaches import BODIES
    from spacecommons.storage.partners_repo import ROLES

    assert neo.BODIES == BODIES
    assert serve.ROLES == ROLES
