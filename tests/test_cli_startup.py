"""`spacecommons --help` starts without the heavy libraries (issue 10: it took 2.7 s when every
command module imported scipy, SQLAlchemy, matplotlib and the service at start), and the light
commands `catalog history` and `runs list` without the ORM, numpy or pydantic (issue #18, target
4). Timing lives in benchmarks/cli_startup.py; here the cause is checked: which modules one
start-up imports, and that each fast path gives what the slow one gives."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .conftest import SAMPLE

HEAVY = ("numpy", "scipy", "numba", "sqlalchemy", "alembic", "matplotlib", "fastapi", "httpx", "sgp4", "skyfield")
# What Typer's Rich help formatter and its pydantic conversion of values import (issue #18): no
# `--help` needs them.
HELP_EXTRA = ("typer.rich_utils", "rich.markdown", "pydantic")
# What the light commands do without: SQLAlchemy (plain SQL over sqlite3/psycopg on a schema at its
# head), Alembic, the table classes, the catalog and conjunction packages (numpy, sgp4, numba,
# scipy), pydantic (Typer's conversions and the settings), the Rich help formatter.
LIGHT_FORBIDDEN = (
    "sqlalchemy",
    "numpy",
    "scipy",
    "numba",
    "sgp4",
    "alembic",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy.orm",
    "spacecommons.storage.tables",
    "spacecommons.catalog",
    "spacecommons.conjunction",
    "typer.rich_utils",
)
SRC = str(Path(__file__).parents[1] / "src")
T0 = datetime(2026, 11, 25, 6, 7, 8, 123456, tzinfo=UTC)  # a frozen "now" for the rows the tests write


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
        "COLUMNS": "200",
        **extra,
    }


def test_help_imports_none_of_the_heavy_libraries():
    code = (
        "import json, sys; sys.argv = ['spacecommons', '--help']\n"
        "from spacecommons.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    assert "Usage" in done.stdout and "screen" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_top_level_help_imports_no_command_module():
    """`spacecommons --help` lists every command from `main.COMMANDS` without importing a command
    module, Rich or pydantic; the listing gives each command's whole first paragraph (no "...")."""
    from spacecommons.cli.main import COMMANDS

    code = (
        "import json, sys; sys.argv = ['spacecommons', '--help']\n"
        "from spacecommons.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('spacecommons.cli.', 'rich', 'pydantic')))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
    *lines, modules = done.stdout.strip().splitlines()
    assert json.loads(modules) == ["spacecommons.cli.coercion", "spacecommons.cli.main"]
    listing = " ".join(" ".join(lines).split()).split("Commands:")[1]
    for name, (_, summary) in COMMANDS.items():
        assert f"{name} {summary}" in listing.replace("- ", "-"), name  # Click may wrap after a hyphen
    assert "..." not in listing.replace("1 rev .. 2", "")


def test_command_summaries_are_the_commands_first_paragraphs():
    """`main.COMMANDS` spells out each command's summary so that `--help` imports no command module;
    here each is checked against the command it names (its docstring or its group's help)."""
    import typer

    from spacecommons.cli.main import COMMANDS, _summary, app

    root = typer.main.get_command(app)
    for name, (_, summary) in COMMANDS.items():
        assert _summary(root.commands[name].help) == summary, name


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
        f"HEAVY = {HEAVY + HELP_EXTRA!r}\n"
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
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), check=True)
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


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A SQLite database with the element sets of a real sample (two epochs of one object) and two
    screening runs, one of them with primaries; its URL."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.storage import make_engine, session_factory, upgrade
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.timescales import iso_to_jd

    tmp = tmp_path_factory.mktemp("light")
    url = f"sqlite:///{tmp / 'light.db'}"
    iridium = SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt"
    lines = iridium.read_text().splitlines()
    newer = tmp / "newer.3le"  # the first object again, one day later: its history has two epochs
    line1 = lines[1][:20] + f"{int(lines[1][20:23]) + 1:03d}" + lines[1][23:]
    line2 = lines[2].replace(lines[2][43:51], f"{float(lines[2][43:51]) + 1:8.4f}", 1)  # mean anomaly + 1 deg
    newer.write_text("\n".join([lines[0], line1, line2]) + "\n")
    runner = CliRunner()
    for path in (iridium, newer):
        loaded = runner.invoke(app, ["catalog", "load", str(path), "--no-verify-checksum", "--database-url", url])
        assert loaded.exit_code == 0, loaded.output
    engine = make_engine(url)
    upgrade(engine)
    jd, fr = iso_to_jd("2021-10-02T00:00:00Z")
    runs = [
        ScreeningParams(jd, fr, 0.5, 20.0),
        ScreeningParams(jd, fr + 0.25, 1, 5.0, primaries=(24946, 33442), colocated_km=0.5),
    ]
    with session_factory(engine).begin() as s:
        for n, p in enumerate(runs):
            s.add(
                ScreeningRun(
                    created_at=T0,
                    status="done",
                    params_json=p.to_json(),
                    catalog_digest="0" * 64,
                    n_objects=10 + n,
                    n_chunks=1,
                    n_events=n or None,
                    message="a note" if n else None,
                )
            )
    return url, int(lines[1][2:7])


