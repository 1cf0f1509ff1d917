"""Entry point: ``spacecommons --help``.

Every user mistake is caught once, here (:class:`SpacecommonsGroup`), and printed as one line
that names the option or file: exit 2 for usage (a bad option, value or missing file), 3 for
input partly rejected, 1 for failures. ``spacecommons --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption

from . import archive, catalog, cdm, data, db, defense, ephemeris, neo, neo_obs, neo_od, sustainability
from .avoid import avoid_command
from .demo import demo_command
from .federation import federation_app
from .propagate import propagate_command
from .screen import runs_app, screen_command
from .serve import partner_app, serve_command
from .synthesize import synthesize_command

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

USAGE_EXIT = 2
REJECTED_EXIT = 3
FAILURE_EXIT = 1


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    return typer.Exit(code)


class SpacecommonsGroup(TyperGroup):
    """The root command: runs the subcommand and turns user mistakes into one line and an exit code."""

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


app.add_typer(catalog.app, name="catalog")
catalog.app.command("synthesize")(synthesize_command)
app.add_typer(db.app, name="db")
app.add_typer(runs_app, name="runs")
app.add_typer(cdm.app, name="cdm")
app.add_typer(defense.app, name="defense")
app.add_typer(neo.app, name="neo")
neo.app.add_typer(neo_obs.app, name="observations")
neo_od.register(neo.app)
app.add_typer(partner_app, name="partner")
app.add_typer(data.app, name="data")
app.add_typer(archive.app, name="archive")
app.add_typer(sustainability.app, name="sustainability")
app.add_typer(ephemeris.app, name="ephemeris")
app.add_typer(federation_app, name="federation")
app.command("pc")(cdm.pc_command)
app.command("screen")(screen_command)
app.command("propagate")(propagate_command)
app.command("demo")(demo_command)
app.command("serve")(serve_command)
app.command("lifetime")(sustainability.lifetime_command)
app.command("breakup")(sustainability.breakup_command)
app.command("avoid")(avoid_command)

if __name__ == "__main__":
    app()
