"""Entry point: ``spacecommons --help``.

Every user mistake is caught once, here (:class:`SpacecommonsGroup`), and printed as one line
that names the option or file: exit 2 for usage (a bad option, value or missing file), 3 for
input partly rejected, 1 for failures. ``spacecommons --debug ...`` shows the traceback instead.

Command modules are imported when their command runs or shows its help, not at start (issue #18,
target 4): :data:`COMMANDS` names each command's module and the summary that ``spacecommons --help``
lists, so the top-level help imports none of them. Help is Click's plain layout
(``rich_markup_mode=None``): Typer's Rich help formatter imports Rich's Markdown, Syntax and
Traceback renderers, which cost more than the rest of ``--help`` together.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, MutableMapping
from functools import cache

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption

from . import coercion

_typer_type_labels = {cls: cls.display_type_rich for cls in (TyperOption, TyperArgument)}


def _type_label(self: TyperOption | TyperArgument, ctx) -> str | None:
    """The type column of `--help` without Typer's annotation noise: nothing for a flag (its name
    says it), ``FLOAT``/``PATH...`` instead of ``<float>``/``<list[Path]>`` (issue #13)."""
    if getattr(self, "is_flag", False):
        return None
    label = _typer_type_labels[TyperArgument if isinstance(self, TyperArgument) else TyperOption](self, ctx)
    if label is None or not (label.startswith("<") and label.endswith(">")):
        return label
    inner = label[1:-1]
    if inner.startswith("list[") and inner.endswith("]"):
        return inner[5:-1].upper() + "..."
    return inner.upper() if inner.isidentifier() else inner


TyperOption.display_type_rich = TyperArgument.display_type_rich = _type_label
coercion.install()  # plain str and int values converted without pydantic

USAGE_EXIT = 2
REJECTED_EXIT = 3
FAILURE_EXIT = 1

# The commands, in the order `spacecommons --help` lists them: name -> (where the command is, as
# "module:attribute" of this package or a function returning it; the summary `--help` lists, the
# first paragraph of the command's own help: tests/test_cli_startup.py checks they agree).
COMMANDS: dict[str, tuple[str | Callable[[], object], str]] = {}


def register(name: str, target: str | Callable[[], object], summary: str) -> None:
    """Add a command (a function) or a command group (a :class:`typer.Typer`) under ``name``."""
    COMMANDS[name] = (target, summary)


@cache
def _catalog_app() -> typer.Typer:
    from . import catalog
    from .synthesize import synthesize_command

    catalog.app.command("synthesize")(synthesize_command)
    return catalog.app


@cache
def _neo_app() -> typer.Typer:
    from . import neo, neo_obs, neo_od

    neo.app.add_typer(neo_obs.app, name="observations")
    neo_od.register(neo.app)
    return neo.app


def _summary(help_text: str | None) -> str:
    """The first paragraph of a help text on one line: what a command list shows of it."""
    return " ".join(inspect.cleandoc(help_text or "").split("\n\n")[0].split())


def _with_summaries(command):
    """``command`` and its sub-commands list their sub-commands' whole first paragraph, wrapped,
    never cut with an ellipsis (Click's default cuts it to the width left)."""
    for sub in getattr(command, "commands", {}).values():
        if sub.short_help is None:
            sub.short_help = _summary(sub.help)
        _with_summaries(sub)
    return command


def _load(name: str):
    """The Click command of ``COMMANDS[name]``, built as ``app.add_typer``/``app.command`` would."""
    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import CommandInfo, TyperInfo

    target, _ = COMMANDS[name]
    if isinstance(target, str):
        module, attribute = target.split(":")
        obj = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    else:
        obj = target()
    settings = {"pretty_exceptions_short": app.pretty_exceptions_short, "rich_markup_mode": app.rich_markup_mode}
    if isinstance(obj, typer.Typer):
        command = get_group_from_info(TyperInfo(obj, name=name), suggest_commands=app.suggest_commands, **settings)
    else:
        command = get_command_from_info(CommandInfo(name=name, callback=obj), **settings)
    return _with_summaries(command)


class _LazyCommands(MutableMapping):
    """The root's sub-commands: every name of :data:`COMMANDS` is known at once, each command is
    built (its module imported) the first time it is looked up. Commands registered on ``app``
    directly (``app.command(...)``) are there from the start."""

    def __init__(self, commands) -> None:
        self._commands = dict(commands)

    def _names(self) -> list[str]:
        return [*self._commands, *(n for n in COMMANDS if n not in self._commands)]

    def __getitem__(self, name: str):
        if name not in self._commands:
            if name not in COMMANDS:
                raise KeyError(name)
            self._commands[name] = _load(name)
        return self._commands[name]

    def __setitem__(self, name: str, command) -> None:
        self._commands[name] = command

    def __delitem__(self, name: str) -> None:
        del self._commands[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._commands or name in COMMANDS


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


class SpacecommonsGroup(TyperGroup):
    """The root command: runs the subcommand and turns user mistakes into one line and an exit code."""

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)  # the names only: no command module is imported to list them

    def format_commands(self, ctx, formatter) -> None:
        rows = []
        for name in self.commands:
            if name in COMMANDS:
                rows.append((name, COMMANDS[name][1]))
            elif not self.commands[name].hidden:
                rows.append((name, self.commands[name].get_short_help_str(formatter.width)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx):
        from ..errors import InputError, RecordError, SpacecommonsError, TimeError

        if ctx.params.get("debug"):
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except UsageError as exc:  # BadParameter, missing options, unknown commands
            raise _fail(exc.format_message(), USAGE_EXIT) from None
        except (InputError, TimeError) as exc:
            raise _fail(str(exc), USAGE_EXIT) from None
        except RecordError as exc:
            raise _fail(str(exc), REJECTED_EXIT) from None
        except SpacecommonsError as exc:
            raise _fail(str(exc), FAILURE_EXIT) from None
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
            name = exc.filename or ""
            raise _fail(f"{name}: {exc.strerror or exc}", USAGE_EXIT) from None


app = typer.Typer(
    cls=SpacecommonsGroup,
    help="spacecommons: share and screen space data together (orbital safety, NEO watch, lunar data).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("spacecommons")
        except PackageNotFoundError:  # run from a source tree without installing
            v = "unknown"
        typer.echo(f"spacecommons {v}")
        raise typer.Exit()


@app.callback()
def root(
    debug: bool = typer.Option(False, "--debug", help="show the full traceback of an error"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """spacecommons: share and screen space data together (orbital safety, NEO watch, lunar data)."""


register("pc", "cdm:pc_command", "Probability of collision of CDMs (or of a screening run's events).")
register(
    "screen",
    "screen:screen_command",
    "Find every pair closer than the threshold in the window (all-vs-all or primaries-vs-all).",
)
register(
    "propagate",
    "propagate:propagate_command",
    "Write positions (km) and velocities (km/s) per object and time; SGP4 errors per row.",
)
register(
    "demo", "demo:demo_command", "The main job: bundled samples -> SQLite -> one day of screening -> the dashboard."
)
register(
    "serve",
    "serve:serve_command",
    "The REST API (/api/v1, OpenAPI at /docs) and the dashboard (/), on SQLite or PostgreSQL. "
    "Rate limits per key: SPACECOMMONS_RATE_LIMIT_PER_SECOND and SPACECOMMONS_RATE_LIMIT_BURST.",
)
register(
    "lifetime",
    "sustainability:lifetime_command",
    "Reentry epoch of each object (nominal, early = high activity, late = low activity).",
)
register(
    "breakup",
    "sustainability:breakup_command",
    "NASA Standard Breakup Model cloud of one object, written as element sets; optional what-if.",
)
register(
    "avoid",
    "avoid:avoid_command",
    "Trade space of along-track/radial burns (1 rev .. 2 days before TCA), the smallest Δv to the target Pc, "
    "verified by numerical propagation and re-screened against a catalog.",
)
register("catalog", _catalog_app, "Element sets: load files, object sizes, history, live fetch.")
register("db", "db:app", "Database schema.")
register("runs", "screen:runs_app", "Stored screening runs and their events.")
register("cdm", "cdm:app", "CCSDS Conjunction Data Messages: convert, check, export.")
register("defense", "defense:app", "Planetary defense: impact effects, kinetic-impactor deflection.")
register("neo", _neo_app, "NEO watch: small-body orbits, close approaches, MOID, impact risk.")
register("partner", "serve:partner_app", "Partners, members and API keys (bootstrapping; the API does the same).")
register("data", "data:app", "Lunar data exchange: products, files, embargo, access requests.")
register("archive", "archive:app", "PDS4 archives: validate labels, import and export bundle directories.")
register("sustainability", "sustainability:app", "Debris-mitigation compliance of a catalog.")
register("ephemeris", "ephemeris:app", "Owner/operator ephemerides (CCSDS OEM, KVN or XML).")
register(
    "federation",
    "federation:federation_app",
    "Federation with other nodes: node key, peers, and mirroring their products.",
)

if __name__ == "__main__":
    app()
