"""Federation between exchange nodes: the node key file, the origin's signed feed pages, and the
mirror's sync.

Sync, one page at a time: fetch the page (signed by the origin), verify its signature with the
peer's key, then fetch the verbatim labels and files the mirror does not hold yet, a batch of
products per request (``/federation/data``, one stream of blobs), hashing each blob while it is
written into the staging area of the blob store (no database transaction open meanwhile) and
checking it against the publisher's manifest (sha256 and size); a blob the batch did not deliver
is fetched alone. Then, in one transaction: insert or update the page's products and their file
rows, rename the staged blobs into the store, make them durable with one filesystem sync, and
move the peer's cursor. A sync killed at any point leaves either the whole page or nothing:
staged ``.part`` files are swept, a renamed blob no row references is harmless (content-addressed:
the next sync renames the same bytes again), and the next sync starts from the last committed
cursor; applying an entry twice changes nothing (idempotent).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InputError
from ..exchange import federation as fed
from ..exchange.blobs import BlobStore
from ..storage import exchange_repo, federation_repo
from ..storage.tables import Peer, Product, ProductFile
from ..timescales import parse_utc

KEY_SUFFIX = ".node-key"
PAGE_SIZE = 200
DATA_MAX_PRODUCTS = 1000  # products per /federation/data request (the origin refuses more)
DATA_BATCH_BYTES = 256 << 20  # a mirror asks for at most this many bytes per data request (one product may exceed it)
DATA_MEDIA_TYPE = "application/x-spacecommons-blobs"
_CHUNK = 1 << 20
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


def _entry(p: Product, names: tuple[str, str], files: list[ProductFile], admitted: list[str] | None, blobs) -> dict:
    mission, payload = names
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
    entries, payloads = [], {}
    for p in products:
        public = p.public_release_at is not None and p.public_release_at <= now
        if p.payload_id not in payloads:
            payloads[p.payload_id] = federation_repo.mission_and_payload(session, p)
        entries.append(_entry(p, payloads[p.payload_id], files[p.id], None if public else names, blobs))
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


# --- the origin's data stream: the labels and files of several products in one response ---


def parse_seqs(text: str, max_id: int) -> list[tuple[int, int]]:
    """``1-200,205`` -> [(1, 200), (205, 205)]; InputError for anything else (at most 64 ranges,
    numbers up to ``max_id``)."""
    parts = text.split(",")
    if len(parts) > 64 or not all(re.fullmatch(r"\d{1,10}(-\d{1,10})?", x) for x in parts):
        raise InputError("seqs: up to 64 feed sequence numbers or ranges, e.g. 1-200,205")
    out = []
    for x in parts:
        lo, _, hi = x.partition("-")
        a, b = int(lo), int(hi or lo)
        if a > b or b > max_id:
            raise InputError(f"seqs: {x} is not a range of sequence numbers up to {max_id}")
        out.append((a, b))
    return out


def data_items(session: Session, blobs: BlobStore, products: list[Product]) -> list[tuple[str, Path]]:
    """(sha256, path) of each distinct label and file of ``products``, in feed order."""
    files = exchange_repo.files_of(session, [p.id for p in products])
    out, seen = [], set()
    for p in products:
        for sha in ([p.label_sha256] if p.label_sha256 else []) + [f.sha256 for f in files[p.id]]:
            if sha not in seen:
                seen.add(sha)
                out.append((sha, blobs.path(sha)))
    return out


def stream_blobs(items: list[tuple[str, Path]]) -> Iterator[bytes]:
    """The data stream: per blob a line ``<sha256> <size>\n`` then its bytes, sent in pieces of
    about 1 MiB (many small blobs share one piece: each piece costs the server a thread hop). A blob
    missing from the store is left out (the mirror fetches what it lacks alone, and the fixity audit
    reports it)."""
    out = bytearray()
    for sha, path in items:
        try:
            f = path.open("rb")
        except FileNotFoundError:
            continue
        with f:
            out += f"{sha} {os.fstat(f.fileno()).st_size}\n".encode("ascii")
            while chunk := f.read(_CHUNK):
                out += chunk
                if len(out) >= _CHUNK:
                    yield bytes(out)
                    out.clear()
    if out:
        yield bytes(out)


class _Stream:
    """Reads the data stream from an iterator of chunks of any size (a read position in the current
    chunk: nothing is copied but the few bytes carried over into the next one)."""

    def __init__(self, chunks: Iterable[bytes], where: str) -> None:
        self.it, self.buf, self.pos, self.where = iter(chunks), b"", 0, where

    def _more(self) -> bool:
        for chunk in self.it:
            if chunk:
                self.buf, self.pos = self.buf[self.pos :] + chunk, 0
                return True
        return False

    def header(self) -> tuple[str, int] | None:
        """The next blob's (sha256, size); None at the end of the stream."""
        while (nl := self.buf.find(b"\n", self.pos, self.pos + 101)) < 0:
            if len(self.buf) - self.pos > 100 or not self._more():
                if self.pos == len(self.buf):
                    return None
                raise fed.FederationError(f"{self.where}: the data stream breaks off in a header")
        line, self.pos = self.buf[self.pos : nl], nl + 1
        m = re.fullmatch(rb"([0-9a-f]{64}) (\d{1,15})", line)
        if m is None:
            raise fed.FederationError(f"{self.where}: not a data stream header: {line[:80]!r}")
        return m.group(1).decode(), int(m.group(2))

    def body(self, size: int) -> Iterator[bytes]:
        """The next ``size`` bytes, in pieces (FederationError if the stream ends first)."""
        left = size
        while left:
            if self.pos >= len(self.buf) and not self._more():
                raise fed.FederationError(f"{self.where}: the data stream breaks off inside a blob")
            take = self.buf[self.pos : self.pos + left]
            self.pos += len(take)
            left -= len(take)
            yield take


