"""Lunar data exchange in the database: missions and payloads, product versions, files, access
requests (grants) and the log of access decisions, and the product search as one query.

The access policy itself lives in ``exchange.policy``; ``visible_products`` is its metadata rule
written as a query (anonymous callers see products publicly released by ``now``), so that search,
counts and facets never load what the caller may not see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..exchange import policy
from ..exchange.pds4 import VERSION_ID
from . import federation_repo  # noqa: F401  (registers the feed-sequence hook on every session)
from .tables import AccessDecision, AccessRequest, Mission, Partner, Payload, Product, ProductFile

# --- missions and payloads ---


def mission(session: Session, name: str) -> Mission | None:
    return session.scalar(select(Mission).where(Mission.name == name))


def create_mission(
    session: Session,
    owner_partner_id: int,
    name: str,
    kind: str,
    proprietary_days: float,
    public_after_days: float,
    label_policy: str = "warn",
) -> Mission:
    m = Mission(
        owner_partner_id=owner_partner_id,
        name=name,
        kind=kind,
        proprietary_days=proprietary_days,
        public_after_days=public_after_days,
        label_policy=label_policy,
    )
    session.add(m)
    session.flush()
    return m


def payload(session: Session, mission_name: str, payload_name: str) -> Payload | None:
    return session.scalar(
        select(Payload).join(Mission).where(Mission.name == mission_name, Payload.name == payload_name)
    )


def mission_of(session: Session, p: Payload) -> Mission:
    return session.get(Mission, p.mission_id)


def payload_exists(session: Session, mission_id: int, name: str) -> bool:
    return session.scalar(select(Payload.id).where(Payload.mission_id == mission_id, Payload.name == name)) is not None


def create_payload(session: Session, mission_id: int, owner_partner_id: int, **fields) -> Payload:
    p = Payload(mission_id=mission_id, owner_partner_id=owner_partner_id, **fields)
    session.add(p)
    session.flush()
    return p


def payloads(session: Session) -> list[tuple[Payload, str]]:
    """Every payload with its mission's name."""
    rows = session.execute(
        select(Payload, Mission.name).join(Mission, Payload.mission_id == Mission.id).order_by(Payload.id)
    )
    return [(p, name) for p, name in rows]


# --- products ---


def partner_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Partner.id).where(Partner.name == name))


def partner_names(session: Session, partner_ids: list[int]) -> dict[int, str]:
    """Names of the partners ``partner_ids`` (one query): the publishers of products."""
    if not partner_ids:
        return {}
    return dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(set(partner_ids)))).all())


def product_exists(session: Session, lid: str, vid: str) -> bool:
    return session.scalar(select(Product.id).where(Product.lid == lid, Product.vid == vid)) is not None


def add_product(session: Session, product: Product) -> Product:
    session.add(product)
    session.flush()
    return product


def _vid_key(vid: str) -> tuple[int, int, int, str]:
    """Sort key of a version id: ``M.n`` numerically (10.0 after 9.0); anything else (a row stored
    before ingest checked the form) sorts below every ``M.n`` and never raises."""
    m = VERSION_ID.fullmatch(vid)
    return (1, int(m.group(1)), int(m.group(2)), "") if m else (0, 0, 0, vid)


@dataclass(frozen=True)
class LidOwner:
    """Who a LID belongs to: the partner and the mission of its first ingested version."""

    partner_id: int
    mission_id: int


def _first_version(lid: str):
    return select(Product.id).where(Product.lid == lid).order_by(Product.id).limit(1).scalar_subquery()


def lid_owner(session: Session, lid: str) -> LidOwner | None:
    """The owner of ``lid`` (None when no version of it exists yet)."""
    row = session.execute(
        select(Product.owner_partner_id, Payload.mission_id)
        .join(Payload, Payload.id == Product.payload_id)
        .where(Product.id == _first_version(lid))
    ).first()
    return None if row is None else LidOwner(row[0], row[1])


