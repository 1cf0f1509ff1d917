"""Entry point: ``spacecommons --help``."""

from __future__ import annotations

import typer

from . import catalog, cdm, data, db, defense, neo
from .demo import demo_command
from .propagate import propagate_command
from .screen import runs_app, screen_command
from .serve import partner_app, serve_command

app = typer.Typer(
    help="spacecommons: share and screen space data together (orbital safety, NEO watch, lunar data).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(catalog.app, name="catalog")
app.add_typer(db.app, name="db")
app.add_typer(runs_app, name="runs")
app.add_typer(cdm.app, name="cdm")
app.add_typer(defense.app, name="defense")
app.add_typer(neo.app, name="neo")
app.add_typer(partner_app, name="partner")
app.add_typer(data.app, name="data")
app.command("pc")(cdm.pc_command)
app.command("screen")(screen_command)
app.command("propagate")(propagate_command)
app.command("demo")(demo_command)
app.command("serve")(serve_command)

if __name__ == "__main__":
    app()
