"""Scale benchmark (issue #6): 100,000 products with 300,000 files in SQLite and in PostgreSQL;
search latency p50/p99 through the API, and upload throughput of a 1 GiB file.

Rows are inserted in bulk (the catalogue of a mature archive), then the service answers product
searches (by target, instrument, level, text and time) over loopback as an outside partner, so the
embargo filter is part of every query. Baseline in the same run: the same searches over a 1,000-
product archive (the ratio shows how search cost grows with the archive), and for uploads a plain
file copy of the same 1 GiB on the same disk.

Usage: python benchmarks/exchange_scale.py [--products 100000] [--backends sqlite,postgresql] [--upload-mib 1024]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # the time the rows say they were written

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
TARGETS = ["Moon", "Moon", "Moon", "Earth", "Sun"]
INSTRUMENTS = ["LPR", "VNIS", "PanCam", "LND", "ASAN", "LMS"]
LEVELS = ["Raw", "Partially Processed", "Calibrated", "Derived"]


def populate(url: str, n: int, blob_root: str):
    from spacecommons.service import create_app
    from spacecommons.storage import partners_repo
    from spacecommons.storage.tables import Mission, Payload, Product, ProductFile

    app = create_app(url, rate_per_second=1e6, rate_burst=10**9, blob_root=blob_root)
    rng = random.Random(1)
    with app.state.session_maker.begin() as s:
        partners_repo.create_partner(s, "owner", NOW)
        partners_repo.create_partner(s, "outsider", NOW)
        owner = partners_repo.add_member(s, "owner", "team", "operator", NOW)
        outsider = partners_repo.add_member(s, "outsider", "sci", "analyst", NOW)
        keys = {
            "owner": partners_repo.issue_key(s, owner.id, NOW),
            "outsider": partners_repo.issue_key(s, outsider.id, NOW),
        }
        m = Mission(name="ILRS-L1", kind="lander", owner_partner_id=1, proprietary_days=180, public_after_days=180)
        s.add(m)
        s.flush()
        pl = Payload(mission_id=m.id, name="ALL", instrument="many", owner_partner_id=1, status="operating")
        s.add(pl)
        s.flush()
        batch = 5000
        for start in range(0, n, batch):
            rows = []
            for k in range(start, min(n, start + batch)):
                day = rng.randrange(0, 2000)
                t0 = f"{2027 + day // 365}-{1 + day % 365 // 31:02d}-{1 + day % 28:02d}T00:00:00Z"
                released = rng.random() < 0.5
                partners_at, public_at = (
                    ("2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z")
                    if released
                    else ("2099-01-01T00:00:00Z", "2099-06-01T00:00:00Z")
                )
                rows.append(
                    dict(
                        lid=f"urn:ilrs:l1:data:{INSTRUMENTS[k % 6].lower()}.{k:07d}",
                        vid="1.0",
                        title=f"{INSTRUMENTS[k % 6]} observation {k}",
                        payload_id=pl.id,
                        owner_partner_id=1,
                        target=TARGETS[k % 5],
                        instrument=INSTRUMENTS[k % 6],
                        processing_level=LEVELS[k % 4],
                        start=t0,
                        stop=t0,
                        licence="CC-BY-4.0",
                        citation=None,
                        metadata_json="{}",
                        ingested_at=NOW,
                        partners_release_at=partners_at,
                        public_release_at=public_at,
                    )
                )
            s.execute(Product.__table__.insert(), rows)
        ids = [r[0] for r in s.execute(Product.__table__.select().with_only_columns(Product.id))]
        files = []
        for pid in ids:
            for j in range(3):
                sha = hashlib.sha256(f"{pid}-{j}".encode()).hexdigest()
                files.append(
                    dict(
                        product_id=pid,
                        name=f"part{j}.dat",
                        sha256=sha,
                        md5=sha[:32],
                        size=1024 * (j + 1),
                        media_type="application/octet-stream",
                        created_at=NOW,
                    )
                )
            if len(files) >= 15000:
                s.execute(ProductFile.__table__.insert(), files)
                files = []
        if files:
            s.execute(ProductFile.__table__.insert(), files)
    app.state.engine.dispose()
    return keys


QUERIES = [
    {"target": "Moon", "limit": 50},
    {"instrument": "LPR", "level": "02", "limit": 50},
    {"q": "observation 4242", "limit": 50},
    {"after": "2028-01-01T00:00:00Z", "before": "2028-02-01T00:00:00Z", "limit": 50},
    {"level": "Derived", "target": "Earth", "limit": 50},
]


def search_latencies(base: str, key: str, rounds: int) -> list[float]:
    out = []
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        for _ in range(rounds):
            for q in QUERIES:
                t = time.perf_counter()
                c.get("/api/v1/exchange/products", params=q).raise_for_status()
                out.append(time.perf_counter() - t)
    return out


def main() -> int:
    from conftest import ServedApp

    from spacecommons.service import create_app

    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--upload-mib", type=int, default=1024)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows = []
    try:
        for backend in args.backends.split(","):
            for n in (1000, args.products):
                if backend == "sqlite":
                    url = f"sqlite:///{tmp / f'x{n}.db'}"
                else:
                    subprocess.run([str(ROOT / "scripts/test-postgres"), "stop"], capture_output=True)
                    url = subprocess.run(
                        [str(ROOT / "scripts/test-postgres"), "start"], check=True, capture_output=True, text=True
                    ).stdout.strip()
                t = time.perf_counter()
                keys = populate(url, n, str(tmp / f"blobs-{backend}"))
                print(f"{backend}: {n} products, {3 * n} files inserted in {time.perf_counter() - t:.0f} s", flush=True)
                app = create_app(url, rate_per_second=1e6, rate_burst=10**9, blob_root=str(tmp / f"blobs-{backend}"))
                with ServedApp(app) as base:
                    lat = search_latencies(base, keys["outsider"], 40)
                    q = statistics.quantiles(lat, n=100)
                    rows.append((backend, n, len(lat), q[49] * 1000, q[98] * 1000))
                    if n == args.products and args.upload_mib:
                        payload = os.urandom(1 << 20) * args.upload_mib
                        src = tmp / "big.bin"
                        src.write_bytes(payload)
                        t = time.perf_counter()
                        shutil.copyfile(src, tmp / "copy.bin")
                        os.sync()
                        copy_s = time.perf_counter() - t
                        with httpx.Client(base_url=base, headers={"X-API-Key": keys["owner"]}, timeout=600) as c:
                            lid = "urn:ilrs:l1:data:lpr.0000000"
                            t = time.perf_counter()
                            with src.open("rb") as f:
                                c.put(
                                    f"/api/v1/exchange/products/{lid}/1.0/files/big.bin", content=f
                                ).raise_for_status()
                            up_s = time.perf_counter() - t
                        mib = args.upload_mib
                        rate, copy_rate = mib / up_s, mib / copy_s
                        print(
                            f"{backend}: upload {mib} MiB in {up_s:.1f} s = {rate:.0f} MiB/s "
                            f"(plain copy {copy_rate:.0f} MiB/s)",
                            flush=True,
                        )
                        (tmp / "copy.bin").unlink()
                        src.unlink()
                app.state.engine.dispose()
    finally:
        subprocess.run([str(ROOT / "scripts/test-postgres"), "stop"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| backend | products | searches | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
