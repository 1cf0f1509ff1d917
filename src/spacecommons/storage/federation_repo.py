"""Federation in the database: peers, the feed sequence of this node's products, the feed query
and the mirror's upsert of a verified product.

Every change to a product ingested here (a new version, a file, a release date, a DOI, a
withdrawal) gives it the next feed sequence number, in the same flush (a ``before_flush`` hook, so
no writer has to remember it). Mirrored products are never fed on: a LIDVID belongs to its origin."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, event, func, or_, select
from sqlalchemy.orm import Session

from .tables import Mission, Partner, Payload, Peer, Product, ProductFile


@event.listens_for(Session, "before_flush")
def _sequence_changes(session: Session, flush_context, instances) -> None:
    touched: dict[int, Product] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Product) and obj.origin is None and (obj in session.new or session.is_modified(obj)):
            touched[id(obj)] = obj
        elif isinstance(obj, ProductFile) and obj in session.new:
            with session.no_autoflush:
                p = session.get(Product, obj.product_id)
            if p is not None and p.origin is None:
                touched[id(p)] = p
    if not touched:
        return
    with session.no_autoflush:
        top = session.scalar(select(func.max(Product.feed_seq))) or 0
    for p in touched.values():
        top += 1
        p.feed_seq = top


# --- peers ---


def peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.id)))


def peer_by_key(session: Session, public_key: str) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.public_key == public_key))


def peer_by_url(session: Session, url: str) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.url == url))


def add_peer(session: Session, url: str, public_key: str, as_partner: str | None, now: datetime) -> Peer:
    """Register a peer: ``as_partner`` is the local partner the peer's requests act as (created if
    missing; None: the peer sees only what anonymous callers see). A partner row ``node:URL`` owns
    the products mirrored from it (it holds no keys: nobody acts as it)."""
    if peer_by_url(session, url) is not None or peer_by_key(session, public_key) is not None:
        raise ValueError(f"a peer with this URL or key exists: {url}")
    partner_id = None
    if as_partner:
        partner = session.scalar(select(Partner).where(Partner.name == as_partner))
        if partner is None:
            partner = Partner(name=as_partner, created_at=now)
            session.add(partner)
            session.flush()
        partner_id = partner.id
    owner = Partner(name=f"node:{url}"[:128], created_at=now)
    session.add(owner)
    session.flush()
    peer = Peer(
        url=url, public_key=public_key, partner_id=partner_id, mirror_partner_id=owner.id, cursor_seq=0, created_at=now
    )
    session.add(peer)
    session.flush()
    return peer


# --- the origin's feed ---


def node_partner_ids(session: Session) -> set[int]:
    """Partners standing for peer nodes (owners of mirrored products): never admitted by name."""
    return set(session.scalars(select(Peer.mirror_partner_id)))


def station_partner_names(session: Session) -> list[str]:
    """The names of this node's station partners (not the rows standing for peer nodes)."""
    nodes = node_partner_ids(session)
    return sorted(n for i, n in session.execute(select(Partner.id, Partner.name)) if i not in nodes)


def feed(
    session: Session, partner_id: int | None, after: int, since: datetime | None, now: datetime, limit: int
) -> list[Product]:
    """This node's own products changed after sequence ``after`` and whose data the caller may read
    now, plus those it already passed whose release came in ``(since, now]`` (a release date passing
    is no write, so it has no sequence number of its own); by sequence, a page never ending inside a
    run of equal sequence numbers. The caller's grants are not considered: a mirror mirrors what is
    released to it."""
    readable = and_(Product.public_release_at.is_not(None), Product.public_release_at <= now)
    if partner_id is not None:
        readable = or_(
            readable,
            Product.owner_partner_id == partner_id,
            and_(Product.partners_release_at.is_not(None), Product.partners_release_at <= now),
        )
    changed = Product.feed_seq > after
    if since is not None:
        window = [and_(Product.public_release_at > since, Product.public_release_at <= now)]
        if partner_id is not None:
            window.append(and_(Product.partners_release_at > since, Product.partners_release_at <= now))
        changed = or_(changed, and_(Product.feed_seq <= after, or_(*window)))
    q = (
        select(Product)
        .where(Product.origin.is_(None), Product.feed_seq.is_not(None), changed, readable)
        .order_by(Product.feed_seq, Product.id)
    )
    rows = list(session.scalars(q.limit(limit + 1)))
    if len(rows) > limit:  # end the page on a whole run of equal sequence numbers
        last = rows[limit - 1].feed_seq
        rows = rows[:limit]
        seen = {p.id for p in rows}
        rows += [p for p in session.scalars(q.where(Product.feed_seq == last)) if p.id not in seen]
    return rows


def mission_and_payload(session: Session, product: Product) -> tuple[str, str]:
    row = session.execute(
        select(Mission.name, Payload.name)
        .join(Payload, Payload.mission_id == Mission.id)
        .where(Payload.id == product.payload_id)
    ).first()
    return (row[0], row[1]) if row else ("", "")


# --- the mirror ---


def mirror_payload(session: Session, peer: Peer, mission_name: str, payload_name: str, instrument: str) -> Payload:
    """The local mission and payload standing for the origin's (``MISSION@URL``), created once."""
    name = f"{mission_name}@{peer.url}"[:128]
    m = session.scalar(select(Mission).where(Mission.name == name))
    if m is None:
        m = Mission(
            owner_partner_id=peer.mirror_partner_id, name=name, kind="mirror", proprietary_days=0, public_after_days=0
        )
        session.add(m)
        session.flush()
    p = session.scalar(select(Payload).where(Payload.mission_id == m.id, Payload.name == payload_name))
    if p is None:
        p = Payload(mission_id=m.id, name=payload_name, instrument=instrument, owner_partner_id=peer.mirror_partner_id)
        session.add(p)
        session.flush()
    return p


def partner_ids_named(session: Session, names: list[str]) -> set[int]:
    nodes = node_partner_ids(session)
    return {i for i in session.scalars(select(Partner.id).where(Partner.name.in_(names))) if i not in nodes}


def mirrored(session: Session, lid: str, vid: str) -> Product | None:
    return session.scalar(select(Product).where(Product.lid == lid, Product.vid == vid))
