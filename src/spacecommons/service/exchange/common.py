"""What the exchange's routes share: request and response models, the policy's view of a product,
the product lookup that hides what the caller may not see, and the decision log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...exchange import policy
from ...exchange.archive import citation_text
from ...storage import exchange_repo as repo
from ...storage.partners_repo import Identity
from ...storage.tables import Product
from ..budget import client_address
from ..timefields import InstantS, TimeIn

PARTNERS = ("observer", "operator", "analyst")
MAX_FILE_BYTES = 8 * 1024**3


class ProductOut(BaseModel):
    lid: str
    vid: str
    lidvid: str
    title: str
    target: str | None
    instrument: str | None
    processing_level: str | None
    start: str | None = Field(description="observation start as written in the PDS4 label")
    stop: str | None = Field(description="observation stop as written in the PDS4 label")
    bounds: list[float] | None = Field(None, description="west, east, north, south (degrees)")
    product_class: str = Field("Product_Observational", description="PDS4 product class (Product_Bundle, ...)")
    licence: str = Field(description="SPDX licence identifier of the product's data")
    citation: str | None = Field(description="the label's reference text (External_Reference), as submitted")
    doi: str | None = Field(None, description="the DOI in the label, or registered by the owner partner")
    cite_as: str = Field(description="how to cite the product: Creator (Year). Title. Publisher. DOI or LIDVID")
    label_findings: list[dict] = Field(
        default_factory=list, description="PDS4 validation findings at ingest (severity, rule, line, message)"
    )
    partners_release_at: InstantS | None
    public_release_at: InstantS | None
    withdrawn: bool
    origin: str | None = Field(None, description="the node this product is mirrored from (None: ingested here)")
    files: list[dict] = Field(default_factory=list)


class ReleaseIn(BaseModel):
    partners_release_at: TimeIn | None = Field(
        None, examples=["2027-01-01T00:00:00Z"], description="UTC with its offset; fractions of a second are dropped"
    )
    public_release_at: TimeIn | None = Field(None, examples=["2027-07-01T00:00:00Z"])


@contextmanager
def conflict_as_409(session: Session, detail: str) -> Iterator[None]:
    """Writes whose uniqueness a concurrent request may win between our check and our insert: the
    database's unique constraint decides, and losing is 409 (the transaction rolled back), not 500."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise HTTPException(409, detail) from None


def access(p: Product) -> policy.Access:
    return repo.product_access(p)


def log(
    request: Request, session: Session, now: datetime, p: Product, who: Identity, action: str, allowed: bool
) -> None:
    """One row of the access-decision log; an anonymous caller's rows within the app's budget only
    (``budget.AnonymousDecisions``: per client address and overall), the rest counted there."""
    if who.is_anonymous and not request.app.state.decision_budget.admit(client_address(request)):
        return
    repo.log_decision(session, now, p.id, who.partner_id, action, allowed)
    session.commit()


def visible_product(
    request: Request, session: Session, now: datetime, lid: str, vid: str | None, who: Identity, action: str
) -> Product:
    """The product version (``vid`` None: the latest not withdrawn), if the caller may see its metadata;
    404 otherwise, as for a product that does not exist (the refusal is logged)."""
    p = repo.find_product(session, lid, vid)
    if p is None or not policy.can_see_metadata(access(p), who.partner_id, now):
        if p is not None:
            log(request, session, now, p, who, action, False)
        raise HTTPException(404, f"no product {lid}{'::' + vid if vid else ''}")
    return p


def owned_product(
    request: Request, session: Session, now: datetime, lid: str, vid: str | None, who: Identity, action: str, doing: str
) -> Product:
    """The product version, for a change only its owner partner makes: 404 as ``visible_product``
    when the caller may not see it, 403 ("only the owner partner {doing}") when it may see but does
    not own it."""
    p = visible_product(request, session, now, lid, vid, who, action)
    if p.owner_partner_id != who.partner_id:
        raise HTTPException(403, f"only the owner partner {doing}")
    return p


def product_outs(session: Session, products: list[Product], who: Identity, now: datetime) -> list[ProductOut]:
    """Products as the caller sees them: files listed only where the policy opens the data (two
    queries for the whole list: the caller's grants and the readable products' files)."""
    grants = repo.granted(session, [p.id for p in products], who.partner_id)
    readable = [p.id for p in products if policy.can_read_data(access(p), who.partner_id, now, p.id in grants)]
    files = repo.files_of(session, readable)
    names = repo.partner_names(session, [p.owner_partner_id for p in products])
    return [_out(p, files.get(p.id, []), names.get(p.owner_partner_id, "")) for p in products]


def _out(p: Product, files: list, publisher: str) -> ProductOut:
    label = json.loads(p.metadata_json)
    year = label.get("publication_year") or (str(p.public_release_at.year) if p.public_release_at else None)
    return ProductOut(
        lid=p.lid,
        vid=p.vid,
        lidvid=f"{p.lid}::{p.vid}",
        title=p.title,
        target=p.target,
        instrument=p.instrument,
        processing_level=p.processing_level,
        start=label.get("start"),
        stop=label.get("stop"),
        bounds=None if p.west is None else [p.west, p.east, p.north, p.south],
        product_class=label.get("product_class", "Product_Observational"),
        licence=p.licence,
        citation=p.citation,
        doi=p.doi,
        cite_as=citation_text(label.get("authors"), year, p.title, publisher, f"{p.lid}::{p.vid}", p.doi),
        label_findings=json.loads(p.label_findings or "[]"),
        partners_release_at=p.partners_release_at,
        public_release_at=p.public_release_at,
        withdrawn=p.tombstoned_at is not None,
        origin=p.origin,
        files=[
            {"name": f.name, "size": f.size, "sha256": f.sha256, "md5": f.md5, "media_type": f.media_type}
            for f in files
        ],
    )
