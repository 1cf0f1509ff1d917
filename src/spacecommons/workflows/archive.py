"""PDS4 products and archives in the exchange: ingest of one label (validated, kept verbatim), the
label as exported (amended in its Modification_History), members of bundles and collections, and
import and export of a whole bundle directory. The service's routes and ``spacecommons archive``
run these same functions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import InputError, RecordError, SpacecommonsError
from ..exchange import archive, policy
from ..exchange.blobs import BlobStore
from ..exchange.levels import to_pds4
from ..exchange.pds4 import (
    Member,
    Modification,
    ProductMetadata,
    amend_label,
    bundle_members,
    read_inventory,
    read_label,
    write_label,
)
from ..exchange.validate import Report, validate_label
from ..storage import exchange_repo as repo
from ..storage.tables import Product
from ..timescales import parse_utc

AGGREGATES = ("Product_Bundle", "Product_Collection")


class Refused(SpacecommonsError):
    """The caller may not do this (``status`` is the HTTP answer: 403, 404 or 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LabelInvalid(InputError):
    """A label failing PDS4 validation under a strict mission policy; ``report`` has every finding."""

    def __init__(self, source: str, report: Report) -> None:
        self.source, self.report = source, report
        shown = "; ".join(str(f) for f in report.errors[:10])
        more = f" (and {len(report.errors) - 10} more)" if len(report.errors) > 10 else ""
        super().__init__(f"{source}: PDS4 validation failed: {shown}{more}")


def _findings_json(report: Report) -> str | None:
    rows = [
        {"severity": f.severity.value, "rule": f.rule, "line": f.line, "message": f.message} for f in report.findings
    ]
    return json.dumps(rows) if rows else None


def ingest_label(
    session: Session,
    blobs: BlobStore,
    partner_id: int | None,
    mission: str,
    payload: str,
    label: bytes,
    now: datetime,
    licence: str = "CC-BY-4.0",
    level: str | None = None,
    source: str = "label.xml",
    archive_path: str | None = None,
) -> Product:
    """Ingest one product version from its PDS4 label, as the payload's owner partner: validated
    against the PDS4 schema of its information model version (refused under the mission's strict
    policy, findings kept under ``warn``), stored verbatim by sha256, indexed, release dates computed
    from the embargo rules. Flushed, not committed."""
    pl = repo.payload(session, mission, payload)
    if pl is None:
        raise Refused(404, f"no payload {payload!r} on {mission!r}")
    if pl.owner_partner_id != partner_id:
        raise Refused(403, "only the payload's owner partner ingests its products")
    # a malformed label (RecordError), an unknown level (InputError), a label time (TimeError)
    meta = read_label(label, source)
    m = repo.mission_of(session, pl)
    report = validate_label(label, source)
    if not report.valid and m.label_policy == "strict":
        raise LabelInvalid(source, report)
    aggregate = meta.product_class in AGGREGATES
    raw_level = level or meta.processing_level
    processing = None if aggregate and not raw_level else to_pds4(raw_level or "")
    start = None if meta.start is None else parse_utc(meta.start)  # read_label checked UTC
    stop = None if meta.stop is None else parse_utc(meta.stop)
    owner = repo.lid_owner(session, meta.lid)
    if owner is not None and owner.partner_id != pl.owner_partner_id:
        raise Refused(403, f"{meta.lid} belongs to another partner: only its owner ingests versions of it")
    if owner is not None and owner.mission_id != pl.mission_id:
        raise Refused(403, f"{meta.lid} belongs to another mission: ingest its versions from that mission")
    if repo.product_exists(session, meta.lid, meta.vid):
        raise Refused(409, f"{meta.lidvid} exists: versions are immutable, ingest a new version_id")
    days = pl.proprietary_days if pl.proprietary_days is not None else m.proprietary_days
    partners_at, public_at = policy.release_dates(now, days, m.public_after_days)
    stored = blobs.put([label])  # content-addressed: a refused row below leaves an unreferenced blob only
    bounds = dict(zip(("west", "east", "north", "south"), meta.bounds, strict=True)) if meta.bounds else {}
    try:
        return repo.add_product(
            session,
            Product(
                lid=meta.lid,
                vid=meta.vid,
                title=meta.title,
                payload_id=pl.id,
                owner_partner_id=pl.owner_partner_id,
                target=meta.target,
                instrument=meta.instrument,
                processing_level=processing,
                start=start,
                stop=stop,
                licence=licence,
                citation=meta.citation,
                **bounds,
                metadata_json=json.dumps(dataclasses.asdict(dataclasses.replace(meta, processing_level=processing))),
                ingested_at=now,
                partners_release_at=partners_at,
                public_release_at=public_at,
                label_sha256=stored.sha256,
                label_findings=_findings_json(report),
                doi=meta.dataset_doi,
                archive_path=archive_path,
            ),
        )
    except IntegrityError:  # a concurrent ingest of the same LID::VID won
        session.rollback()
        raise Refused(409, f"{meta.lidvid} exists: versions are immutable, ingest a new version_id") from None


def metadata(p: Product) -> ProductMetadata:
    fields = json.loads(p.metadata_json)
    known = {f.name for f in dataclasses.fields(ProductMetadata)} - {"extra"}
    return ProductMetadata(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items() if k in known})