def find_product(session: Session, lid: str, vid: str | None) -> Product | None:
    """The version ``vid`` of product ``lid``, or (``vid`` None) its latest version not withdrawn
    (versions ordered numerically: 10.0 after 9.0). Only versions of the LID's owner (the partner of
    its first version) are considered, so a version that another partner slipped in (a race with
    the ingest check, or a row older than it) never answers for the LID."""
    owner = select(Product.owner_partner_id).where(Product.id == _first_version(lid)).scalar_subquery()
    q = select(Product).where(Product.lid == lid, Product.owner_partner_id == owner)
    q = q.where(Product.tombstoned_at.is_(None)) if vid is None else q.where(Product.vid == vid)
    candidates = list(session.scalars(q))
    if vid is None:
        candidates.sort(key=lambda p: _vid_key(p.vid), reverse=True)
    return candidates[0] if candidates else None


def admitted_text(partner_ids: set[int] | None) -> str | None:
    """The ``admitted`` column of a mirrored product: ``,3,7,`` (ids between commas, so that one
    LIKE finds one id), None for every partner."""
    return None if partner_ids is None else "," + "".join(f"{i}," for i in sorted(partner_ids))


def product_access(p: Product) -> policy.Access:
    """The policy's view of a product row (mirrored products carry their origin's admission)."""
    admitted = None
    if p.origin is not None and p.admitted is not None:
        admitted = frozenset(int(x) for x in p.admitted.strip(",").split(",") if x)
    return policy.Access(
        p.owner_partner_id,
        p.partners_release_at,
        p.public_release_at,
        p.tombstoned_at is not None,
        mirrored=p.origin is not None,
        admitted=admitted,
    )


def visible_products(partner_id: int | None, now: datetime) -> Select:
    """Products whose metadata the caller may see (``exchange.policy.can_see_metadata`` as a query)."""
    q = select(Product)
    public = and_(Product.public_release_at.is_not(None), Product.public_release_at <= now)
    if partner_id is None:
        return q.where(public)
    partner_mirror = and_(
        Product.partners_release_at.is_not(None),
        Product.partners_release_at <= now,
        or_(Product.admitted.is_(None), Product.admitted.like(f"%,{int(partner_id)},%")),
    )
    return q.where(or_(Product.origin.is_(None), public, partner_mirror))


@dataclass(frozen=True)
class ProductFilter:
    """Search terms; None leaves a term out. ``bbox`` is (west, south, east, north) in degrees;
    ``after``/``before`` select products whose observation ends after / starts before an instant."""

    target: str | None = None
    instrument: str | None = None
    level: str | None = None  # a PDS4 processing level
    after: datetime | None = None
    before: datetime | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 100


def search(session: Session, partner_id: int | None, now: datetime, f: ProductFilter) -> list[Product]:
    """Visible products matching every given term, by LID and VID."""
    query = visible_products(partner_id, now)
    if f.target:
        query = query.where(func.lower(Product.target) == f.target.lower())
    if f.instrument:
        query = query.where(Product.instrument.ilike(f"%{f.instrument}%"))
    if f.level:
        query = query.where(Product.processing_level == f.level)
    if f.after is not None:
        query = query.where(Product.stop >= f.after)
    if f.before is not None:
        query = query.where(Product.start <= f.before)
    if f.text:
        query = query.where(or_(Product.title.ilike(f"%{f.text}%"), Product.lid.ilike(f"%{f.text}%")))
    if f.bbox is not None:
        w, so, e, n = f.bbox
        query = query.where(Product.west <= e, Product.east >= w, Product.south <= n, Product.north >= so)
    return list(session.scalars(query.order_by(Product.lid, Product.vid).limit(f.limit)))


def facets(session: Session, partner_id: int | None, now: datetime) -> dict:
    """Counts of the visible products: in total, and by target, instrument and processing level."""
    visible = visible_products(partner_id, now).subquery()
    out: dict = {"total": session.scalar(select(func.count()).select_from(visible))}
    for col in ("target", "instrument", "processing_level"):
        c = getattr(visible.c, col)
        out[col] = {k or "": n for k, n in session.execute(select(c, func.count()).group_by(c))}
    return out