def test_light_commands_import_neither_sqlalchemy_nor_numpy_nor_pydantic(stored):
    """Issue #18 target 4: `catalog history` and `runs list` on a database with rows (the empty one
    of the benchmark takes a shorter path) import none of LIGHT_FORBIDDEN, SQLAlchemy included."""
    url, norad_id = stored
    for argv in (["catalog", "history", str(norad_id)], ["runs", "list"], ["runs", "list", "--json"]):
        code = (
            f"import json, sys; sys.argv = ['spacecommons', *{argv!r}]\n"
            "from spacecommons.cli.main import app\n"
            "try:\n    app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
            f"print(json.dumps(sorted(m for m in {LIGHT_FORBIDDEN!r} if m in sys.modules)))"
        )
        env = _env(SPACECOMMONS_DATABASE_URL=url)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        *out, modules = done.stdout.strip().splitlines()
        assert json.loads(modules) == [], argv
        assert (str(norad_id) if argv[0] == "catalog" else "2021-10-02T06:00:00.000Z") in "\n".join(out), out


def test_plain_reads_give_what_the_orm_reads(stored):
    """storage/core_reads.py's plain SQL against the ORM functions it stands in for (same rows, same
    order), and `runs list`'s rows against ScreeningParams.from_json's reading of each run's
    parameters."""
    from spacecommons.cli.screen import run_row
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.storage import core_reads, make_engine, screening_repo, session_factory
    from spacecommons.storage.catalog_repo import element_history
    from spacecommons.timescales import jd_to_iso

    url, norad_id = stored
    conn = core_reads.connect_at_head(url)
    assert conn is not None  # a plain SQLite URL of a database at the head: the plain path
    with session_factory(make_engine(url))() as session:
        orm = element_history(session, norad_id)
        name, plain = core_reads.element_history(conn, norad_id)
        assert len(orm) == 2 and name == orm[0].name != ""
        assert plain == [
            {"epoch": e.fields["EPOCH"], "format": e.format, "source": e.source, "line": e.line} for e in orm
        ]
        assert core_reads.element_history(conn, 1) == ("", [])
        orm_runs, plain_runs = screening_repo.list_runs(session), core_reads.list_runs(conn)
        assert [r.id for r in plain_runs] == [r.id for r in orm_runs] == [2, 1]
        for mine, theirs in zip(plain_runs, orm_runs, strict=True):  # every field, with its type
            for field in core_reads.RUN_FIELDS:
                assert getattr(mine, field) == getattr(theirs, field), field
                assert type(getattr(mine, field)) is type(getattr(theirs, field)), field
        assert [run_row(r) for r in plain_runs] == [run_row(r) for r in orm_runs]
        for r in orm_runs:
            p, row = ScreeningParams.from_json(r.params_json), run_row(r)
            assert row["created"] == "2026-11-25T06:07:08.123456Z"
            assert (row["start"], row["days"], row["threshold_km"]) == (
                jd_to_iso(p.start_jd, p.start_fr),
                p.days,
                p.threshold_km,
            )
            assert row["primaries"] == " ".join(map(str, p.primaries))
    conn.close()


def test_plain_read_columns_are_the_tables_columns():
    """Each table and column the SQL of core_reads.py names exists in tables.py, and the SQL texts
    name no other column (a renamed column breaks this test, not the command); the one time column
    read is a UTCDateTime (core_reads.stored_utc reads it as that type does)."""
    import re

    from spacecommons.storage import core_reads
    from spacecommons.storage.tables import Base
    from spacecommons.storage.types import UTCDateTime

    named = set()
    for sql in (core_reads.OBJECT_NAME_SQL, core_reads.ELEMENT_HISTORY_SQL, core_reads.LIST_RUNS_SQL):
        named |= set(re.findall(r"\b(space_objects|element_sets|screening_runs)\.(\w+)", sql))
    assert named == {(t, c) for t, cols in core_reads.COLUMNS.items() for c in cols}
    for table_name, column in named:
        assert column in Base.metadata.tables[table_name].c, (table_name, column)
    assert isinstance(Base.metadata.tables["screening_runs"].c.created_at.type, UTCDateTime)