def changes(p: Product) -> list[Modification]:
    return [Modification(**c) for c in json.loads(p.label_changes or "[]")]


def record_change(p: Product, now: datetime, description: str) -> None:
    """Note a change the service made to what the label states (e.g. release dates), exported as a
    Modification_Detail of the product's version dated ``now`` (UTC)."""
    rows = json.loads(p.label_changes or "[]")
    rows.append({"date": now.astimezone(UTC).date().isoformat(), "vid": p.vid, "description": description})
    p.label_changes = json.dumps(rows)


def label_bytes(p: Product, blobs: BlobStore) -> bytes:
    """The product's label as exported: the submitted label byte for byte, with the service's
    changes appended to its Modification_History; a product ingested before labels were kept
    verbatim gets a label written from its indexed fields."""
    if p.label_sha256 is None:
        return write_label(metadata(p)).encode()
    return amend_label(blobs.path(p.label_sha256).read_bytes(), changes(p))


def members(session: Session, blobs: BlobStore, p: Product) -> list[Member]:
    """The members of a bundle (its label's Bundle_Member_Entry) or a collection (its inventory file);
    an empty list for a basic product or a collection whose inventory has not been uploaded yet."""
    meta = metadata(p)
    if meta.product_class == "Product_Bundle" and p.label_sha256 is not None:
        return bundle_members(blobs.path(p.label_sha256).read_bytes(), f"{p.lid}::{p.vid}")
    if meta.product_class == "Product_Collection" and meta.file_names:
        f = repo.file(session, p.id, meta.file_names[0])
        if f is not None:
            return read_inventory(blobs.path(f.sha256).read_bytes(), f.name)
    return []


def resolve(session: Session, ref: Member) -> Product | None:
    return repo.find_product(session, ref.lid, ref.vid)


# --- bundle directories ------------------------------------------------------------------------


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_bundle(
    session: Session,
    blobs: BlobStore,
    root: Path,
    partner_id: int | None,
    mission: str,
    payload: str,
    now: datetime,
    licence: str = "CC-BY-4.0",
) -> dict:
    """Import a PDS4 bundle directory as the payload's owner: every label (``*.xml``) with the data
    files it names (beside it), in one transaction. A checksum manifest at the root, when present, is
    verified first; a product already held with the same label is skipped (re-import is idempotent).
    Returns ``{"products": [LIDVID...], "skipped": [...], "files": n}``."""
    root = Path(root)
    manifest_path = root / archive.MANIFEST
    if manifest_path.exists():
        for rel, md5 in archive.read_manifest(manifest_path.read_bytes()).items():
            p = root / rel
            if not p.is_file() or _md5(p) != md5:
                raise RecordError(str(manifest_path), 1, rel, "missing, or its MD5 differs from the manifest")
    labels = sorted(p for p in root.rglob("*.xml") if p.is_file())
    if not labels:
        raise InputError(f"{root}: no PDS4 labels (*.xml) found")
    done, skipped, n_files = [], [], 0
    try:
        for path in labels:
            rel = archive.safe_relative(path.relative_to(root).as_posix())
            data = path.read_bytes()
            meta = read_label(data, rel)
            held = repo.find_product(session, meta.lid, meta.vid)
            if held is not None and held.label_sha256 == hashlib.sha256(data).hexdigest():
                skipped.append(meta.lidvid)
                continue
            p = ingest_label(
                session, blobs, partner_id, mission, payload, data, now, licence, source=rel, archive_path=rel
            )
            for name in meta.file_names:
                file_path = root / archive.beside(rel, name)
                if not file_path.is_file():
                    raise RecordError(rel, 1, "file_name", f"{name}: not found beside the label")
                stored = blobs.put(_chunks(file_path))
                repo.add_file(session, p.id, name, stored.sha256, stored.md5, stored.size, _media(name), now)
                n_files += 1
            done.append(meta.lidvid)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return {"products": done, "skipped": skipped, "files": n_files}


def _chunks(path: Path):
    with path.open("rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")


def _media(name: str) -> str:
    return {"xml": "application/xml", "csv": "text/csv", "txt": "text/plain"}.get(
        name.rpartition(".")[2].lower(), "application/octet-stream"
    )


@dataclasses.dataclass(frozen=True)
class _Planned:
    path: str
    product: Product