# --- the mirror ---


@dataclass
class SyncReport:
    pages: int = 0
    products: int = 0  # inserted or updated
    unchanged: int = 0
    files: int = 0  # files of the products inserted or updated
    bytes: int = 0  # bytes fetched (labels and files this node did not hold)
    requests: int = 0  # HTTP requests made


class Transport:
    """How the mirror calls a peer: ``get(url, headers) -> (status, bytes)``, and ``stream(url,
    headers)``, a context manager giving ``(status, chunks)`` (by default the body that ``get``
    answers, as one chunk); tests inject faults in either."""

    def __init__(self, get: Callable[[str, dict], tuple[int, bytes]], stream=None) -> None:
        self.get = get
        self.stream = stream or self._whole

    @contextmanager
    def _whole(self, url: str, headers: dict):
        status, body = self.get(url, headers)
        yield status, iter([body])


def httpx_transport(client=None, timeout: float = 60.0) -> Transport:
    """Over one ``httpx.Client`` (one kept-alive connection per peer), bodies streamed."""
    import httpx

    c = client or httpx.Client(timeout=timeout)

    def get(url: str, headers: dict) -> tuple[int, bytes]:
        r = c.get(url, headers=headers)
        return r.status_code, r.content

    @contextmanager
    def stream(url: str, headers: dict):
        with c.stream("GET", url, headers=headers) as r:
            yield r.status_code, r.iter_bytes(_CHUNK)

    return Transport(get, stream)


def _signed_headers(private: bytes, path_and_query: str, now: Callable[[], datetime]) -> dict:
    date = now().isoformat()
    return {
        "X-Node-Key": fed.public_key_text(private),
        "X-Node-Date": date,
        "X-Node-Signature": fed.sign(private, fed.request_message("GET", path_and_query, date)),
    }


def _signed_get(transport: Transport, private: bytes, base: str, path_and_query: str, now: Callable[[], datetime]):
    status, body = transport.get(base.rstrip("/") + path_and_query, _signed_headers(private, path_and_query, now))
    if status != 200:
        raise fed.FederationError(f"{base}{path_and_query}: the peer answered {status}")
    return body


def _product_path(lid: str, vid: str) -> str:
    return f"/api/v1/federation/products/{quote(lid, safe='')}/{quote(vid, safe='')}"


