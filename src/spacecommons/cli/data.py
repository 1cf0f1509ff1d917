"""``spacecommons data``: the lunar data exchange from the command line, as a client of a running
service (every rule is enforced by the server; the CLI holds only the caller's API key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from . import common
from .common import say
from .listing import Column, CsvOption, JsonOption, check_formats, emit

if TYPE_CHECKING:
    import httpx

app = typer.Typer(help="Lunar data exchange: products, files, embargo, access requests.", no_args_is_help=True)
ServerOption = typer.Option("http://127.0.0.1:8000", "--server", envvar="SPACECOMMONS_SERVER")
KeyOption = typer.Option(None, "--key", envvar="SPACECOMMONS_API_KEY", help="API key (sc_...)")
API = "/api/v1/exchange"


def _client(server: str, key: str | None) -> httpx.Client:
    import httpx

    return httpx.Client(base_url=server, headers={"X-API-Key": key} if key else {}, timeout=120)


def _check(r: httpx.Response) -> httpx.Response:
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        say(f"{r.status_code}: {detail}", err=True, style="red")
        raise typer.Exit(1)
    return r


@app.command("upload")
def upload(
    label: Path = typer.Argument(..., exists=True, dir_okay=False, help="the product's PDS4 label"),
    files: list[Path] = typer.Argument(None, exists=True, dir_okay=False, help="data files of the product"),
    mission: str = typer.Option(...),
    payload: str = typer.Option(...),
    licence: str = typer.Option("CC-BY-4.0"),
    level: str | None = typer.Option(None, help="processing level (CLPDS 0B/01/02/2B/2C or PDS4)"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Ingest a product from its PDS4 label, then upload its files (each checksummed by the server)."""
    with _client(server, key) as c:
        params = {"mission": mission, "payload": payload, "licence": licence, **({"level": level} if level else {})}
        p = _check(c.post(f"{API}/products", params=params, content=label.read_bytes())).json()
        say(f"{p['lidvid']}: partners from {p['partners_release_at']}, public from {p['public_release_at']}")
        for f in files or []:
            with f.open("rb") as fh:
                r = _check(
                    c.put(
                        f"{API}/products/{p['lid']}/{p['vid']}/files/{f.name}",
                        content=fh,
                        headers={"content-type": "application/octet-stream"},
                    )
                ).json()
            say(f"  {f.name}: {r['size']} bytes, sha256 {r['sha256']}")


PRODUCT_COLUMNS = (
    Column("lidvid", "lidvid", keep=True),
    Column("title", "title", drop=2),
    Column("target", "target", drop=4),
    Column("processing_level", "level", keep=True, drop=5),
    Column("start", "start (UTC)", keep=True, drop=3),
    Column("public_release_at", "public from (UTC)", keep=True, drop=1),
    Column("n_files", "files", keep=True, drop=6),
)


