"""Content-addressed file store: ``<root>/sha256/ab/<sha256>``. Writes stream into a temporary
file in the store and become visible by one atomic rename, only after the whole stream has been
read and hashed; an interrupted upload leaves at most a ``.part`` file, which ``sweep`` removes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class BlobWriter:
    """Streams into ``<root>/<random>.part`` while hashing; ``commit`` renames it to its sha256."""

    def __init__(self, store: BlobStore, max_bytes: int | None) -> None:
        self.store, self.max_bytes = store, max_bytes
        self.sha, self.md5, self.size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        fd, self.tmp = tempfile.mkstemp(dir=store.root, suffix=".part")
        self.file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise InputError(f"file over {self.max_bytes} bytes")
        self.sha.update(chunk)
        self.md5.update(chunk)
        self.file.write(chunk)

    def commit(self) -> StoredBlob:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            digest = self.sha.hexdigest()
            target = self.store.path(digest)
            target.parent.mkdir(exist_ok=True)
            os.replace(self.tmp, target)  # atomic: the blob is whole or absent
        except BaseException:
            self.abort()
            raise
        return StoredBlob(digest, self.md5.hexdigest(), self.size)

    def abort(self) -> None:
        self.file.close()
        Path(self.tmp).unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def writer(self, max_bytes: int | None = None) -> BlobWriter:
        """A writer for one upload: ``write`` chunks, then ``commit`` (or ``abort``)."""
        return BlobWriter(self, max_bytes)

    def put(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        w = self.writer(max_bytes)
        try:
            for chunk in chunks:
                w.write(chunk)
        except BaseException:
            w.abort()
            raise
        return w.commit()

    async def put_async(self, chunks: AsyncIterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        """As ``put``, from an async stream (an HTTP request body), never holding the file in memory."""
        w = self.writer(max_bytes)
        try:
            async for chunk in chunks:
                w.write(chunk)
        except BaseException:
            w.abort()
            raise
        return w.commit()

    def verify(self, sha256: str) -> bool:
        """Recompute the checksum (fixity): False when the file is missing or differs."""
        p = self.path(sha256)
        if not p.exists():
            return False
        h = hashlib.sha256()
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest() == sha256

    def sweep(self) -> int:
        """Remove leftovers of interrupted uploads."""
        n = 0
        for p in self.root.glob("*.part"):
            p.unlink(missing_ok=True)
            n += 1
        return n