def plan_bundle(session: Session, blobs: BlobStore, lid: str, vid: str | None, partner_id: int | None, now: datetime):
    """The products of a bundle and their archive paths: the bundle, its primary collections and their
    primary products. Refused (403) when the caller may not read one of them (an archive is whole or
    not written), 404 when a member is not held."""
    bundle = repo.find_product(session, lid, vid)
    if bundle is None or not policy.can_see_metadata(_access(bundle), partner_id, now):
        raise Refused(404, f"no bundle {lid}{'::' + vid if vid else ''}")
    if metadata(bundle).product_class != "Product_Bundle":
        raise InputError(f"{bundle.lid}::{bundle.vid} is a {metadata(bundle).product_class}, not a Product_Bundle")
    planned = [_Planned(_path(bundle), bundle)]
    missing, closed = [], []
    for c_ref in members(session, blobs, bundle):
        if c_ref.status != "Primary":
            continue
        collection = resolve(session, c_ref)
        if collection is None:
            missing.append(c_ref.reference)
            continue
        planned.append(_Planned(_path(collection), collection))
        for ref in members(session, blobs, collection):
            if ref.status != "Primary":
                continue  # secondary members belong to other bundles: referenced, not copied
            product = resolve(session, ref)
            if product is None:
                missing.append(ref.reference)
            else:
                planned.append(_Planned(_path(product), product))
    grants = repo.granted(session, [x.product.id for x in planned], partner_id)
    for x in planned:
        p = x.product
        if not policy.can_read_data(_access(p), partner_id, now, p.id in grants):
            closed.append(f"{p.lid}::{p.vid}")
    if missing:
        raise Refused(404, f"members not held: {', '.join(missing[:20])}")
    if closed:
        raise Refused(403, f"not readable by the caller (embargo or withdrawn): {', '.join(closed[:20])}")
    return planned


def _access(p: Product) -> policy.Access:
    return repo.product_access(p)


def _path(p: Product) -> str:
    return p.archive_path or archive.default_label_path(p.lid, metadata(p).product_class)


def export_bundle(
    session: Session, blobs: BlobStore, lid: str, vid: str | None, out: Path, partner_id: int | None, now: datetime
) -> dict:
    """Write bundle ``lid`` (``vid`` None: its latest version) as a PDS4 bundle directory ``out`` (new
    or empty): labels (amended as ``label_bytes``), data files beside them, and the checksum manifest
    (MD5) at the root. Every data file is copied from its blob and checked against its sha256.
    Returns ``{"files": n, "bytes": total, "manifest": path}``."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: not empty; archives are written into a new or empty directory")
    planned = plan_bundle(session, blobs, lid, vid, partner_id, now)
    md5s: dict[str, str] = {}
    total = 0
    files = repo.files_of(session, [x.product.id for x in planned])
    for x in planned:
        target = out / archive.safe_relative(x.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = label_bytes(x.product, blobs)
        target.write_bytes(data)
        md5s[x.path] = hashlib.md5(data, usedforsecurity=False).hexdigest()
        total += len(data)
        for f in files[x.product.id]:
            rel = archive.beside(x.path, f.name)
            sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
            with (out / rel).open("wb") as dst:
                for chunk in _chunks(blobs.path(f.sha256)):
                    sha.update(chunk)
                    md5.update(chunk)
                    dst.write(chunk)
            if sha.hexdigest() != f.sha256:
                raise InputError(f"{f.name} of {x.product.lid}::{x.product.vid}: stored file corrupted (fixity)")
            md5s[rel] = md5.hexdigest()
            total += f.size
    (out / archive.MANIFEST).write_bytes(archive.manifest(md5s))
    return {"files": len(md5s), "bytes": total, "manifest": str(out / archive.MANIFEST)}


def export_archive(
    maker,
    blobs: BlobStore,
    lid: str,
    vid: str | None,
    partner_id: int | None,
    now: datetime,
    out: Path,
    check=None,
) -> dict:
    """The API's export job: ``export_bundle`` as ``partner_id`` sees it at ``now`` into a working
    directory beside ``out``, then one tar file ``out`` (members under the bundle's directory name,
    the checksum manifest at its root), written whole or not at all (renamed into place). The
    working directory is removed. ``check()``, if given, is called between the two steps (a job's
    cancel token raises there).
    Returns ``{"files", "bytes", "archive_bytes", "sha256", "lid", "vid"}``."""
    import shutil
    import tarfile

    out = Path(out)
    work = out.with_name(out.name + ".d")
    part = out.with_name(out.name + ".part")
    shutil.rmtree(work, ignore_errors=True)
    try:
        with maker() as session:
            bundle = repo.find_product(session, lid, vid)
            done = export_bundle(session, blobs, lid, vid, work, partner_id, now)
            top = bundle.lid.rsplit(":", 1)[-1] + "_v" + bundle.vid
            exact_vid = bundle.vid
        if check is not None:
            check()
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(work.rglob("*")):
                if path.is_file():
                    info = tar.gettarinfo(path, arcname=f"{top}/{path.relative_to(work).as_posix()}")
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mtime = int(now.timestamp())
                    with path.open("rb") as f:
                        tar.addfile(info, f)
        sha = hashlib.sha256()
        with part.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                sha.update(chunk)
        part.replace(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        part.unlink(missing_ok=True)
    return {
        "files": done["files"],
        "bytes": done["bytes"],
        "archive_bytes": out.stat().st_size,
        "sha256": sha.hexdigest(),
        "lid": lid,
        "vid": exact_vid,
    }


__all__ = [
    "LabelInvalid",
    "Refused",
    "changes",
    "export_archive",
    "export_bundle",
    "import_bundle",
    "ingest_label",
    "label_bytes",
    "members",
    "metadata",
    "plan_bundle",
    "record_change",
]
