"""Fixity audit of the lunar exchange's files: every stored file's sha256 recomputed from its blob.

Run by the service daily (``service/app.py``) and on demand (``GET /api/v1/exchange/fixity``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..exchange.blobs import BlobStore
from ..storage import exchange_repo


def audit_files(session: Session, blobs: BlobStore) -> dict:
    """``{"checked": n_files, "corrupted": [{product_id, name, sha256}, ...]}``; each distinct
    blob is read once however many products share it."""
    bad = []
    files = exchange_repo.all_files(session)
    for sha in sorted({f.sha256 for f in files}):
        if not blobs.verify(sha):
            bad.extend({"product_id": f.product_id, "name": f.name, "sha256": sha} for f in files if f.sha256 == sha)
    return {"checked": len(files), "corrupted": bad}


__all__ = ["audit_files"]
