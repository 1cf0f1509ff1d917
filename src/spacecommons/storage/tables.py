"""Tables (SQLAlchemy 2 declarative); migrations in ``migrations/versions`` mirror them. Every
timestamp is a ``UTCDateTime`` (an aware UTC instant); an element set's ``epoch`` stays the text of
its source, its instant being ``epoch_jd + epoch_fr``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import UTCDateTime


class Base(DeclarativeBase):
    pass


class SpaceObject(Base):
    __tablename__ = "space_objects"

    norad_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(128), default="")
    object_id: Mapped[str] = mapped_column(String(32), default="")
    hbr_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    hbr_source: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mass_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    # the partner whose element sets may be this object's latest state (catalog.trust); None: only
    # the authoritative source's. Assigned by an admin, never by submitting.
    owner_partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ElementSetRow(Base):
    __tablename__ = "element_sets"
    __table_args__ = (
        UniqueConstraint("norad_id", "digest", name="uq_element_sets_object_digest"),
        Index("ix_element_sets_object_epoch", "norad_id", "epoch_jd", "epoch_fr"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    norad_id: Mapped[int] = mapped_column(ForeignKey("space_objects.norad_id"))
    epoch: Mapped[str] = mapped_column(String(32))
    epoch_jd: Mapped[float] = mapped_column(Float)
    epoch_fr: Mapped[float] = mapped_column(Float)
    digest: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)
    line1: Mapped[str | None] = mapped_column(String(69), nullable=True)
    line2: Mapped[str | None] = mapped_column(String(69), nullable=True)
    fields_json: Mapped[str] = mapped_column(Text)
    original: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trust: Mapped[str] = mapped_column(String(16), default="authoritative", server_default="authoritative")
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # who submitted (trust "partner")


class ScreeningRun(Base):
    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    params_json: Mapped[str] = mapped_column(Text)
    catalog_digest: Mapped[str] = mapped_column(String(64))
    # '' since migration 0019: the run's input catalog is its ScreeningRunCatalog row (and update rows),
    # kept out of this row, which every update rewrites; the column stays (dropping one on SQLite means
    # rebuilding the table with its foreign keys)
    catalog_json: Mapped[str] = mapped_column(Text, default="")
    n_objects: Mapped[int] = mapped_column(Integer)
    n_chunks: Mapped[int] = mapped_column(Integer)
    n_events: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stats_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner_partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: started from the CLI
    visibility: Mapped[str] = mapped_column(String(16), default="public")  # public | partners | private


class ScreeningChunk(Base):
    __tablename__ = "screening_chunks"

    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    result_json: Mapped[str] = mapped_column(Text)


class ScreeningMismatch(Base):
    """Per run and chunk, each object's SGP4 velocity mismatch (km/s) as the full run computed it:
    float64 bytes in the order of the run's catalog whose ``catalog_digest`` it was computed for (NaN:
    not computed). An incremental update reuses it instead of sampling SGP4 again (issue #18 target 2)."""

    __tablename__ = "screening_mismatch"

    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    catalog_digest: Mapped[str] = mapped_column(String(64))
    mismatch: Mapped[bytes] = mapped_column(LargeBinary)


class ScreeningRunCatalog(Base):
    """A run's input catalog as it was created, one row per run: ``names_json`` its catalog numbers and
    names (``{"norad_ids": [...], "names": [...]}``, read alone where only they are needed: a name
    listing, an update's comparison of names), ``texts_json`` its element sets in the same order
    (a 2-line list for a TLE, a string for OMM fields or OEM text). Kept out of ``screening_runs``
    because SQLite writes a row's whole record again when any of its columns changes size, and every
    update of a run changes its counts and statistics (4 MB of JSON written again for a
    whole-catalog run). Read through ``screening_repo.run_catalog``."""

    __tablename__ = "screening_run_catalogs"

    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True)
    names_json: Mapped[str] = mapped_column(Text)
    texts_json: Mapped[str] = mapped_column(Text)


class ScreeningCatalogUpdate(Base):
    """An object whose element set or name an incremental update of a run changed, or that it added:
    the run's catalog is its ``ScreeningRunCatalog`` with these rows replacing or joining entries
    (``screening_repo.run_catalog``), so that an update writes the few objects it changed, not the
    whole catalog again. ``name`` and ``text`` are JSON, as the run's catalog holds an entry: the name
    a string, the element set a 2-line list (TLE) or a string (OMM fields, OEM text)."""

    __tablename__ = "screening_catalog_updates"

    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"), primary_key=True)
    norad_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)


