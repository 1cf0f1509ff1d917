"""Lunar data exchange: PDS4 label round trip, level crosswalk, the access policy, and the embargo
held on every read path of the API (as an outside partner and anonymously, before and after the
release dates, with the clock injected); fixity audit; interrupted uploads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spacecommons.exchange import policy
from spacecommons.exchange.blobs import BlobStore
from spacecommons.exchange.levels import to_clpds, to_pds4
from spacecommons.exchange.pds4 import read_label, write_label
from spacecommons.service import create_app
from spacecommons.storage import partners_repo

LABELS = sorted((Path(__file__).parent / "data" / "lunar").glob("*.xml"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("path", LABELS, ids=[p.name for p in LABELS])
def test_pds4_label_round_trip(path):
    first = read_label(path.read_bytes(), str(path))
    again = read_label(write_label(first))
    assert again == first
    assert first.lid.startswith("urn:nasa:pds:lro-l-lroc-") and first.vid in ("1.0", "2.0")
    assert first.target.upper() == "MOON" and first.instrument == "LUNAR RECONNAISSANCE ORBITER CAMERA"
    assert first.processing_level in ("Partially Processed", "Calibrated", "Derived")


def test_label_errors_name_the_element():
    from spacecommons.errors import RecordError

    text = LABELS[0].read_text().replace("<version_id>2.0</version_id>\n    <title>", "<title>", 1)
    with pytest.raises(RecordError, match="version_id"):
        read_label(text, "x.xml")
    with pytest.raises(RecordError, match="xml"):
        read_label("<Product_Observational", "y.xml")
    with pytest.raises(RecordError):  # entity expansion refused (defusedxml)
        read_label('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "bomb.xml")


def test_processing_level_crosswalk():
    assert [to_pds4(x) for x in ("0B", "01", "02", "2B", "2C")] == [
        "Raw",
        "Partially Processed",
        "Calibrated",
        "Derived",
        "Derived",
    ]
    assert to_pds4("calibrated") == "Calibrated" and to_clpds("Partially Processed") == "01"
    with pytest.raises(ValueError):
        to_pds4("L3")


def test_policy_with_an_injected_clock():
    a = policy.Access(
        owner_partner_id=1,
        partners_release_at=utc("2026-02-01T00:00:00Z"),
        public_release_at=utc("2026-03-01T00:00:00Z"),
    )
    before, mid, after = utc("2026-01-15T00:00:00Z"), utc("2026-02-15T00:00:00Z"), utc("2026-03-15T00:00:00Z")
    assert policy.can_read_data(a, 1, before)  # owner
    assert not policy.can_read_data(a, 2, before) and policy.can_read_data(a, 2, before, granted=True)
    assert policy.can_read_data(a, 2, mid) and not policy.can_read_data(a, None, mid)
    assert policy.can_read_data(a, None, after)
    assert policy.can_see_metadata(a, 2, before) and not policy.can_see_metadata(a, None, mid)
    assert not policy.can_read_data(policy.Access(1, None, before, tombstoned=True), 1, after)
    assert policy.release_dates(T0, 30, 60) == (utc("2026-01-31T00:00:00Z"), utc("2026-04-01T00:00:00Z"))


@pytest.fixture
def exchange(tmp_path):
    now = {"t": T0}
    app = create_app(f"sqlite:///{tmp_path / 'x.db'}", clock=lambda: now["t"], blob_root=str(tmp_path / "blobs"))
    keys = {}
    with app.state.session_maker.begin() as s:
        for partner, role in (("Owner", "operator"), ("Other", "analyst"), ("Other", "observer"), ("Owner", "admin")):
            if not partners_repo.partner_exists(s, partner):
                partners_repo.create_partner(s, partner, T0)
            m = partners_repo.add_member(s, partner, role, role, T0)
            keys[(partner, role)] = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
    client = TestClient(app)
    owner = keys[("Owner", "operator")]
    assert (
        client.post(
            "/api/v1/exchange/missions",
            json={"name": "ILRS-L1", "kind": "lander", "proprietary_days": 30, "public_after_days": 30},
            headers=owner,
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/exchange/missions/ILRS-L1/payloads", json={"name": "CAM", "instrument": "camera"}, headers=owner
        ).status_code
        == 201
    )
    r = client.post(
        "/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", content=LABELS[0].read_bytes(), headers=owner
    )
    assert r.status_code == 201, r.text
    product = r.json()
    assert (product["partners_release_at"], product["public_release_at"]) == (
        "2026-01-31T00:00:00Z",
        "2026-03-02T00:00:00Z",
    )
    data = bytes(range(256)) * 40
    up = client.put(
        f"/api/v1/exchange/products/{product['lid']}/{product['vid']}/files/image.img",
        content=data,
        headers={**owner, "content-type": "application/octet-stream"},
    )
    assert up.status_code == 201, up.text
    yield app, client, keys, now, product, data
    app.state.engine.dispose()


def _read_paths(product):
    lid, vid = product["lid"], product["vid"]
    base = "/api/v1/exchange"
    return {
        "search": f"{base}/products?target=MOON",
        "text": f"{base}/products?q=NAC",
        "facets": f"{base}/facets",
        "concept": f"{base}/products/{lid}",
        "version": f"{base}/products/{lid}/{vid}",
        "label": f"{base}/products/{lid}/{vid}/label",
        "file": f"{base}/products/{lid}/{vid}/files/image.img",
        "range": f"{base}/products/{lid}/{vid}/files/image.img",
    }


def _leaks(client, headers, product, data) -> dict:
    """What each read path reveals: metadata (bool) and data (bool)."""
    out = {}
    for name, url in _read_paths(product).items():
        h = dict(headers)
        if name == "range":
            h["Range"] = "bytes=100-199"
        r = client.get(url, headers=h)
        body = r.content
        if name in ("search", "text"):
            rows = r.json()
            out[name] = (bool(rows), any(row["files"] for row in rows))
        elif name == "facets":
            out[name] = (r.json()["total"] > 0, False)
        elif name in ("file", "range"):
            out[name] = (r.status_code in (200, 206), r.status_code in (200, 206) and body in (data, data[100:200]))
        else:
            ok = r.status_code == 200
            out[name] = (ok, ok and name != "label" and bool(r.json()["files"]))
    return out


def test_embargo_holds_on_every_read_path(exchange):
    app, client, keys, now, product, data = exchange
    outsider, anonymous = keys[("Other", "analyst")], {}
    # before any release: outside partners see that it exists, never the data; anonymous sees nothing
    now["t"] = utc("2026-01-15T00:00:00Z")
    for name, (meta, dat) in _leaks(client, outsider, product, data).items():
        assert not dat, name
        assert meta == (name not in ("file", "range")), name
    assert not any(meta or dat for meta, dat in _leaks(client, anonymous, product, data).values())
    # partners' release: the outside partner reads the data; anonymous still nothing
    now["t"] = utc("2026-02-01T00:00:00Z")
    assert all(
        dat for name, (meta, dat) in _leaks(client, outsider, product, data).items() if name not in ("facets", "label")
    )
    assert not any(meta or dat for meta, dat in _leaks(client, anonymous, product, data).values())
    # public release: everyone
    now["t"] = utc("2026-03-02T00:00:00Z")
    assert all(
        dat for name, (meta, dat) in _leaks(client, anonymous, product, data).items() if name not in ("facets", "label")
    )
    r = client.get(_read_paths(product)["range"], headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == data[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"


def test_access_request_opens_data_before_release_and_decisions_are_logged(exchange):
    app, client, keys, now, product, data = exchange
    outsider = keys[("Other", "analyst")]
    url = _read_paths(product)["file"]
    assert client.get(url, headers=outsider).status_code == 403
    req = client.post(
        f"/api/v1/exchange/products/{product['lid']}/{product['vid']}/access-requests",
        json={
            "purpose": "crater statistics for a landing-site study",
            "commitment": "cite the product; no redistribution before release",
        },
        headers=outsider,
    ).json()
    assert (
        client.post(
            f"/api/v1/exchange/access-requests/{req['id']}/decision?approve=true", headers=keys[("Other", "observer")]
        ).status_code
        == 404
    )  # only the owner decides
    assert (
        client.post(
            f"/api/v1/exchange/access-requests/{req['id']}/decision?approve=true", headers=keys[("Owner", "operator")]
        ).json()["status"]
        == "approved"
    )
    got = client.get(url, headers=outsider)
    assert got.status_code == 200 and got.content == data
    from sqlalchemy import select

    from spacecommons.storage.tables import AccessDecision

    with app.state.session_maker() as s:
        log = [(d.action, d.allowed) for d in s.scalars(select(AccessDecision).order_by(AccessDecision.id))]
    assert ("data", 0) in log and ("access-request", 1) in log and log[-1] == ("data", 1)


def test_versions_concept_id_and_tombstones(exchange):
    app, client, keys, now, product, data = exchange
    owner = keys[("Owner", "operator")]
    v3 = LABELS[0].read_text().replace("<version_id>2.0</version_id>", "<version_id>3.0</version_id>", 1)
    assert (
        client.post(
            "/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", content=v3.encode(), headers=owner
        ).status_code
        == 201
    )
    concept = f"/api/v1/exchange/products/{product['lid']}"
    assert client.get(concept, headers=owner).json()["vid"] == "3.0"
    client.post(f"{concept}/3.0/tombstone", headers=owner)
    assert client.get(concept, headers=owner).json()["vid"] == "2.0"
    withdrawn = client.get(f"{concept}/3.0", headers=owner).json()
    assert withdrawn["withdrawn"] and withdrawn["files"] == []
    assert (
        client.post(
            "/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", content=v3.encode(), headers=owner
        ).status_code
        == 409
    )  # versions are immutable


def test_fixity_audit_detects_corruption(exchange):
    app, client, keys, now, product, data = exchange
    admin = keys[("Owner", "admin")]
    assert client.get("/api/v1/exchange/fixity", headers=admin).json() == {"checked": 1, "corrupted": []}
    sha = client.get(
        f"/api/v1/exchange/products/{product['lid']}/{product['vid']}", headers=keys[("Owner", "operator")]
    ).json()["files"][0]["sha256"]
    import hashlib

    assert sha == hashlib.sha256(data).hexdigest()
    path = app.state.blobs.path(sha)
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0xFF
    path.write_bytes(bytes(raw))
    report = client.get("/api/v1/exchange/fixity", headers=admin).json()
    assert report["corrupted"] == [{"product_id": 1, "name": "image.img", "sha256": sha}]


def test_interrupted_upload_leaves_nothing(tmp_path):
    store = BlobStore(tmp_path / "blobs")

    def stream():
        yield b"a" * 1000
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put(stream())
    assert list((tmp_path / "blobs").rglob("*.part")) == []
    assert [p for p in (tmp_path / "blobs" / "sha256").rglob("*") if p.is_file()] == []
    blob = store.put([b"abc"])
    assert store.verify(blob.sha256) and blob.md5 == "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321 test suite


def test_data_cli_against_a_running_service(exchange, tmp_path):
    """`spacecommons data` as a client: upload (label + file), list, show, download resumed from a
    partial file with a Range request (sha256 checked), release, request-access, audit."""
    from typer.testing import CliRunner

    from spacecommons.cli.main import app as cli

    from .conftest import ServedApp

    app, client, keys, now, product, data = exchange
    owner = keys[("Owner", "operator")]["X-API-Key"]
    runner = CliRunner(env={"COLUMNS": "200"})
    payload_file = tmp_path / "dtm.img"
    payload_file.write_bytes(b"\x00\x01" * 50_000)
    with ServedApp(app) as url:
        base = ["--server", url, "--key", owner]
        r = runner.invoke(
            cli,
            [
                "data",
                "upload",
                str(LABELS[-1]),
                str(payload_file),
                "--mission",
                "ILRS-L1",
                "--payload",
                "CAM",
                "--level",
                "2B",
                *base,
            ],
        )
        assert r.exit_code == 0, r.output
        assert "sha256" in r.output and "partners from 2026-01-31" in r.output
        lid = read_label(LABELS[-1].read_bytes()).lid
        r = runner.invoke(cli, ["data", "list", "--level", "2C", *base])
        assert r.exit_code == 0 and "Derived" in r.output
        r = runner.invoke(cli, ["data", "show", lid, *base])
        assert r.exit_code == 0 and '"processing_level": "Derived"' in r.output
        out = tmp_path / "copy.img"
        out.write_bytes(payload_file.read_bytes()[:12_345])  # an interrupted earlier download
        r = runner.invoke(cli, ["data", "download", lid, "1.0", "dtm.img", "--out", str(out), *base])
        assert r.exit_code == 0, r.output
        assert out.read_bytes() == payload_file.read_bytes() and "sha256 verified" in r.output
        r = runner.invoke(cli, ["data", "release", lid, "1.0", "--public-at", "2026-01-02T00:00:00Z", *base])
        assert r.exit_code == 0 and "public from 2026-01-02T00:00:00Z" in r.output
        outsider = ["--server", url, "--key", keys[("Other", "analyst")]["X-API-Key"]]
        r = runner.invoke(
            cli,
            [
                "data",
                "request-access",
                product["lid"],
                product["vid"],
                "--purpose",
                "photometry of the landing site",
                "--commitment",
                "cite; no redistribution",
                *outsider,
            ],
        )
        assert r.exit_code == 0 and "pending" in r.output
        r = runner.invoke(cli, ["data", "audit", "--server", url, "--key", keys[("Owner", "admin")]["X-API-Key"]])
        assert r.exit_code == 0 and "2 files checked, 0 corrupted" in r.output
        r = runner.invoke(
            cli,
            ["data", "download", product["lid"], product["vid"], "image.img", "--out", str(tmp_path / "x"), *outsider],
        )
        assert r.exit_code == 1 and "embargo" in r.output


def test_periodic_fixity_audit_runs_in_the_server(tmp_path):
    import time

    app = create_app(f"sqlite:///{tmp_path / 'p.db'}", blob_root=str(tmp_path / "b"), fixity_every_s=0.2)
    with TestClient(app):  # lifespan: the background audits run
        for _ in range(50):
            if app.state.fixity is not None:
                break
            time.sleep(0.1)
    assert app.state.fixity is not None and app.state.fixity["checked"] == 0 and app.state.fixity["corrupted"] == []
    app.state.engine.dispose()


def test_bounding_coordinates_round_trip_and_region_search(exchange):
    """A product with cart:Bounding_Coordinates (the Apollo 12 site DTM's region, constructed):
    the label round-trips; a region search finds it only where the boxes intersect, and only for
    those who may see it."""
    import dataclasses

    app, client, keys, now, product, data = exchange
    owner = keys[("Owner", "operator")]
    dtm = read_label(LABELS[-1].read_bytes())
    boxed = dataclasses.replace(dtm, bounds=(-23.6, -23.3, -2.9, -3.2))
    assert read_label(write_label(boxed)) == boxed
    r = client.post(
        "/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", content=write_label(boxed).encode(), headers=owner
    )
    assert r.status_code == 201 and r.json()["bounds"] == [-23.6, -23.3, -2.9, -3.2]
    hit = client.get("/api/v1/exchange/products?bbox=-24,-4,-23,-3", headers=owner).json()
    assert [p["lid"] for p in hit] == [dtm.lid]
    assert client.get("/api/v1/exchange/products?bbox=10,10,20,20", headers=owner).json() == []
    assert client.get("/api/v1/exchange/products?bbox=-24,-4,-23,-3").json() == []  # anonymous, embargoed
    assert client.get("/api/v1/exchange/products?bbox=1,2", headers=owner).status_code == 400
    label = client.get(f"/api/v1/exchange/products/{dtm.lid}/{dtm.vid}/label", headers=owner).text
    assert read_label(label).bounds == boxed.bounds


def test_release_dates_are_instants_whatever_their_offset():
    """2026-02-01T01:00:00+02:00 is 2026-01-31T23:00Z: before a partners' release at 2026-02-01T00:00Z,
    although its text sorts after it (the bug of comparing dates as text). ISO 8601 offsets."""
    a = policy.Access(owner_partner_id=1, partners_release_at=utc("2026-02-01T00:00:00Z"), public_release_at=None)
    assert not policy.can_read_data(a, 2, utc("2026-02-01T01:00:00+02:00"))
    assert policy.can_read_data(a, 2, utc("2026-02-01T00:00:00-00:01"))  # 00:01Z
    with pytest.raises(ValueError, match="naive"):
        policy.can_read_data(a, 2, datetime(2026, 3, 1))
    # a fraction of a second at ingest does not survive into the release dates (one-second resolution)
    assert policy.release_dates(utc("2026-01-01T00:00:00.75Z"), 0.5, 1) == (
        utc("2026-01-01T12:00:00Z"),
        utc("2026-01-02T12:00:00Z"),
    )


def test_time_inputs_state_their_offset(exchange):
    """Release dates and search times are ISO-8601 with an offset; anything else is a 422, and the
    answer writes UTC with Z (an offset given is converted: 2026-06-01T02:00:00.9+02:00 is 00:00:00Z)."""
    app, client, keys, now, product, data = exchange
    owner = keys[("Owner", "operator")]
    url = f"/api/v1/exchange/products/{product['lid']}/{product['vid']}/release"
    for bad in ("2026-06-01T00:00:00", "2026-06-01", "soon", "2026-13-01T00:00:00Z"):
        assert client.post(url, json={"public_release_at": bad}, headers=owner).status_code == 422, bad
    r = client.post(url, json={"public_release_at": "2026-06-01T02:00:00.9+02:00"}, headers=owner)
    assert r.status_code == 200 and r.json()["public_release_at"] == "2026-06-01T00:00:00Z"
    assert r.json()["partners_release_at"] == "2026-01-31T00:00:00Z"
    search = "/api/v1/exchange/products"
    assert client.get(search, params={"after": "2009-07-19T00:00:00"}, headers=owner).status_code == 422
    # the label's times: the product was observed 2009-07-19 00:00:26.423 .. 00:01:17.707 (tests/data/lunar)
    assert (product["start"], product["stop"]) == ("2009-07-19T00:00:26.423000Z", "2009-07-19T00:01:17.707000Z")
    found = {
        (after, before): len(
            client.get(
                search, params={k: v for k, v in (("after", after), ("before", before)) if v}, headers=owner
            ).json()
        )
        for after, before in (
            ("2009-07-19T00:01:17.707Z", "2009-07-19T00:00:26.423Z"),  # the very ends: included
            ("2009-07-19T02:01:17.708+02:00", None),  # one millisecond after the stop
            (None, "2009-07-19T00:00:26.422Z"),  # one millisecond before the start
        )
    }
    assert list(found.values()) == [1, 0, 0]
    # a label whose times are not UTC (PDS4 writes them with Z) is refused, naming the element
    label = LABELS[1].read_text().replace("2009-07-19T00:00:26.423000Z", "2009-07-19T00:00:26.423000", 1)
    r = client.post("/api/v1/exchange/products?mission=ILRS-L1&payload=CAM", content=label.encode(), headers=owner)
    assert r.status_code == 400 and "start_date_time" in r.json()["detail"]
