"""Federation benchmark (issue #17): node B mirrors node A's products over loopback, and a plain
file copy of A's data directory (``shutil.copytree``) is the same-run baseline.

Node A is a ``spacecommons serve`` process on its own SQLite database; its products (publicly
released, each with a label and ``--files`` small data files) are inserted in bulk first (blobs
written directly, rows a thousand per statement). Node B runs the mirror's sync in this process
(signed feed pages of ``--page-size`` products; the labels and files of a page fetched in one
streamed, signed ``/federation/data`` request, each blob hashed while staged and checked against the
signed manifest; one transaction and one filesystem sync per page). Reported: time to consistency
(sync start until B holds every product of A, whole), throughput in products, files and MB per
second, and the baseline copy of A's data directory (``shutil.copytree``, no verification, no
database) in the same run.

Usage: python benchmarks/federation_mirror.py [--products 10000] [--files 3] [--file-bytes 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LABEL = Path(__file__).resolve().parents[1] / "tests" / "data" / "lunar" / "M102600893LC_VALID.xml"
LID = "urn:nasa:pds:lro-l-lroc-3-cdr:examples:nac.m102600893lc"


def _put(blobs, data: bytes) -> tuple[str, str, int]:
    """Write one blob straight into A's store (benchmark setup: no fsync, no staging)."""
    sha = hashlib.sha256(data).hexdigest()
    path = blobs.path(sha)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return sha, hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data)


def populate(db: Path, data: Path, b_key: str, n: int, files: int, size: int) -> int:
    """Node A's content in bulk: blobs written directly, rows inserted a thousand at a time with
    their feed sequence numbers (as the ingest hook would give them)."""
    from sqlalchemy import insert, select

    from spacecommons.exchange.blobs import BlobStore
    from spacecommons.service import create_app
    from spacecommons.storage import federation_repo, partners_repo
    from spacecommons.storage.tables import Mission, Payload, Product, ProductFile

    app = create_app(f"sqlite:///{db}", blob_root=str(data))
    blobs = BlobStore(data)
    template = LABEL.read_bytes()
    total = 0
    with app.state.session_maker.begin() as s:
        owner = partners_repo.create_partner(s, "owner", NOW)
        federation_repo.add_peer(s, "http://node-b.invalid", b_key, "agency-b", NOW)
        m = Mission(owner_partner_id=owner.id, name="LRO", kind="orbiter", proprietary_days=0, public_after_days=0)
        s.add(m)
        s.flush()
        pl = Payload(mission_id=m.id, name="CAM", instrument="LROC", owner_partner_id=owner.id)
        s.add(pl)
        s.flush()
        first = federation_repo.next_feed_seqs(s, n)
        for lo in range(0, n, 1000):
            rows, file_blobs = [], []
            for i in range(lo, min(n, lo + 1000)):
                lid = f"{LID}_{i}"
                label_sha, _, _ = _put(blobs, template.replace(LID.encode(), lid.encode()))
                rows.append(
                    {
                        "lid": lid,
                        "vid": "2.0",
                        "title": f"product {i}",
                        "payload_id": pl.id,
                        "owner_partner_id": owner.id,
                        "licence": "CC-BY-4.0",
                        "metadata_json": "{}",
                        "ingested_at": NOW,
                        "partners_release_at": NOW,
                        "public_release_at": NOW,
                        "label_sha256": label_sha,
                        "feed_seq": first + i,
                    }
                )
                file_blobs.append([_put(blobs, os.urandom(size)) for _ in range(files)])
            s.execute(insert(Product), rows)
            ids = dict(
                s.execute(select(Product.lid, Product.id).where(Product.lid.in_([r["lid"] for r in rows]))).all()
            )
            file_rows = [
                {
                    "product_id": ids[r["lid"]],
                    "name": f"f{k}.img",
                    "sha256": sha,
                    "md5": md5,
                    "size": nbytes,
                    "media_type": "application/octet-stream",
                    "created_at": NOW,
                }
                for r, fb in zip(rows, file_blobs, strict=True)
                for k, (sha, md5, nbytes) in enumerate(fb)
            ]
            s.execute(insert(ProductFile), file_rows)
            total += sum(f["size"] for f in file_rows)
    app.state.engine.dispose()
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--file-bytes", type=int, default=1024)
    ap.add_argument("--page-size", type=int, default=200)
    args = ap.parse_args()

    from spacecommons.exchange import federation as fed
    from spacecommons.exchange.blobs import BlobStore
    from spacecommons.storage import federation_repo, make_engine, session_factory, upgrade
    from spacecommons.storage.tables import Product, ProductFile
    from spacecommons.workflows import federation as flow

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        b_key = flow.node_key(t / "b-data")
        t0 = time.perf_counter()
        nbytes = populate(
            t / "a.db", t / "a-data", fed.public_key_text(b_key), args.products, args.files, args.file_bytes
        )
        took = time.perf_counter() - t0
        print(f"populated A: {args.products} products, {args.products * args.files} files in {took:.1f} s")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {
            **os.environ,
            "SPACECOMMONS_DATA_DIR": str(t / "a-data"),
            "SPACECOMMONS_RATE_LIMIT_PER_SECOND": "1e9",
            "SPACECOMMONS_RATE_LIMIT_BURST": "1000000000",
        }
        cmd = [
            sys.executable,
            "-m",
            "spacecommons.cli.main",
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{t / 'a.db'}",
        ]
        a = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            while True:
                try:
                    a_key = httpx.get(f"{url}/api/v1/federation/key", timeout=5).json()["public_key"]
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            engine = make_engine(f"sqlite:///{t / 'b.db'}")
            upgrade(engine)
            maker = session_factory(engine)
            with maker.begin() as s:
                peer_id = federation_repo.add_peer(s, url, a_key, None, NOW).id
            client = httpx.Client(timeout=60)
            t1 = time.perf_counter()
            r = flow.sync_peer(
                maker,
                BlobStore(t / "b-data"),
                b_key,
                peer_id,
                flow.httpx_transport(client),
                lambda: datetime.now(UTC),
                page_size=args.page_size,
            )
            mirror_s = time.perf_counter() - t1
            with maker() as s:
                products = s.query(Product).count()
                nfiles = s.query(ProductFile).count()
            assert products == args.products and nfiles == args.products * args.files, (products, nfiles)
        finally:
            a.terminate()
            a.wait()
        t2 = time.perf_counter()
        shutil.copytree(t / "a-data", t / "copy")
        copy_s = time.perf_counter() - t2
    files = args.products * args.files
    print("| products | files | bytes | mirror (s) | products/s | files/s | MB/s | copytree (s) | ratio |")
    print(
        f"| {args.products} | {files} | {nbytes} | {mirror_s:.1f} | {args.products / mirror_s:.0f} | "
        f"{files / mirror_s:.0f} | {nbytes / mirror_s / 1e6:.2f} | {copy_s:.2f} | {mirror_s / copy_s:.0f}x |"
    )
    print(f"pages: {r.pages}, HTTP requests: {r.requests}, label and file bytes fetched: {r.bytes}")
    print("time to consistency = mirror time (B whole at the end of the last page)")


if __name__ == "__main__":
    main()