class ConjunctionEvent(Base):
    __tablename__ = "conjunction_events"
    __table_args__ = (
        Index("ix_conjunction_events_run_miss", "run_id", "miss_km"),
        Index("ix_conjunction_events_run_tca", "run_id", "tca"),
        # an update's delete of its changed objects' events and its read of their co-located groups (0020)
        Index("ix_conjunction_events_run_id1", "run_id", "id1"),
        Index("ix_conjunction_events_run_id2", "run_id", "id2"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id", ondelete="CASCADE"))
    id1: Mapped[int] = mapped_column(Integer)
    name1: Mapped[str] = mapped_column(String(128))
    id2: Mapped[int] = mapped_column(Integer)
    name2: Mapped[str] = mapped_column(String(128))
    tca: Mapped[datetime] = mapped_column(UTCDateTime)
    miss_km: Mapped[float] = mapped_column(Float)
    speed_km_s: Mapped[float] = mapped_column(Float)
    r_km: Mapped[float] = mapped_column(Float)
    t_km: Mapped[float] = mapped_column(Float)
    n_km: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16))
    span_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    span_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    n_minima: Mapped[int] = mapped_column(Integer, default=1)
    pc: Mapped[float | None] = mapped_column(Float, nullable=True)
    pc_method: Mapped[str | None] = mapped_column(String(64), nullable=True)


# Sort by Pc (highest first, no Pc last, ties by id) reads this index in order: the expression is
# the one ``screening_repo.pc_sort_key`` orders by, with the constant written into the SQL (a bound
# parameter would not match the indexed expression on SQLite). Migration 0017.
PC_SORT_KEY = func.coalesce(ConjunctionEvent.pc, literal_column("-1.0"))
Index("ix_conjunction_events_run_pc", ConjunctionEvent.run_id, PC_SORT_KEY.desc(), ConjunctionEvent.id)