def test_head_revision_is_alembics():
    """The head the plain path compares `alembic_version` with is the head Alembic upgrades to."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from spacecommons.storage.core_reads import MIGRATIONS, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head() is not None


def test_plain_target_reads_urls_as_sqlalchemy_does(tmp_path, monkeypatch):
    """core_reads.plain_target reads each URL form the settings take as SQLAlchemy's dialect does
    (`create_connect_args`: SQLite's absolute file name, psycopg's keywords), and leaves every other
    form (memory, query string, other driver, several hosts, a file not there yet) to the full path."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from spacecommons.storage.core_reads import plain_target

    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel.db").write_bytes(b"")
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "sub dir" / "a b.db").write_bytes(b"")
    plain = [
        "sqlite:///rel.db",
        f"sqlite:///{tmp_path}/rel.db",  # sqlite:////abs...
        f"sqlite+pysqlite:///{tmp_path}/rel.db",
        "sqlite:///sub%20dir/a%20b.db",
        "postgresql+psycopg://scott:tiger@localhost:5432/test",
        "postgresql+psycopg://scott:p%40ss%3Aw%2Fd@127.0.0.1/test?sslmode=disable&connect_timeout=3",
        "postgresql+psycopg://scott@[::1]:5433/test",
        "postgresql+psycopg://localhost/test",
        "postgresql+psycopg:///test?host=/var/run/postgresql&port=5433",
        "postgresql+psycopg://",
        "postgresql+psycopg://scott@localhost:0/test",
    ]
    full = [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///missing.db",
        "sqlite:///rel.db?mode=ro&uri=true",
        "sqlite:///rel.db?timeout=5",
        "sqlite:///file:rel.db?uri=true",
        "postgresql://scott:tiger@localhost/test",
        "postgresql+psycopg2://scott:tiger@localhost/test",
        "postgresql+asyncpg://scott:tiger@localhost/test",
        "postgresql+psycopg://h1:5432,h2:5433/test",
        "postgresql+psycopg://scott@localhost/test?sslmode=disable&sslmode=require",
        "mysql+pymysql://scott:tiger@localhost/test",
        "not a url",
    ]
    n_plain = 0
    for url in plain + full:
        target = plain_target(url)
        if url in full:
            assert target is None, url
            continue
        if url == "postgresql+psycopg:///test?host=/var/run/postgresql&port=5433":  # a host in the query
            assert target is None, url
            continue
        assert target is not None, url
        n_plain += 1
        dialect = create_engine(url).dialect
        cargs, cparams = dialect.create_connect_args(make_url(url))
        if target.backend == "sqlite":
            cparams.pop("check_same_thread")  # SQLAlchemy's own default for a file database
            assert (cargs, cparams) == ([target.args["database"]], {}), url
            assert target.args["database"] == str(Path(target.args["database"]).resolve()), url
        else:
            for key in ("context", "client_encoding"):  # SQLAlchemy's own adapters, not the URL's
                cparams.pop(key, None)
            assert cargs in ([], [""]) and cparams == target.args, url
    assert n_plain == len(plain) - 1


def _light(argv: list[str], url: str) -> tuple[bytes, list[str]]:
    """One light command in a fresh interpreter (no option given: the URL from the environment, as a
    user has it): its standard output, bytes as written, and the heavy modules it imported."""
    code = (
        f"import json, sys; sys.argv = ['spacecommons', *{argv!r}]\n"
        "from spacecommons.cli.main import app\n"
        "try:\n    app()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print(json.dumps(sorted(m for m in {LIGHT_FORBIDDEN!r} if m in sys.modules)), file=sys.stderr)"
    )
    env = _env(SPACECOMMONS_DATABASE_URL=url)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True)
    return done.stdout, json.loads(done.stderr.decode().strip().splitlines()[-1])


MARK = "\x00-- next --\x00\n"


