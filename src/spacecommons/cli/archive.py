"""``spacecommons archive``: PDS4 labels validated offline, bundle directories imported into and
exported from the local exchange database (an operator's tool: it acts as the partner it names)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import open_db, say, utc_now

app = typer.Typer(help="PDS4 archives: validate labels, import and export bundle directories.", no_args_is_help=True)

DATABASE = typer.Option(None, "--database-url", help="default: the configured database")
DATA_DIR = typer.Option(None, "--data-dir", help="the exchange's file store (default: the configured data_dir)")


def _store(data_dir: str | None):
    from ..config import Settings
    from ..exchange.blobs import BlobStore

    return BlobStore(data_dir or Settings().data_dir)


def _partner(session, name: str | None) -> int | None:
    from ..errors import InputError
    from ..storage import exchange_repo

    if name is None:
        return None
    pid = exchange_repo.partner_id(session, name)
    if pid is None:
        raise InputError(f"no partner {name!r}")
    return pid


@app.command("validate")
def validate_command(labels: list[Path] = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Validate PDS4 labels against the shipped core XSD and Schematron of their information model."""
    from ..errors import InputError
    from ..exchange.validate import validate_label

    failed = 0
    for path in labels:
        report = validate_label(path.read_bytes(), str(path))
        for f in report.findings:
            say(f"{path}:{f.line}: {f.severity.value}: [{f.rule}] {f.message}")
        say(f"{path}: {'valid' if report.valid else 'INVALID'} (information model {report.information_model_version})")
        failed += not report.valid
    if failed:
        raise InputError(f"{failed} of {len(labels)} labels failed PDS4 validation")


@app.command("import")
def import_command(
    bundle: Path = typer.Argument(..., exists=True, file_okay=False, help="the bundle directory"),
    mission: str = typer.Option(..., help="the mission the products belong to"),
    payload: str = typer.Option(..., help="the payload (instrument) of the products"),
    partner: str = typer.Option(..., help="the owner partner of the payload (the importer acts as it)"),
    licence: str = typer.Option("CC-BY-4.0", help="SPDX licence of the products' data"),
    database_url: str = DATABASE,
    data_dir: str = DATA_DIR,
) -> None:
    """Import a PDS4 bundle directory: labels validated and kept verbatim, files by checksum, one transaction."""
    from ..workflows.archive import import_bundle

    _, session_maker = open_db(database_url)
    with session_maker() as session:
        result = import_bundle(
            session, _store(data_dir), bundle, _partner(session, partner), mission, payload, utc_now(), licence
        )
    say(f"imported {len(result['products'])} products, {result['files']} files; {len(result['skipped'])} already held")


@app.command("export")
def export_command(
    lid: str = typer.Argument(..., help="the bundle's LID"),
    out: Path = typer.Argument(..., help="a new or empty directory"),
    vid: str = typer.Option(None, help="the bundle's version (default: the latest)"),
    partner: str = typer.Option(None, help="export as this partner sees it (default: as the public)"),
    database_url: str = DATABASE,
    data_dir: str = DATA_DIR,
) -> None:
    """Write a bundle as a PDS4 bundle directory with a checksum manifest (embargoed data refuse the export)."""
    from ..workflows.archive import export_bundle

    _, session_maker = open_db(database_url)
    with session_maker() as session:
        result = export_bundle(session, _store(data_dir), lid, vid, out, _partner(session, partner), utc_now())
    say(f"wrote {result['files']} files ({result['bytes']} bytes) to {out}; manifest {result['manifest']}")