@app.command("list")
def list_products(
    target: str | None = typer.Option(None, help="only products of this target, e.g. Moon"),
    instrument: str | None = typer.Option(None, help="only products of this instrument"),
    level: str | None = typer.Option(None, help="only products of this processing level"),
    text: str | None = typer.Option(None, "--text", help="full-text search in titles and descriptions"),
    as_json: bool = JsonOption,
    as_csv: bool = CsvOption,
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Products you may see (``--json``: the server's records, files included)."""
    check_formats(as_json, as_csv)
    params = {k: v for k, v in {"target": target, "instrument": instrument, "level": level, "q": text}.items() if v}
    with _client(server, key) as c:
        rows = _check(c.get(f"{API}/products", params=params)).json()
    if as_json:
        emit(rows, PRODUCT_COLUMNS, as_json=True)
        return
    flat = [{**{k: v for k, v in p.items() if k != "files"}, "n_files": len(p.get("files") or [])} for p in rows]
    emit(flat, PRODUCT_COLUMNS, title="products", as_csv=as_csv)


@app.command("show")
def show(
    lid: str, vid: str | None = typer.Argument(None), server: str = ServerOption, key: str | None = KeyOption
) -> None:
    """One product (the latest version when VID is left out), with its files and checksums."""
    with _client(server, key) as c:
        p = _check(c.get(f"{API}/products/{lid}" + (f"/{vid}" if vid else ""))).json()
    common.console.print_json(json.dumps(p))


@app.command("download")
def download(
    lid: str,
    vid: str,
    name: str,
    out: Path = typer.Option(None, help="target file (default: NAME); an existing partial file is resumed"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Download a file, resuming a partial download with an HTTP Range request; the sha256 is checked."""
    import hashlib

    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    out = out or Path(name)
    have = out.stat().st_size if out.exists() else 0
    expected = ""
    with _client(server, key) as c:
        headers = {"Range": f"bytes={have}-"} if have else {}
        with c.stream("GET", f"{API}/products/{lid}/{vid}/files/{name}", headers=headers) as r:
            if r.status_code != 416:  # 416: the partial file is already whole
                if r.status_code >= 400:
                    r.read()
                    _check(r)
                expected = r.headers.get("etag", "").strip('"')
                resume = r.status_code == 206
                total = int(r.headers.get("content-length", 0)) + (have if resume else 0)
                with Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=common.err_console) as bar:
                    task = bar.add_task("download", total=total, completed=have if resume else 0)
                    with out.open("ab" if resume else "wb") as f:
                        for chunk in r.iter_bytes(1 << 20):
                            f.write(chunk)
                            bar.advance(task, len(chunk))
    h = hashlib.sha256(out.read_bytes()).hexdigest()
    if expected and h != expected:
        say(f"{h} != {expected}", err=True, label="checksum mismatch:", label_style="red")
        raise typer.Exit(2)
    say(f"{out}: {out.stat().st_size} bytes, sha256 verified")


@app.command("release")
def release(
    lid: str,
    vid: str,
    partners_at: str | None = typer.Option(None, "--partners-at", help="ISO UTC, e.g. 2027-01-01T00:00:00Z"),
    public_at: str | None = typer.Option(None, "--public-at"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Owner: set the release dates of one product (per-product override)."""
    with _client(server, key) as c:
        body = {"partners_release_at": partners_at, "public_release_at": public_at}
        p = _check(c.post(f"{API}/products/{lid}/{vid}/release", json=body)).json()
    say(f"{p['lidvid']}: partners from {p['partners_release_at']}, public from {p['public_release_at']}")


@app.command("request-access")
def request_access(
    lid: str,
    vid: str,
    purpose: str = typer.Option(...),
    commitment: str = typer.Option(...),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Ask the owner for access to a product's data before its release."""
    with _client(server, key) as c:
        r = _check(
            c.post(f"{API}/products/{lid}/{vid}/access-requests", json={"purpose": purpose, "commitment": commitment})
        ).json()
    say(f"access request {r['id']}: {r['status']}")


@app.command("mission")
def create_mission(
    name: str = typer.Argument(..., help="mission name, e.g. ILRS-L1"),
    kind: str = typer.Option(..., help="module, lander, rover or orbiter"),
    proprietary_days: float = typer.Option(180.0, "--proprietary-days", help="days until partners may read"),
    public_after_days: float = typer.Option(180.0, "--public-after-days", help="days after that until public"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Operator: register a mission, owned by your partner (``POST /missions``)."""
    body = {"name": name, "kind": kind, "proprietary_days": proprietary_days, "public_after_days": public_after_days}
    with _client(server, key) as c:
        m = _check(c.post(f"{API}/missions", json=body)).json()
    say(f"mission {m['id']}: {m['name']}")


@app.command("payload")
def create_payload(
    mission: str = typer.Argument(..., help="the mission it flies on"),
    name: str = typer.Argument(..., help="payload name, e.g. CAM"),
    instrument: str = typer.Option(..., help="instrument, e.g. 'context camera'"),
    mass_kg: float | None = typer.Option(None, "--mass-kg"),
    power_w: float | None = typer.Option(None, "--power-w"),
    data_rate_kbps: float | None = typer.Option(None, "--data-rate-kbps"),
    status: str = typer.Option("operating", help="planned, operating, safe-mode or ended"),
    proprietary_days: float | None = typer.Option(
        None, "--proprietary-days", help="overrides the mission's proprietary period"
    ),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Mission owner: register a payload on a mission (``POST /missions/{mission}/payloads``)."""
    body = {
        "name": name,
        "instrument": instrument,
        "mass_kg": mass_kg,
        "power_w": power_w,
        "data_rate_kbps": data_rate_kbps,
        "status": status,
        "proprietary_days": proprietary_days,
    }
    with _client(server, key) as c:
        p = _check(c.post(f"{API}/missions/{mission}/payloads", json=body)).json()
    say(f"payload {p['id']}: {p['name']} ({p['instrument']}) on {p['mission']}")


PAYLOAD_COLUMNS = (
    Column("mission", "mission", keep=True),
    Column("name", "payload", keep=True),
    Column("instrument", "instrument"),
    Column("status", "status", keep=True, drop=1),
    Column("owner_partner_id", "owner partner", keep=True, drop=2),
    Column("proprietary_days", "proprietary days", keep=True, drop=3),
)


@app.command("payloads")
def list_payloads(
    as_json: bool = JsonOption, as_csv: bool = CsvOption, server: str = ServerOption, key: str | None = KeyOption
) -> None:
    """The payload registry: every mission's payloads."""
    check_formats(as_json, as_csv)
    with _client(server, key) as c:
        rows = _check(c.get(f"{API}/payloads")).json()
    emit(rows, PAYLOAD_COLUMNS, title="payloads", as_json=as_json, as_csv=as_csv)


def _decide(request_id: int, approve: bool, server: str, key: str | None) -> None:
    with _client(server, key) as c:
        r = _check(c.post(f"{API}/access-requests/{request_id}/decision", params={"approve": approve})).json()
    say(f"access request {r['id']}: {r['status']}")


@app.command("approve")
def approve(
    request_id: int = typer.Argument(..., help="the number `data request-access` printed"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Owner: grant an access request to your product's data before its release."""
    _decide(request_id, True, server, key)


@app.command("deny")
def deny(
    request_id: int = typer.Argument(..., help="the number `data request-access` printed"),
    server: str = ServerOption,
    key: str | None = KeyOption,
) -> None:
    """Owner: reject an access request."""
    _decide(request_id, False, server, key)


@app.command("audit")
def audit(server: str = ServerOption, key: str | None = KeyOption) -> None:
    """Fixity audit (admin): recompute every stored file's sha256 and list the corrupted ones."""
    with _client(server, key) as c:
        report = _check(c.get(f"{API}/fixity")).json()
    say(f"{report['checked']} files checked, {len(report['corrupted'])} corrupted")
    for bad in report["corrupted"]:
        say(f"product {bad['product_id']} {bad['name']} sha256 {bad['sha256']}", label="corrupted", label_style="red")
    if report["corrupted"]:
        raise typer.Exit(4)