class SmallBodyOrbitRow(Base):
    """One orbit solution of a small body as loaded (history kept; same solution = same digest)."""

    __tablename__ = "small_body_orbits"
    __table_args__ = (
        UniqueConstraint("designation", "digest", name="uq_small_body_orbits_des_digest"),
        Index("ix_small_body_orbits_des", "designation"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    designation: Mapped[str] = mapped_column(String(64))
    orbit_id: Mapped[str] = mapped_column(String(64))
    epoch_jd_tdb: Mapped[float] = mapped_column(Float)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)
    orbit_json: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ObservationRow(Base):
    """One astrometric observation (optical, radar delay or Doppler) as loaded, with its provenance:
    the file (name, line, SHA-256 of the whole file) and who submitted it. The same record from the
    same submitter is stored once (``digest``); ``visibility`` is decided by ``policy.can_see_observation``."""

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("submitter", "digest", name="uq_observations_submitter_digest"),
        Index("ix_observations_des_epoch", "designation", "epoch_utc_jd"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    designation: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # optical | delay | doppler
    epoch_utc_jd: Mapped[float] = mapped_column(Float)
    station: Mapped[str] = mapped_column(String(16))  # optical: the observatory; radar: the receiver
    digest: Mapped[str] = mapped_column(String(64))
    record_json: Mapped[str] = mapped_column(Text)
    source_file: Mapped[str] = mapped_column(Text)
    source_line: Mapped[int] = mapped_column(Integer)
    file_digest: Mapped[str] = mapped_column(String(64))
    submitter: Mapped[str] = mapped_column(String(256))  # "cli:<user>" or "partner:<name>/<member>"
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Partner(Base):
    """An agency, operator, observatory or institute sharing data on the platform."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """A person or system of a partner, with one role."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("partner_id", "name", name="uq_members_partner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    """An API key: only its public prefix and an argon2 hash of the whole key are stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    """Every write through the API: who, what, when, and the outcome."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    member_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class WatchEntry(Base):
    """An operator's satellite with its alert thresholds."""

    __tablename__ = "watch_entries"
    __table_args__ = (UniqueConstraint("partner_id", "norad_id", name="uq_watch_partner_object"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    norad_id: Mapped[int] = mapped_column(Integer)
    max_miss_km: Mapped[float] = mapped_column(Float)
    min_pc: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Webhook(Base):
    """Where a partner's alerts are POSTed. The signing secret must be readable to sign (HMAC), so it
    is stored as given and never returned by the API."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("partner_id", "event_id", name="uq_alert_partner_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Integer)
    norad_id: Mapped[int] = mapped_column(Integer)
    other_id: Mapped[int] = mapped_column(Integer)
    tca: Mapped[datetime] = mapped_column(UTCDateTime)
    miss_km: Mapped[float] = mapped_column(Float)
    pc: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed | no-webhook
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Float, default=0.0)  # unix seconds


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Mission(Base):
    """A station module, lander, rover or orbiter of the lunar station, owned by a partner."""

    __tablename__ = "missions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    owner_partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    proprietary_days: Mapped[float] = mapped_column(Float)
    public_after_days: Mapped[float] = mapped_column(Float)
    # "strict": a label failing PDS4 validation is refused; "warn": accepted, its findings kept
    label_policy: Mapped[str] = mapped_column(String(16), default="warn", server_default="warn")


class Payload(Base):
    __tablename__ = "payloads"
    __table_args__ = (UniqueConstraint("mission_id", "name", name="uq_payload_mission_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"))
    name: Mapped[str] = mapped_column(String(128))
    instrument: Mapped[str] = mapped_column(String(128))
    owner_partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    mass_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    power_w: Mapped[float | None] = mapped_column(Float, nullable=True)
    data_rate_kbps: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default="operating")
    proprietary_days: Mapped[float | None] = mapped_column(Float, nullable=True)  # overrides the mission's


class Product(Base):
    """One version of a data product (PDS4 LID + VID); the concept id (the LID) resolves to the latest."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("lid", "vid", name="uq_products_lidvid"), Index("ix_products_lid", "lid"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lid: Mapped[str] = mapped_column(String(255))
    vid: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    payload_id: Mapped[int] = mapped_column(ForeignKey("payloads.id"))
    owner_partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    instrument: Mapped[str | None] = mapped_column(String(128), nullable=True)
    processing_level: Mapped[str | None] = mapped_column(String(32), nullable=True)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    stop: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    west: Mapped[float | None] = mapped_column(Float, nullable=True)  # bounding coordinates, degrees
    east: Mapped[float | None] = mapped_column(Float, nullable=True)
    north: Mapped[float | None] = mapped_column(Float, nullable=True)
    south: Mapped[float | None] = mapped_column(Float, nullable=True)
    licence: Mapped[str] = mapped_column(String(64))
    citation: Mapped[str | None] = mapped_column(Text, nullable=True)
    metadata_json: Mapped[str] = mapped_column(Text)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    partners_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    public_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tombstoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    label_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the submitted label, verbatim
    label_changes: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: Modification_Detail entries
    label_findings: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: validator warnings accepted
    doi: Mapped[str | None] = mapped_column(String(255), nullable=True)
    archive_path: Mapped[str | None] = mapped_column(String(512), nullable=True)  # label path in its bundle
    # federation: the node a mirrored product comes from (None: ingested here), the partner names
    # its origin admits before public release (JSON list; None: every partner), and the sequence
    # number of its latest change in this node's feed (only products ingested here are fed)
    origin: Mapped[str | None] = mapped_column(String(512), nullable=True)
    admitted: Mapped[str | None] = mapped_column(Text, nullable=True)
    feed_seq: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class ProductFile(Base):
    __tablename__ = "product_files"
    __table_args__ = (UniqueConstraint("product_id", "name", name="uq_product_files_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    purpose: Mapped[str] = mapped_column(Text)
    commitment: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccessDecision(Base):
    """Every access decision on a product (who, what, when, allowed or not)."""

    __tablename__ = "access_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    product_id: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    allowed: Mapped[int] = mapped_column(Integer)


class EphemerisText(Base):
    """The original text of an uploaded ephemeris (OEM), stored once per content (sha256)."""

    __tablename__ = "ephemeris_texts"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(8))  # kvn | xml
    text: Mapped[str] = mapped_column(Text)


class EphemerisRow(Base):
    """One object of an uploaded OEM: who owns it, who sees it, and the span it covers."""

    __tablename__ = "ephemerides"
    __table_args__ = (Index("ix_ephemerides_object_stop", "norad_id", "stop_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(ForeignKey("ephemeris_texts.digest"))
    norad_id: Mapped[int] = mapped_column(Integer)
    object_name: Mapped[str] = mapped_column(String(128), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    owner_partner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: a node-local upload
    visibility: Mapped[str] = mapped_column(String(16), default="private")  # private | partners | public
    time_system: Mapped[str] = mapped_column(String(16))
    ref_frame: Mapped[str] = mapped_column(String(32))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime)  # first epoch (calendar, in time_system)
    stop_time: Mapped[datetime] = mapped_column(UTCDateTime)
    n_states: Mapped[int] = mapped_column(Integer)
    n_covariances: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FeedCounter(Base):
    """The last sequence number of this node's feed (one row, ``id`` 1). Writers take their numbers
    by updating this row, so a second writer waits for the first one's commit: numbers are unique
    and become visible in order (see ``federation_repo.next_feed_seqs``)."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)


class Peer(Base):
    """Another node of the federation, known by its Ed25519 public key (exchanged out of band).

    As an origin, this node answers the peer's signed requests as ``partner_id`` (its policy decides
    what the peer sees); as a mirror, it pulls the peer's feed from ``url``, stores the products as
    owned by ``mirror_partner_id`` (a partner row standing for the peer, holding no keys) and keeps
    its cursor (``cursor_seq``, ``cursor_at``: the last committed page) here."""

    __tablename__ = "peers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(512), unique=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"), nullable=True)
    mirror_partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    cursor_seq: Mapped[int] = mapped_column(Integer, default=0)
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