_syncfs_fn: list = []


def _syncfs():
    """Linux's syncfs(2) from the C library, or None elsewhere."""
    if not _syncfs_fn:
        fn = None
        if sys.platform.startswith("linux"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).syncfs
                fn.argtypes = [ctypes.c_int]
            except (OSError, AttributeError):
                fn = None
        _syncfs_fn.append(fn)
    return _syncfs_fn[0]


class _Stage:
    """The blobs of one page: each written to a ``.part`` file of the store (which ``sweep``
    removes if the sync dies) and hashed while written, so every byte is read once; ``commit``
    renames them to their sha256 and makes the page durable with one ``syncfs`` of the store's
    filesystem (on Linux; elsewhere an fsync of each file and directory): a page of 200 products
    and 800 files costs one flush, not 2,400 fsyncs."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs, self.parts = blobs, {}

    def receive(self, expected: fed.ManifestFile, chunks: Iterable[bytes], where: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.blobs.root, suffix=".part")
        h, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += len(chunk)
                    if size > expected.size:  # a peer cannot fill the disk past the manifest
                        raise fed.FederationError(f"{where}: more than the {expected.size} bytes the manifest says")
                    h.update(chunk)
                    f.write(chunk)
            fed.check_bytes(expected, h.hexdigest(), size, where)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.parts[expected.sha256] = tmp

    def commit(self) -> None:
        done, dirs = [], set()
        for sha, tmp in list(self.parts.items()):
            target = self.blobs.path(sha)
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)
            del self.parts[sha]
            done.append(target)
            dirs.add(target.parent)
        if not done:
            return
        syncfs = _syncfs()
        fd = os.open(self.blobs.root, os.O_RDONLY)
        try:
            if syncfs is not None:
                if syncfs(fd) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"syncfs({self.blobs.root}): {os.strerror(err)}")
                return
            for path in done:
                with path.open("rb") as f:
                    os.fsync(f.fileno())
            for d in [*dirs, self.blobs.root / "sha256"]:
                dfd = os.open(d, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        finally:
            os.close(fd)

    def abort(self) -> None:
        for tmp in self.parts.values():
            Path(tmp).unlink(missing_ok=True)
        self.parts.clear()


def _same(p: Product, e: dict) -> bool:
    return (
        p.label_sha256 == (e["label"] or {}).get("sha256")
        and p.label_changes == e["label_changes"]
        and p.doi == e["doi"]
        and _t(p.partners_release_at) == e["partners_release_at"]
        and _t(p.public_release_at) == e["public_release_at"]
        and _t(p.tombstoned_at) == e["tombstoned_at"]
    )


def _opt_time(text: str | None) -> datetime | None:
    return None if text is None else parse_utc(text)


def _fields(peer: Peer, e: dict, admitted: set[int] | None) -> dict:
    fields = {
        "title": e["title"],
        "target": e["target"],
        "instrument": e["instrument"],
        "processing_level": e["processing_level"],
        "start": _opt_time(e["start"]),
        "stop": _opt_time(e["stop"]),
        "licence": e["licence"],
        "citation": e["citation"],
        "doi": e["doi"],
        "metadata_json": e["metadata_json"],
        "label_sha256": (e["label"] or {}).get("sha256"),
        "label_changes": e["label_changes"],
        "label_findings": e["label_findings"],
        "archive_path": e["archive_path"],
        "ingested_at": parse_utc(e["ingested_at"]),
        "partners_release_at": _opt_time(e["partners_release_at"]),
        "public_release_at": _opt_time(e["public_release_at"]),
        "tombstoned_at": _opt_time(e["tombstoned_at"]),
        "admitted": exchange_repo.admitted_text(admitted),
        "origin": peer.url,
        "west": None,
        "east": None,
        "north": None,
        "south": None,
    }
    if e["bounds"] is not None:
        fields.update(zip(("west", "east", "north", "south"), (float(x) for x in e["bounds"]), strict=True))
    return fields


def _apply_page(session: Session, peer: Peer, entries: list[dict]) -> None:
    """Insert or update the page's products and add their missing file rows: a few queries per
    page (bulk inserts), not per product."""
    existing = federation_repo.mirrored_many(session, [(e["lid"], e["vid"]) for e in entries])
    owners = federation_repo.lid_owners(session, [e["lid"] for e in entries])
    payloads: dict[tuple, int] = {}
    admitted_of: dict[tuple, set[int] | None] = {}
    new_rows, new_entries, old = [], [], []
    for e in entries:
        p = existing.get((e["lid"], e["vid"]))
        if p is not None and p.origin != peer.url:
            raise fed.FederationError(
                f"{e['lid']}::{e['vid']} exists here and does not come from {peer.url}: a LIDVID belongs to its origin"
            )
        owner = owners.get(e["lid"])
        if p is None and owner is not None and owner != peer.mirror_partner_id:
            raise fed.FederationError(
                f"{e['lid']} belongs to another node or partner here: not mirrored from {peer.url}"
            )
        key = (e["mission"], e["payload"], e["instrument"] or "")
        if key not in payloads:
            payloads[key] = federation_repo.mirror_payload(session, peer, *key).id
        names = None if e["admitted"] is None else tuple(e["admitted"])
        if names not in admitted_of:
            admitted_of[names] = None if names is None else federation_repo.partner_ids_named(session, list(names))
        fields = _fields(peer, e, admitted_of[names])
        if p is None:
            new_rows.append(
                {
                    "lid": e["lid"],
                    "vid": e["vid"],
                    "payload_id": payloads[key],
                    "owner_partner_id": peer.mirror_partner_id,
                }
                | fields
            )
            new_entries.append(e)
        else:
            for k, v in fields.items():
                setattr(p, k, v)
            old.append((p, e))
    file_rows = []
    if new_rows:
        ids = session.execute(insert(Product).returning(Product.id, Product.lid, Product.vid), new_rows).all()
        by_key = {(lid, vid): i for i, lid, vid in ids}
        for e in new_entries:
            pid, at = by_key[(e["lid"], e["vid"])], parse_utc(e["ingested_at"])
            file_rows += [_file_row(pid, f, at) for f in e["files"]]
    if old:
        have = exchange_repo.files_of(session, [p.id for p, _ in old])
        for p, e in old:
            names = {f.name for f in have[p.id]}
            file_rows += [_file_row(p.id, f, p.ingested_at) for f in e["files"] if f["name"] not in names]
    if file_rows:
        session.execute(insert(ProductFile), file_rows)


def _file_row(product_id: int, f: dict, at: datetime) -> dict:
    return {
        "product_id": product_id,
        "name": f["name"],
        "sha256": f["sha256"],
        "md5": f["md5"],
        "size": f["size"],
        "media_type": f["media_type"],
        "created_at": at,
    }


def _wanted(todo: list[dict], blobs: BlobStore) -> dict[int, dict[str, tuple[fed.ManifestFile, str]]]:
    """Per entry (by index), the blobs this node does not hold yet: sha256 -> (manifest entry, the
    path to fetch it alone). A blob held already was verified when it was stored (content-addressed)."""
    out: dict[int, dict[str, tuple[fed.ManifestFile, str]]] = {}
    seen: set[str] = set()
    for i, e in enumerate(todo):
        path = _product_path(e["lid"], e["vid"])
        want = {}
        items = [(e["label"], "label", path + "/label")] if e["label"] else []
        items += [(f, f["name"], f"{path}/files/{quote(f['name'])}") for f in e["files"]]
        for m, name, url in items:
            sha = m["sha256"]
            if sha in seen or blobs.path(sha).exists():
                continue
            seen.add(sha)
            want[sha] = (fed.ManifestFile(name, sha, m["size"]), url)
        if want:
            out[i] = want
    return out


def _seqs_text(seqs: list[int]) -> str:
    runs: list[list[int]] = []
    for s in sorted(seqs):
        if runs and s == runs[-1][1] + 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _batches(todo: list[dict], wanted: dict) -> list[list[int]]:
    """Entries to ask for together: at most DATA_MAX_PRODUCTS products, DATA_BATCH_BYTES bytes and
    64 runs of sequence numbers per request."""
    out: list[list[int]] = [[]]
    size = 0
    for i in sorted(wanted):
        n = sum(m.size for m, _ in wanted[i].values())
        batch = out[-1]
        if batch and (
            len(batch) >= DATA_MAX_PRODUCTS
            or size + n > DATA_BATCH_BYTES
            or len(_seqs_text([todo[j]["seq"] for j in [*batch, i]]).split(",")) > 64
        ):
            out.append([])
            size = 0
        out[-1].append(i)
        size += n
    return [b for b in out if b]


def _fetch_page(transport, private, peer_url: str, todo: list[dict], stage: _Stage, blobs, now, report) -> None:
    """Every blob the page's entries need, into ``stage``, verified: batched, then alone."""
    wanted = _wanted(todo, blobs)
    need = {sha: mu for w in wanted.values() for sha, mu in w.items()}
    for batch in _batches(todo, wanted):
        path = f"/api/v1/federation/data?{urlencode({'seqs': _seqs_text([todo[i]['seq'] for i in batch])})}"
        where = f"{peer_url}{path}"
        report.requests += 1
        with transport.stream(peer_url.rstrip("/") + path, _signed_headers(private, path, now)) as (status, chunks):
            if status != 200:
                raise fed.FederationError(f"{where}: the peer answered {status}")
            s = _Stream(chunks, where)
            while (head := s.header()) is not None:
                sha, size = head
                if sha in need and sha not in stage.parts:
                    m = need[sha][0]
                    if size != m.size:
                        raise fed.FederationError(f"{where}: {sha} has {size} bytes, the manifest says {m.size}")
                    stage.receive(m, s.body(size), f"{where} ({m.name})")
                    report.bytes += size
                else:
                    for _ in s.body(size):  # not asked for (held already, or changed since the page)
                        pass
    for sha, (m, path) in need.items():  # what the batch did not bring (a product changed meanwhile)
        if sha not in stage.parts:
            report.requests += 1
            body = _signed_get(transport, private, peer_url, path, now)
            stage.receive(m, [body], f"{peer_url}{path}")
            report.bytes += len(body)


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
        report.requests += 1
        raw = _signed_get(transport, private, url, f"/api/v1/federation/feed?{query}", now)
        try:
            page = fed.verify_page(key, json.loads(raw))
        except ValueError:
            raise fed.FederationError(f"{url}: the feed page is not JSON") from None
        if page["node"] != key or page["after"] != after:
            raise fed.FederationError(f"{url}: the feed page is not the one asked for (node or cursor differs)")
        entries = page["entries"]
        with maker() as session:  # read-only: which entries are new or changed
            todo = []
            mirrored = federation_repo.mirrored_many(session, [(e["lid"], e["vid"]) for e in entries])
            have = exchange_repo.files_of(session, [p.id for p in mirrored.values()])
            for e in entries:
                p = mirrored.get((e["lid"], e["vid"]))
                whole = p is not None and {f.name for f in have[p.id]} >= {f["name"] for f in e["files"]}
                if whole and p.origin == url and _same(p, e):
                    report.unchanged += 1
                    continue
                todo.append(e)
        stage = _Stage(blobs)
        try:  # every byte fetched and checked before any row is written
            _fetch_page(transport, private, url, todo, stage, blobs, now, report)
            with maker() as session, session.begin():
                peer = session.get(Peer, peer_id)
                _apply_page(session, peer, todo)
                session.flush()
                stage.commit()  # rows first, then blobs renamed in and made durable, then the commit
                peer.cursor_seq = page["next"]
                peer.cursor_at = parse_utc(page["as_of"])
            report.products += len(todo)
            report.files += sum(len(e["files"]) for e in todo)
        finally:
            stage.abort()  # no-op once committed
        report.pages += 1
        if on_page is not None:
            on_page(report.pages)
        if not page["more"]:
            break
    return report