def _orm_way(argvs: list[list[str]], url: str) -> list[bytes]:
    """What each command printed when it read through the ORM (the code of `catalog history` and
    `runs list` before issue #18: open_db, catalog_repo / screening_repo, the same emit), all of them
    from one interpreter: the outputs, as bytes, in order."""
    code = [
        "import sys",
        "from spacecommons.cli.catalog import HISTORY_COLUMNS",
        "from spacecommons.cli.common import open_db",
        "from spacecommons.cli.listing import emit",
        "from spacecommons.cli.screen import RUN_COLUMNS, run_row",
        "from spacecommons.storage import screening_repo",
        "from spacecommons.storage.catalog_repo import element_history",
        f"_, session_maker = open_db({url!r})",
    ]
    for argv in argvs:
        as_json, as_csv = "--json" in argv, "--csv" in argv
        if argv[0] == "catalog":
            norad_id = int(argv[2])
            code += [
                f"with session_maker() as session:\n    sets = element_history(session, {norad_id})",
                f"rows = [{{'norad_id': {norad_id}, 'name': s.name, 'epoch': s.fields['EPOCH'], 'format': s.format,"
                " 'source': s.source, 'line': s.line} for s in sets]",
                f"title = f'{norad_id} {{sets[0].name}}'",
                f"emit(rows, HISTORY_COLUMNS, title=title, as_json={as_json}, as_csv={as_csv})",
            ]
        else:
            code += [
                "with session_maker() as session:\n    rows = [run_row(r) for r in screening_repo.list_runs(session)]",
                f"emit(rows, RUN_COLUMNS, title='screening runs', as_json={as_json}, as_csv={as_csv})",
            ]
        code.append(f"sys.stdout.flush(); sys.stdout.write({MARK!r}); sys.stdout.flush()")
    done = subprocess.run([sys.executable, "-c", "\n".join(code)], capture_output=True, env=_env(), check=True)
    *outs, rest = done.stdout.split(MARK.encode())
    assert rest == b"" and len(outs) == len(argvs)
    return outs


