"""Federation between exchange nodes: the node key file, the origin's signed feed pages, and the
mirror's sync.

Sync, one page at a time: fetch the page (signed by the origin), verify its signature with the
peer's key, fetch every product's verbatim label and files into a staging area of the blob store
(no database transaction open meanwhile), check each against the publisher's manifest (sha256 and
size), then, in one transaction, insert or update the products and their file rows, commit the
staged blobs, and move the peer's cursor. A sync killed at any point leaves either the whole page
or nothing: staged blobs nobody references are swept, and the next sync starts again from the
last committed cursor; applying an entry twice changes nothing (idempotent).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session, sessionmaker

from ..errors import InputError
from ..exchange import federation as fed
from ..exchange.blobs import BlobStore
from ..storage import exchange_repo, federation_repo
from ..storage.tables import Peer, Product, ProductFile
from ..timescales import parse_utc

KEY_SUFFIX = ".node-key"
PAGE_SIZE = 200


# --- the node key ---


def node_key_file(data_dir: str | Path) -> Path:
    """Where a node's private key lives: ``<data_dir>.node-key`` (like the secret-box key)."""
    d = Path(data_dir).resolve()
    return d.with_name(d.name + KEY_SUFFIX)


def node_key(data_dir: str | Path) -> bytes:
    """The node's private key, made (mode 0600) on first use."""
    path = node_key_file(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(fed.new_private_key().hex().encode() + b"\n")
                f.flush()
                os.fsync(f.fileno())
    raw = bytes.fromhex(path.read_text().strip())
    if len(raw) != 32:
        raise InputError(f"{path}: not a node key (32 bytes in hex)")
    return raw


# --- the origin's feed ---


def _t(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _entry(session: Session, p: Product, files: list[ProductFile], admitted: list[str] | None, blobs) -> dict:
    mission, payload = federation_repo.mission_and_payload(session, p)
    label_size = blobs.path(p.label_sha256).stat().st_size if p.label_sha256 else 0
    return {
        "seq": p.feed_seq,
        "lid": p.lid,
        "vid": p.vid,
        "mission": mission,
        "payload": payload,
        "title": p.title,
        "target": p.target,
        "instrument": p.instrument,
        "processing_level": p.processing_level,
        "start": _t(p.start),
        "stop": _t(p.stop),
        "bounds": None if p.west is None else [repr(x) for x in (p.west, p.east, p.north, p.south)],
        "licence": p.licence,
        "citation": p.citation,
        "doi": p.doi,
        "metadata_json": p.metadata_json,
        "label": None if not p.label_sha256 else {"sha256": p.label_sha256, "size": label_size},
        "label_changes": p.label_changes,
        "label_findings": p.label_findings,
        "archive_path": p.archive_path,
        "ingested_at": _t(p.ingested_at),
        "partners_release_at": _t(p.partners_release_at),
        "public_release_at": _t(p.public_release_at),
        "tombstoned_at": _t(p.tombstoned_at),
        "admitted": admitted,
        "files": [
            {"name": f.name, "sha256": f.sha256, "md5": f.md5, "size": f.size, "media_type": f.media_type}
            for f in files
        ],
    }


def feed_page(
    session: Session,
    blobs: BlobStore,
    private: bytes,
    requester: str,
    partner_id: int | None,
    after: int,
    since: datetime | None,
    now: datetime,
    limit: int = PAGE_SIZE,
) -> dict:
    """One signed page of this node's feed as ``requester`` (a peer's key, or ``anonymous``) may
    see it. ``admitted`` of an entry: None once public, else the names of this node's station
    partners (who may see it here from the partner release date)."""
    products = federation_repo.feed(session, partner_id, after, since, now, limit)
    files = exchange_repo.files_of(session, [p.id for p in products])
    names = federation_repo.station_partner_names(session)
    entries = []
    for p in products:
        public = p.public_release_at is not None and p.public_release_at <= now
        entries.append(_entry(session, p, files[p.id], None if public else names, blobs))
    page = {
        "node": fed.public_key_text(private),
        "for": requester,
        "after": after,
        "since": _t(since),
        "as_of": now.isoformat(),
        "next": products[-1].feed_seq if products else after,
        "more": len(products) >= limit,
        "entries": entries,
    }
    return fed.sign_page(private, page)


# --- the mirror ---


@dataclass
class SyncReport:
    pages: int = 0
    products: int = 0  # inserted or updated
    unchanged: int = 0
    files: int = 0
    bytes: int = 0


class Transport:
    """How the mirror calls a peer: ``get(url, headers) -> (status, bytes)``; tests inject faults."""

    def __init__(self, get: Callable[[str, dict], tuple[int, bytes]]) -> None:
        self.get = get


def httpx_transport(client=None, timeout: float = 60.0) -> Transport:
    import httpx

    c = client or httpx.Client(timeout=timeout)

    def get(url: str, headers: dict) -> tuple[int, bytes]:
        r = c.get(url, headers=headers)
        return r.status_code, r.content

    return Transport(get)


def _signed_get(transport: Transport, private: bytes, base: str, path_and_query: str, now: Callable[[], datetime]):
    date = now().isoformat()
    headers = {
        "X-Node-Key": fed.public_key_text(private),
        "X-Node-Date": date,
        "X-Node-Signature": fed.sign(private, fed.request_message("GET", path_and_query, date)),
    }
    status, body = transport.get(base.rstrip("/") + path_and_query, headers)
    if status != 200:
        raise fed.FederationError(f"{base}{path_and_query}: the peer answered {status}")
    return body


def _product_path(lid: str, vid: str) -> str:
    return f"/api/v1/federation/products/{quote(lid, safe='')}/{quote(vid, safe='')}"


def _fetch_verified(transport, private, peer: Peer, path: str, expected: fed.ManifestFile, blobs: BlobStore, now):
    """Fetch one blob into staging and check it against the manifest; the writer (not yet
    committed) is returned, or FederationError with nothing kept."""
    body = _signed_get(transport, private, peer.url, path, now)
    writer = blobs.writer()
    try:
        writer.write(body)
        blob = writer.finish()
        fed.check_bytes(expected, blob.sha256, blob.size, f"{peer.url}{path}")
    except BaseException:
        writer.abort()
        raise
    return writer


def _same(p: Product, e: dict) -> bool:
    return (
        p.label_sha256 == (e["label"] or {}).get("sha256")
        and p.label_changes == e["label_changes"]
        and p.doi == e["doi"]
        and _t(p.partners_release_at) == e["partners_release_at"]
        and _t(p.public_release_at) == e["public_release_at"]
        and _t(p.tombstoned_at) == e["tombstoned_at"]
    )


def _apply(session: Session, peer: Peer, e: dict, admitted: set[int] | None) -> Product:
    existing = federation_repo.mirrored(session, e["lid"], e["vid"])
    if existing is not None and existing.origin != peer.url:
        raise fed.FederationError(
            f"{e['lid']}::{e['vid']} exists here and does not come from {peer.url}: a LIDVID belongs to its origin"
        )
    owner = exchange_repo.lid_owner(session, e["lid"])
    if existing is None and owner is not None and owner.partner_id != peer.mirror_partner_id:
        raise fed.FederationError(f"{e['lid']} belongs to another node or partner here: not mirrored from {peer.url}")
    pl = federation_repo.mirror_payload(session, peer, e["mission"], e["payload"], e["instrument"] or "")
    bounds = e["bounds"]
    fields = {
        "title": e["title"],
        "target": e["target"],
        "instrument": e["instrument"],
        "processing_level": e["processing_level"],
        "start": None if e["start"] is None else parse_utc(e["start"]),
        "stop": None if e["stop"] is None else parse_utc(e["stop"]),
        "licence": e["licence"],
        "citation": e["citation"],
        "doi": e["doi"],
        "metadata_json": e["metadata_json"],
        "label_sha256": (e["label"] or {}).get("sha256"),
        "label_changes": e["label_changes"],
        "label_findings": e["label_findings"],
        "archive_path": e["archive_path"],
        "ingested_at": parse_utc(e["ingested_at"]),
        "partners_release_at": None if e["partners_release_at"] is None else parse_utc(e["partners_release_at"]),
        "public_release_at": None if e["public_release_at"] is None else parse_utc(e["public_release_at"]),
        "tombstoned_at": None if e["tombstoned_at"] is None else parse_utc(e["tombstoned_at"]),
        "admitted": exchange_repo.admitted_text(admitted),
        "origin": peer.url,
    }
    if bounds is not None:
        fields.update(zip(("west", "east", "north", "south"), (float(x) for x in bounds), strict=True))
    if existing is None:
        p = Product(lid=e["lid"], vid=e["vid"], payload_id=pl.id, owner_partner_id=peer.mirror_partner_id, **fields)
        session.add(p)
        session.flush()
    else:
        p = existing
        for k, v in fields.items():
            setattr(p, k, v)
    have = {f.name for f in exchange_repo.files_of(session, [p.id])[p.id]}
    for f in e["files"]:
        if f["name"] not in have:
            exchange_repo.add_file(
                session, p.id, f["name"], f["sha256"], f["md5"], f["size"], f["media_type"], p.ingested_at
            )
    return p


def sync_peer(
    maker: sessionmaker,
    blobs: BlobStore,
    private: bytes,
    peer_id: int,
    transport: Transport,
    now: Callable[[], datetime],
    max_pages: int | None = None,
    on_page: Callable[[int], None] | None = None,
    page_size: int = PAGE_SIZE,
) -> SyncReport:
    """Pull the peer's feed from the committed cursor until it has no more (or ``max_pages``)."""
    report = SyncReport()
    while max_pages is None or report.pages < max_pages:
        with maker() as session:
            peer = session.get(Peer, peer_id)
            url, key, after, since = peer.url, peer.public_key, peer.cursor_seq, peer.cursor_at
        query = urlencode({"after": after, "limit": page_size, **({"since": since.isoformat()} if since else {})})
        raw = _signed_get(transport, private, url, f"/api/v1/federation/feed?{query}", now)
        try:
            page = fed.verify_page(key, json.loads(raw))
        except ValueError:
            raise fed.FederationError(f"{url}: the feed page is not JSON") from None
        if page["node"] != key or page["after"] != after:
            raise fed.FederationError(f"{url}: the feed page is not the one asked for (node or cursor differs)")
        with maker() as session:  # read-only: which entries are new or changed
            todo = []
            for e in page["entries"]:
                p = federation_repo.mirrored(session, e["lid"], e["vid"])
                if p is not None and p.origin == url and _same(p, e):
                    have = {f.name for f in exchange_repo.files_of(session, [p.id])[p.id]}
                    if have >= {f["name"] for f in e["files"]}:
                        report.unchanged += 1
                        continue
                todo.append(e)
            peer = session.get(Peer, peer_id)
        writers = []
        try:
            for e in todo:  # every byte fetched and checked before any row is written
                path = _product_path(e["lid"], e["vid"])
                if e["label"]:
                    lab = fed.ManifestFile("label", e["label"]["sha256"], e["label"]["size"])
                    writers.append(_fetch_verified(transport, private, peer, path + "/label", lab, blobs, now))
                for f in e["files"]:
                    want = fed.ManifestFile(f["name"], f["sha256"], f["size"])
                    writers.append(
                        _fetch_verified(transport, private, peer, f"{path}/files/{quote(f['name'])}", want, blobs, now)
                    )
                    report.files += 1
                    report.bytes += f["size"]
            with maker() as session, session.begin():
                peer = session.get(Peer, peer_id)
                names = None
                for e in todo:
                    names = e["admitted"]
                    admitted = None if names is None else federation_repo.partner_ids_named(session, names)
                    _apply(session, peer, e, admitted)
                    report.products += 1
                session.flush()
                for w in writers:  # rows first, then blobs renamed in (as the upload does)
                    w.commit()
                peer.cursor_seq = page["next"]
                peer.cursor_at = parse_utc(page["as_of"])
        finally:
            for w in writers:
                w.abort()  # no-op once committed
        report.pages += 1
        if on_page is not None:
            on_page(report.pages)
        if not page["more"]:
            break
    return report
