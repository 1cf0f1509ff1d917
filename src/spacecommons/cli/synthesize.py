"""``spacecommons catalog synthesize``: a synthetic future catalog (issue #18, target 3)."""

from __future__ import annotations

from pathlib import Path

import typer

from .common import check_out, read_element_files, require_positive, say


def synthesize_command(
    elements: list[Path] = typer.Option(
        ..., "--elements", "-e", help="the catalog to build on (TLE/3LE/OMM files), e.g. the 2022-01-22 snapshot"
    ),
    objects: int = typer.Option(..., "--objects", "-n", help="how many objects the synthetic catalog holds"),
    seed: int = typer.Option(0, "--seed", help="random seed: same inputs and seed, same catalog"),
    out: Path = typer.Option(..., "--out", "-o", help="output file: .tle (3LE text) or .json (OMM JSON)"),
    population: int = typer.Option(
        None,
        "--population",
        help="build this many objects (catalog + shells + debris) and draw --objects of them: same mix at any size",
    ),
    epoch: str = typer.Option(None, "--epoch", help="reference epoch (UTC ISO); default: the input's newest epoch"),
    constellations: str = typer.Option(
        None, "--constellations", help="comma-separated subset, e.g. KUIPER,QIANFAN (default: every shell)"
    ),
) -> None:
    """Catalog + mega-constellation shells (FCC/ITU filings) + breakup debris, as element sets."""
    import json

    from ..errors import InputError
    from ..sustainability.synthetic import SHELLS, synthesize, write_3le
    from ..timescales import parse_utc

    fmt = check_out(out, ("tle", "json"))
    require_positive(objects, "--objects")
    if population is not None:
        require_positive(population, "--population")
    at = parse_utc(epoch) if epoch else None
    shells = SHELLS
    if constellations:
        names = {n.strip().upper() for n in constellations.split(",") if n.strip()}
        known = sorted({s.constellation for s in SHELLS})
        if not names or names - set(known):
            raise InputError(f"--constellations {constellations!r}: choose from {', '.join(known)}")
        shells = tuple(s for s in SHELLS if s.constellation in names)
    catalog = read_element_files(elements)
    syn = synthesize(catalog, objects, seed, population=population, epoch=at, shells=shells)
    if fmt == "tle":
        out.write_text(write_3le(syn.elements))
    else:
        out.write_text(json.dumps([e.fields for e in syn.elements], indent=1))
    parts = ", ".join(f"{k} {v}" for k, v in syn.counts.items())
    say(f"{len(syn.elements)} objects ({parts}) at epoch {syn.epoch:%Y-%m-%dT%H:%M:%S}Z; wrote {out}")
