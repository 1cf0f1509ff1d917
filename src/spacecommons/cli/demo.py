"""``spacecommons demo``: load the bundled sample into SQLite and screen it."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import typer

from . import common
from .common import open_db, require_positive, say, utc_now
from .screen import events_table, run_screening

SAMPLE_START = "2021-10-02T00:00:00Z"  # the sample's newest epochs are 2021-10-02


def sample_files() -> list[Path]:
    folder = files("spacecommons") / "data" / "sample"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def demo_command(
    database_url: str = typer.Option("sqlite:///spacecommons-demo.db", "--database-url"),
    days: float = typer.Option(1.0, help="window length in days"),
    threshold_km: float = typer.Option(5.0, "--threshold-km"),
    workers: int = typer.Option(None, help="local worker processes (default: by workload)"),
    pc_events: int = typer.Option(
        200, "--pc-events", help="store the Pc (Foster 2D) of this many closest events, shown on the dashboard"
    ),
    serve: bool = typer.Option(True, help="end by serving the API and dashboard on --port"),
    port: int = typer.Option(8000),
) -> None:
    """The main job: bundled samples -> SQLite -> one day of screening -> the dashboard."""
    from ..conjunction import ScreeningParams
    from ..conjunction.catalog_payload import CatalogPayload
    from ..storage.catalog_repo import latest_elements
    from ..timescales import iso_to_jd
    from .catalog import load_files

    require_positive(pc_events, "--pc-events", allow_zero=True)
    _, session_maker = open_db(database_url)
    common.console.rule("1. catalog: bundled CelesTrak debris groups (Fengyun-1C, Cosmos 2251, Iridium 33)")
    load_files(sample_files(), session_maker, utc_now())
    with session_maker() as session:
        records = latest_elements(session)
    common.console.rule(f"2. screening: all-vs-all, {days:g} d from {SAMPLE_START}, {threshold_km:g} km")
    jd, fr = iso_to_jd(SAMPLE_START)
    params = ScreeningParams(jd, fr, days, threshold_km)
    run_id, result = run_screening(
        session_maker, CatalogPayload.from_elements(records), params, workers=workers, dask_address=None
    )
    common.console.print(
        f"{len(result.events)} close approaches among {len(records)} objects in "
        f"{result.stats['wall_s']:.1f} s; stored as run {run_id} in {database_url}"
    )
    from ..workflows.run_pc import store_run_pc

    with session_maker.begin() as session:
        events = store_run_pc(session, run_id, utc_now(), "foster", limit=pc_events)
    common.console.print(
        events_table(events, title="Closest approaches and their Pc (Foster 2D, DEFAULT covariance)", with_pc=True)
    )
    say(
        f"Pc stored for the {len(events)} closest events "
        f"(`spacecommons pc --run {run_id} --method auto` applies CARA's choice of method to every event)"
    )
    common.console.rule("3. NEO watch: bundled JPL SBDB sample and a synthetic impactor")
    from ..neo.reader import read_orbits
    from ..storage.neo_repo import store_orbits

    folder = files("spacecommons") / "data" / "sample" / "neo"
    for name in ("sbdb_neos_sample.csv", "sbdb_2020_jan_approachers.csv", "synthetic_impactor_sbdb_api.json"):
        orbits, _ = read_orbits(Path(str(folder / name)))
        with session_maker.begin() as session:
            counts = store_orbits(session, orbits, utc_now())
        say(f"{name}: {counts.added} orbit solutions added, {counts.unchanged} already stored")
    common.console.rule("4. a demo partner with an analyst key (for the dashboard's NEO computations)")
    from ..storage import partners_repo

    with session_maker.begin() as session:
        if not partners_repo.partner_exists(session, "demo"):
            partners_repo.create_partner(session, "demo", utc_now())
        member = partners_repo.add_member(session, "demo", "demo-analyst", "analyst", utc_now())
        key = partners_repo.issue_key(session, member.id, utc_now())
    say(f"analyst API key (paste it into the dashboard): {key}")
    common.console.rule("5. lunar data exchange: PDS4 sample products of a station lander (released at once here)")
    _demo_lunar(database_url, session_maker)
    if serve:
        common.console.rule(f"6. serving http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        from .serve import serve_command

        serve_command(host="127.0.0.1", port=port, database_url=database_url)


def _demo_lunar(database_url: str, session_maker, blob_root: str | None = None) -> None:
    """Ingest the bundled PDS4 samples as the station's team, through the service's own ASGI app
    in-process (authentication, policy and audit included; no socket, no test client)."""
    import asyncio

    from ..service import create_app
    from ..storage import partners_repo

    folder = Path(str(files("spacecommons") / "data" / "sample" / "lunar"))
    with session_maker.begin() as session:
        if not partners_repo.partner_exists(session, "ILRS station"):
            partners_repo.create_partner(session, "ILRS station", utc_now())
        member = partners_repo.add_member(session, "ILRS station", "payload-team", "operator", utc_now())
        key = {"X-API-Key": partners_repo.issue_key(session, member.id, utc_now())}
    app = create_app(database_url, blob_root=blob_root)
    try:
        asyncio.run(_ingest_lunar(app, key, folder))
    finally:
        app.state.engine.dispose()


async def _ingest_lunar(app, key: dict[str, str], folder: Path) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.invalid") as client:
        await client.post(
            "/api/v1/exchange/missions",
            headers=key,
            json={"name": "ILRS-L1", "kind": "lander", "proprietary_days": 0, "public_after_days": 0},
        )
        await client.post(
            "/api/v1/exchange/missions/ILRS-L1/payloads",
            headers=key,
            json={"name": "CAM", "instrument": "context camera", "mass_kg": 4.2, "power_w": 9.0},
        )
        for label in sorted(folder.glob("*.xml")):
            r = await client.post(
                "/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", headers=key, content=label.read_bytes()
            )
            if r.status_code == 201 and label.stem.startswith("moon_basemap"):
                p = r.json()
                image = folder / f"{label.stem}.jpg"
                await client.put(
                    f"/api/v1/exchange/products/{p['lid']}/{p['vid']}/files/{image.name}",
                    content=image.read_bytes(),
                    headers={**key, "content-type": "image/jpeg"},
                )
            say(f"{label.name}: {'ingested' if r.status_code == 201 else r.json().get('detail')}")
