"""Content-addressed file store: ``<root>/sha256/ab/<sha256>``. Writes stream into a temporary
file in the store and become visible by one atomic rename, only after the whole stream has been
read and hashed; an interrupted upload leaves at most a ``.part`` file, which ``sweep`` removes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def put(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValueError(f"file over {max_bytes} bytes")
                    sha.update(chunk)
                    md5.update(chunk)
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            digest = sha.hexdigest()
            target = self.path(digest)
            target.parent.mkdir(exist_ok=True)
            os.replace(tmp, target)  # atomic: the blob is whole or absent
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return StoredBlob(digest, md5.hexdigest(), size)

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