@pytest.fixture(scope="module")
def filled(backend_url):
    """A database on each backend (SQLite; PostgreSQL where the suite has its server) with the
    element sets of a real sample and two screening runs, one with primaries, a note and no event
    count; its URL and the catalog number of an object with two epochs."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app
    from spacecommons.conjunction import ScreeningParams
    from spacecommons.storage import make_engine, session_factory
    from spacecommons.storage.tables import ScreeningRun
    from spacecommons.timescales import iso_to_jd

    iss = Path(__file__).parent / "data" / "tle" / "iss_docked_2022-01-22.3le"
    runner = CliRunner()
    loaded = runner.invoke(app, ["catalog", "load", str(iss), "--database-url", backend_url])
    assert loaded.exit_code == 0, loaded.output
    jd, fr = iso_to_jd("2022-01-22T00:00:00Z")
    runs = [ScreeningParams(jd, fr, 1.0, 5.0), ScreeningParams(jd, fr + 0.5, 0.25, 2.0, primaries=(25544, 49044))]
    engine = make_engine(backend_url)
    with session_factory(engine).begin() as s:
        for n, p in enumerate(runs):
            s.add(
                ScreeningRun(
                    created_at=T0,
                    status="done" if n else "running",
                    params_json=p.to_json(),
                    catalog_digest="0" * 64,
                    n_objects=4,
                    n_chunks=1,
                    n_events=None if n else 3,
                    message="a note [bold]with brackets[/bold]" if n else None,
                )
            )
    engine.dispose()
    return backend_url, 25544


def test_light_commands_print_what_the_orm_way_printed(filled):
    """Issue #18 target 4, on SQLite and PostgreSQL: every option of `catalog history` and `runs
    list` prints, byte for byte, what the command printed when it read through the ORM, and the
    command imported no SQLAlchemy (the plain path: sqlite3 or psycopg)."""
    url, norad_id = filled
    argvs = [
        ["catalog", "history", str(norad_id)],
        ["catalog", "history", str(norad_id), "--json"],
        ["catalog", "history", str(norad_id), "--csv"],
        ["runs", "list"],
        ["runs", "list", "--json"],
        ["runs", "list", "--csv"],
    ]
    for argv, expected in zip(argvs, _orm_way(argvs, url), strict=True):
        out, heavy = _light(argv, url)
        assert heavy == [], argv
        assert out == expected, argv
        assert ("ISS (ZARYA)" if argv[0] == "catalog" else "2022-01-22T12:00:00.000Z") in out.decode(), out
        if argv[-1] == "--json" and argv[0] == "runs":
            assert [r["message"] for r in json.loads(out)] == ["a note [bold]with brackets[/bold]", None]


def test_light_commands_on_a_new_or_older_database_take_the_full_path(tmp_path):
    """A database file that does not exist yet is created and migrated, as before (the full path:
    SQLAlchemy and Alembic), and so is one whose schema is older than the head; the second command
    on it then reads it the plain way."""
    import sqlite3

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from spacecommons.storage import make_engine, upgrade
    from spacecommons.storage.core_reads import MIGRATIONS, head_revision

    new = tmp_path / "new.db"
    out, heavy = _light(["runs", "list", "--json"], f"sqlite:///{new}")
    assert json.loads(out) == [] and "sqlalchemy" in heavy
    with sqlite3.connect(new) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
    out, heavy = _light(["runs", "list", "--json"], f"sqlite:///{new}")
    assert json.loads(out) == [] and heavy == []

    older = tmp_path / "older.db"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    previous = ScriptDirectory.from_config(cfg).get_revision(head_revision()).down_revision
    upgrade(make_engine(f"sqlite:///{older}"), previous)
    out, heavy = _light(["runs", "list", "--csv"], f"sqlite:///{older}")
    assert out.startswith(b"id,created,status") and "sqlalchemy" in heavy
    with sqlite3.connect(older) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]


def test_plain_value_conversion_is_typers():
    """cli/coercion.py converts plain str/int/bool values without pydantic; on every value, plain
    or not, it returns what Typer's own (pydantic) conversion returns, or the same error."""
    import typer
    from typer._click import Context
    from typer._coercion import build_runtime_param

    import spacecommons.cli.main  # noqa: F401  (installs the conversion)

    demo = typer.Typer()

    @demo.command()
    def f(n: int = typer.Option(0), s: str = typer.Option(""), b: bool = typer.Option(False, "--b/--no-b")) -> None:
        pass

    cmd = typer.main.get_command(demo)
    ctx = Context(cmd)
    values = ["0", "25544", "-3", "-0", "007", "+5", " 5", "5 ", "1_000", "12.0", "abc", "", "١٢", "9" * 19, "9" * 18]
    values += [5, True, False, "true", "no", None]
    for param in cmd.params:
        if param.name not in ("n", "s", "b"):
            continue
        assert type(param.get_runtime_param()).__name__ == "PlainRuntimeParam", param.name
        typer_way = build_runtime_param(param.type_descriptor)
        for v in values:
            got = want = None
            try:
                got = ("ok", param.get_runtime_param().coerce(v, param=param, ctx=ctx))
            except Exception as exc:  # the error Typer shows: its type and message
                got = ("error", type(exc).__name__, str(exc))
            try:
                want = ("ok", typer_way.coerce(v, param=param, ctx=ctx))
            except Exception as exc:
                want = ("error", type(exc).__name__, str(exc))
            assert got == want and type(got[-1]) is type(want[-1]), (param.name, v, got, want)


def test_default_database_url_is_the_settings_default(monkeypatch):
    """cli/common.py knows the settings' default URL without importing pydantic-settings, and asks
    the settings whenever a SPACECOMMONS_DATABASE_URL variable is there, in any case."""
    from spacecommons.cli.common import DEFAULT_DATABASE_URL, database_url
    from spacecommons.config import Settings

    for k in [k for k in os.environ if k.upper() == "SPACECOMMONS_DATABASE_URL"]:
        monkeypatch.delenv(k)
    assert DEFAULT_DATABASE_URL == Settings().database_url == database_url(None) == database_url("")
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"
    monkeypatch.setenv("spacecommons_database_url", "sqlite:///lower.db")
    assert database_url(None) == Settings().database_url == "sqlite:///lower.db"


def test_jd_to_iso_without_numpy_is_the_numpy_reading():
    """timescales.jd_to_iso normalises (jd, fr) without numpy for two floats; the text is the one
    the numpy normalisation (normalize_jd) gives, on random epochs with fr outside [0, 1) too."""
    from datetime import timedelta

    from spacecommons.constants import SECONDS_PER_DAY
    from spacecommons.timescales import JD_UNIX_EPOCH, jd_to_iso, normalize_jd

    def numpy_reading(jd, fr, digits):  # jd_to_iso as it was, on normalize_jd
        j, f = normalize_jd(jd, fr)
        day = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=float(j) - JD_UNIX_EPOCH)
        scale = 10**digits
        ticks = int(round(float(f) * SECONDS_PER_DAY * scale))
        t = day + timedelta(seconds=ticks // scale, microseconds=(ticks % scale) * 10 ** (6 - digits))
        return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ticks % scale:0{digits}d}" if digits else "") + "Z"

    rng = random.Random(18)
    cases = [(2459489.5, 0.0), (2459489.5, -0.0), (2459489.5, 1.0), (2459489.5, -1e-12), (2459489.5, 0.999999999999)]
    cases += [(rng.uniform(2.4e6, 2.5e6) // 1 + 0.5, rng.uniform(-3, 3)) for _ in range(2000)]
    cases += [(rng.uniform(2.4e6, 2.5e6), rng.random()) for _ in range(500)]
    for jd, fr in cases:
        for digits in (0, 3, 6):
            assert jd_to_iso(jd, fr, digits) == numpy_reading(jd, fr, digits), (jd, fr, digits)
