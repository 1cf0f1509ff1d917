"""Federation in the database: peers, the feed sequence of this node's products, the feed query
and the mirror's upsert of a verified product.

Every change to a product ingested here (a new version, a file, a release date, a DOI, a
withdrawal) gives it the next feed sequence number, in the same flush (a ``before_flush`` hook, so
no writer has to remember it). Mirrored products are never fed on: a LIDVID belongs to its origin.

The numbers come from one counter row (``feed_counter``) that the writer updates: the update holds
the row's lock (PostgreSQL) or the database's write lock (SQLite) until the writer's transaction
ends, so a concurrent writer waits for it. Numbers are therefore unique, and they become visible in
the order they were given: a reader paging with ``after=N`` never passes a number that a slower
writer commits later (which ``max(feed_seq) + 1`` allowed: two writers got the same number, and a
reader could move its cursor past one still uncommitted)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, event, func, insert, or_, select, update
from sqlalchemy.orm import Session

from .tables import FeedCounter, Mission, Partner, Payload, Peer, Product, ProductFile


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
    first = next_feed_seqs(session, len(touched))
    for i, p in enumerate(touched.values()):
        p.feed_seq = first + i


def next_feed_seqs(session: Session, n: int) -> int:
    """The first of ``n`` new consecutive feed sequence numbers, taken under the counter row's
    lock, which the session's transaction holds until it ends (see the module's docstring)."""
    conn = session.connection()
    t = FeedCounter.__table__
    if conn.execute(update(t).where(t.c.id == 1).values(last_seq=t.c.last_seq + n)).rowcount:
        return conn.execute(select(t.c.last_seq).where(t.c.id == 1)).scalar_one() - n + 1
    # no counter row: a schema made without the migrations (which seed it). A concurrent first
    # writer fails on the primary key here rather than sharing a number.
    top = conn.execute(select(func.coalesce(func.max(Product.feed_seq), 0))).scalar_one()
    conn.execute(insert(t).values(id=1, last_seq=top + n))
    return top + 1


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


def mirrored_many(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Product]:
    """The products here with these (LID, VID) pairs (one query per 500 LIDs)."""
    wanted, out = set(keys), {}
    lids = sorted({lid for lid, _ in keys})
    for i in range(0, len(lids), 500):
        for p in session.scalars(select(Product).where(Product.lid.in_(lids[i : i + 500]))):
            if (p.lid, p.vid) in wanted:
                out[(p.lid, p.vid)] = p
    return out


def lid_owners(session: Session, lids: list[str]) -> dict[str, int]:
    """The owning partner of each LID that exists here (the partner of its first version)."""
    out: dict[str, int] = {}
    lids = sorted(set(lids))
    for i in range(0, len(lids), 500):
        first = (
            select(func.min(Product.id))
            .where(Product.lid.in_(lids[i : i + 500]))
            .group_by(Product.lid)
            .scalar_subquery()
        )
        out.update(session.execute(select(Product.lid, Product.owner_partner_id).where(Product.id.in_(first))).all())
    return out


def fed_products(session: Session, ranges: list[tuple[int, int]], limit: int) -> list[Product]:
    """This node's own products whose feed sequence number lies in one of ``ranges`` (inclusive),
    by sequence, at most ``limit``."""
    if not ranges:
        return []
    within = or_(*(Product.feed_seq.between(lo, hi) for lo, hi in ranges))
    q = select(Product).where(Product.origin.is_(None), within).order_by(Product.feed_seq, Product.id).limit(limit)
    return list(session.scalars(q))