# --- files ---


def files_of(session: Session, product_ids: list[int]) -> dict[int, list[ProductFile]]:
    """The files of each of ``product_ids`` (one query), in upload order."""
    out: dict[int, list[ProductFile]] = {pid: [] for pid in product_ids}
    if product_ids:
        q = select(ProductFile).where(ProductFile.product_id.in_(product_ids)).order_by(ProductFile.id)
        for f in session.scalars(q):
            out[f.product_id].append(f)
    return out


def all_files(session: Session) -> list[ProductFile]:
    """Every stored file row (the fixity audit reads them all)."""
    return list(session.scalars(select(ProductFile).order_by(ProductFile.id)))


def file(session: Session, product_id: int, name: str) -> ProductFile | None:
    return session.scalar(select(ProductFile).where(ProductFile.product_id == product_id, ProductFile.name == name))


def add_file(
    session: Session,
    product_id: int,
    name: str,
    sha256: str,
    md5: str,
    size: int,
    media_type: str,
    created_at: datetime,
) -> ProductFile:
    f = ProductFile(
        product_id=product_id,
        name=name,
        sha256=sha256,
        md5=md5,
        size=size,
        media_type=media_type,
        created_at=created_at,
    )
    session.add(f)
    session.flush()
    return f


# --- access requests (grants) and decisions ---


def granted(session: Session, product_ids: list[int], partner_id: int | None) -> set[int]:
    """The products among ``product_ids`` whose data the partner's approved access requests open."""
    if partner_id is None or not product_ids:
        return set()
    return set(
        session.scalars(
            select(AccessRequest.product_id).where(
                AccessRequest.product_id.in_(product_ids),
                AccessRequest.partner_id == partner_id,
                AccessRequest.status == "approved",
            )
        )
    )


def add_access_request(
    session: Session, product_id: int, partner_id: int | None, purpose: str, commitment: str, created_at: datetime
) -> AccessRequest:
    r = AccessRequest(
        product_id=product_id,
        partner_id=partner_id,
        purpose=purpose,
        commitment=commitment,
        status="pending",
        created_at=created_at,
    )
    session.add(r)
    session.flush()
    return r


def owner_access_requests(
    session: Session, owner_partner_id: int, status: str | None, limit: int
) -> list[tuple[AccessRequest, Product, str]]:
    """(request, product, requesting partner's name) of the requests on ``owner_partner_id``'s
    products, oldest first; ``status`` None: every status."""
    q = (
        select(AccessRequest, Product, Partner.name)
        .join(Product, Product.id == AccessRequest.product_id)
        .join(Partner, Partner.id == AccessRequest.partner_id)
        .where(Product.owner_partner_id == owner_partner_id)
    )
    if status is not None:
        q = q.where(AccessRequest.status == status)
    return [tuple(row) for row in session.execute(q.order_by(AccessRequest.id).limit(limit)).all()]


def decide_access_request(
    session: Session, request_id: int, owner_partner_id: int | None, approve: bool, at: datetime
) -> AccessRequest | None:
    """Approve or reject a request on one of the owner's products, logging the decision; None when
    there is no such request for that owner's products (the two are not told apart)."""
    r = session.get(AccessRequest, request_id)
    p = None if r is None else session.get(Product, r.product_id)
    if r is None or p is None or p.owner_partner_id != owner_partner_id:
        return None
    r.status, r.decided_at = ("approved" if approve else "rejected"), at
    log_decision(session, at, p.id, r.partner_id, "access-request", approve)
    return r


def log_decision(
    session: Session, at: datetime, product_id: int, partner_id: int | None, action: str, allowed: bool
) -> None:
    session.add(
        AccessDecision(at=at, product_id=product_id, partner_id=partner_id, action=action, allowed=int(allowed))
    )
