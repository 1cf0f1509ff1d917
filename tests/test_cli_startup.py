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


def test_every_command_help_imports_none_of_the_heavy_libraries():
    """Issue #18 target 4: `--help` of every command and sub-command, not only the top level, stays
    light (a command module that imports numpy or SQLAlchemy at its top breaks this). One interpreter
    walks the whole click tree and names the first command whose --help pulled a heavy module in."""
    code = (
        "import json, sys\n"
        "import typer.main\n"
        "from spacecommons.cli.main import app\n"
        f"HEAVY = {HEAVY!r}\n"
        "root = typer.main.get_command(app)\n"
        "def walk(cmd, path):\n"
        "    yield path\n"
        "    for name, sub in getattr(cmd, 'commands', {}).items():\n"
        "        yield from walk(sub, [*path, name])\n"
        "paths, bad = list(walk(root, [])), None\n"
        "for path in paths:\n"
        "    try:\n        root.main(args=[*path, '--help'], prog_name='spacecommons', standalone_mode=False)\n"
        "    except SystemExit:\n        pass\n"
        "    heavy = sorted(m for m in HEAVY if m in sys.modules)\n"
        "    if heavy and bad is None:\n        bad = [' '.join(path), heavy]\n"
        "print(json.dumps([len(paths), bad]))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    n_paths, bad = json.loads(done.stdout.strip().splitlines()[-1])
    assert n_paths > 30  # the walk reached the sub-commands (the CLI has more than 30)
    assert bad is None, f"`spacecommons {bad[0]} --help` imported {bad[1]}"


def test_help_shows_no_annotation_noise():
    """Issue #13: option help without Typer's `<bool>` / `<list[Path]>` type labels, on every command."""
    import typer
    from typer.testing import CliRunner

    from spacecommons.cli.main import app

    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    stack = [([], root)]
    while stack:
        path, cmd = stack.pop()
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append([*path, name])
            stack.append(([*path, name], sub))
    runner = CliRunner()
    for path in paths:
        out = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"}).output
        assert "Usage" in out, path
        assert "<bool>" not in out and "<list[" not in out and "<float>" not in out, (path, out)
