"""Content-addressed file store: ``<root>/sha256/ab/<sha256>``. Writes stream into a temporary
file in the store and become visible by one atomic rename, only after the whole stream has been
read and hashed (file and directory fsynced, so the rename survives a power cut); an interrupted
upload leaves at most a ``.part`` file, which ``sweep`` removes."""

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
    """Streams into ``<root>/<random>.part`` while hashing. ``finish`` makes the file durable and
    knows its digest without making it visible; ``commit`` renames it to its sha256 and makes the
    rename durable; ``abort`` removes what is not committed. A caller that must record the blob
    elsewhere first (a database row whose unique constraint may refuse it) calls ``finish``, then
    records, then ``commit``: a refused upload never leaves a blob behind."""

    def __init__(self, store: BlobStore, max_bytes: int | None) -> None:
        self.store, self.max_bytes = store, max_bytes
        self.sha, self.md5, self.size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        fd, self.tmp = tempfile.mkstemp(dir=store.root, suffix=".part")
        self.file = os.fdopen(fd, "wb")
        self.blob: StoredBlob | None = None
        self.committed = False

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise InputError(f"file over {self.max_bytes} bytes")
        self.sha.update(chunk)
        self.md5.update(chunk)
        self.file.write(chunk)

    def finish(self) -> StoredBlob:
        """Flush and fsync the temporary file; its digest, size and MD5 (not visible yet)."""
        if self.blob is None:
            try:
                self.file.flush()
                os.fsync(self.file.fileno())
                self.file.close()
            except BaseException:
                self.abort()
                raise
            self.blob = StoredBlob(self.sha.hexdigest(), self.md5.hexdigest(), self.size)
        return self.blob

    def commit(self) -> StoredBlob:
        blob = self.finish()
        try:
            target = self.store.path(blob.sha256)
            new_dir = not target.parent.exists()
            target.parent.mkdir(exist_ok=True)
            if new_dir:
                _fsync_dir(target.parent.parent)  # the new fan-out directory's entry
            os.replace(self.tmp, target)  # atomic: the blob is whole or absent
            _fsync_dir(target.parent)  # the rename itself survives a power cut
        except BaseException:
            self.abort()
            raise
        self.committed = True
        return blob

    def abort(self) -> None:
        """Remove the temporary file unless committed (safe to call more than once)."""
        if not self.committed:
            self.file.close()
            Path(self.tmp).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    """fsync a directory, so that an entry created or renamed in it is on disk (POSIX: fsync of
    the file alone does not make its directory entry durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
