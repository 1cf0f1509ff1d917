"""PDS4 archives in the exchange (issue #17): labels validated at ingest against the shipped PDS4 core
schema (XSD + Schematron, IM 1.26.0.0) and exported byte for byte; bundle directories imported and
exported (trees and checksums compared); members, DOIs and DataCite records; the CLI.

Sources: the five LROC labels are the PDS LRO dictionary's regression labels (tests/data/SOURCES.md);
they carry the placeholder ``[IM VERSION]``, which the PDS test harness replaces with the information
model under test, and so do these tests (``released``). The rules asserted are those of the PDS4
core schema files themselves (``PDS4_PDS_1Q00.xsd``/``.sch``), quoted where used."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from spacecommons.cli.main import app as cli
from spacecommons.errors import RecordError
from spacecommons.exchange import archive
from spacecommons.exchange.pds4 import Modification, amend_label, read_inventory, read_label, write_inventory
from spacecommons.exchange.validate import Severity, validate_label
from spacecommons.service import create_app
from spacecommons.storage import partners_repo
from spacecommons.workflows import archive as flow

LUNAR = Path(__file__).parent / "data" / "lunar"
LABELS = sorted(LUNAR.glob("*_VALID.xml"))
BUNDLE = LUNAR / "bundle"
BUNDLE_LID = "urn:nasa:pds:lro-l-lroc-2-edr"
COLLECTION_LID = "urn:nasa:pds:lro-l-lroc-2-edr:examples"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
X = "/api/v1/exchange"


def released(path: Path) -> bytes:
    """The label as the PDS test harness validates it: ``[IM VERSION]`` set to the model under test."""
    return path.read_bytes().replace(b"[IM VERSION]", b"1.26.0.0")


def line_of(data: bytes, needle: bytes, after: bytes = b"") -> int:
    """1-based line of the first ``needle`` after ``after`` (an independent count of the label's lines)."""
    start = data.index(after) if after else 0
    return data[: data.index(needle, start)].count(b"\n") + 1


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- validation, offline ------------------------------------------------------------------------


@pytest.mark.parametrize("path", LABELS, ids=[p.name for p in LABELS])
def test_lroc_labels_validate_and_the_mission_dictionary_is_reported_not_validated(path):
    report = validate_label(released(path), path.name)
    assert report.valid, [str(f) for f in report.errors]
    assert report.information_model_version == "1.26.0.0"
    # the lro: dictionary is not shipped: said as a warning, never silently passed
    assert [(f.severity, f.rule) for f in report.findings] == [(Severity.WARNING, "dictionary")]
    assert "mission/lro/v1" in report.findings[0].message


def test_unsupported_information_model_is_an_error_on_its_line():
    data = LABELS[0].read_bytes()  # as published, with the placeholder
    report = validate_label(data)
    assert not report.valid
    assert [(f.rule, f.line) for f in report.errors] == [
        ("information_model_version", line_of(data, b"<information_model_version>"))
    ]


def test_xsd_rule_target_identification_needs_its_type():
    # PDS4_PDS_1Q00.xsd, Target_Identification: name, alternate_designation*, type (1..1), ...
    data = released(LUNAR / "M102600893LE_VALID.xml").replace(b"      <type>Satellite</type>\n", b"", 1)
    errors = validate_label(data).errors
    assert len(errors) == 1 and errors[0].rule == "xsd"
    assert errors[0].line == line_of(data, b"<Internal_Reference>", after=b"<Target_Identification>")
    assert "{http://pds.nasa.gov/pds4/pds/v1}type" in errors[0].message


def test_schematron_rule_inventory_first_field_is_member_status():
    # PDS4_PDS_1Q00.sch: "The first field of an Inventory must have name set to 'Member Status'."
    data = (BUNDLE / "examples" / "collection_examples.xml").read_bytes()
    assert validate_label(data).valid
    bad = data.replace(b"<name>Member Status</name>", b"<name>Member_Status</name>")
    errors = validate_label(bad).errors
    assert [e.rule for e in errors] == ["pds:Inventory/pds:Record_Delimited/pds:Field_Delimited[1]/name"]
    assert errors[0].line == line_of(bad, b"<Field_Delimited>")
    assert "Member Status" in errors[0].message


def test_hostile_xml_is_refused_before_validation():
    with pytest.raises(RecordError):
        validate_label(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    with pytest.raises(RecordError, match="xml"):
        validate_label(b"<Product_Observational")


def test_amend_label_appends_to_modification_history_and_keeps_every_other_byte():
    data = released(LUNAR / "M102600893LE_VALID.xml")
    assert amend_label(data, []) is data
    amended = amend_label(data, [Modification("2026-02-01", "2.0", "Release dates set")])
    end = b"    </Modification_History>"
    inserted = amended[data.index(end) : amended.index(end)]
    assert amended.replace(inserted, b"", 1) == data  # every other byte as submitted
    assert inserted.startswith(b"      <Modification_Detail>\n")
    assert b"<modification_date>2026-02-01</modification_date>" in inserted
    assert validate_label(amended).valid
    history = read_label(amended)  # still a label; and the history now has three details
    assert history.lid.endswith("nac.m102600893le") and amended.count(b"<Modification_Detail>") == 3
    # a label without a Modification_History gets one where the schema puts it
    fresh = (BUNDLE / "bundle_lro-l-lroc-2-edr.xml").read_bytes()
    amended = amend_label(fresh, [Modification("2026-02-01", "1.0", "DOI registered")])
    assert validate_label(amended).valid and amended.count(b"<Modification_History>") == 1


def test_inventory_read_and_written_with_crlf():
    data = (BUNDLE / "examples" / "collection_examples_inventory.csv").read_bytes()
    members = read_inventory(data)
    assert [m.status for m in members] == ["Primary", "Primary", "Secondary", "Secondary", "Secondary"]
    assert write_inventory(members) == data  # PDS4 delimited tables end records with CRLF
    with pytest.raises(RecordError, match="LIDVID"):
        read_inventory(b"P,urn:nasa:pds:a:b:c\r\n")


# --- the service --------------------------------------------------------------------------------


@pytest.fixture
def node(tmp_path):
    now = {"t": T0}
    app = create_app(f"sqlite:///{tmp_path / 'x.db'}", clock=lambda: now["t"], blob_root=str(tmp_path / "blobs"))
    keys = {}
    with app.state.session_maker.begin() as s:
        for partner, role in (("Owner", "operator"), ("Other", "analyst")):
            partners_repo.create_partner(s, partner, T0)
            m = partners_repo.add_member(s, partner, role, role, T0)
            keys[partner] = {"X-API-Key": partners_repo.issue_key(s, m.id, T0)}
    client = TestClient(app)
    for mission, policy in (("LRO-S", "strict"), ("LRO-W", "warn")):
        body = {"name": mission, "kind": "orbiter", "proprietary_days": 30, "public_after_days": 30}
        assert (
            client.post(f"{X}/missions", json={**body, "label_policy": policy}, headers=keys["Owner"]).status_code
            == 201
        )
        r = client.post(
            f"{X}/missions/{mission}/payloads", json={"name": "CAM", "instrument": "LROC"}, headers=keys["Owner"]
        )
        assert r.status_code == 201
    yield app, client, keys, now
    app.state.engine.dispose()


@pytest.mark.parametrize("path", LABELS, ids=[p.name for p in LABELS])
def test_lroc_labels_ingested_and_exported_byte_identical(node, path):
    app, client, keys, now = node
    data = released(path)
    r = client.post(f"{X}/products?mission=LRO-S&payload=CAM", content=data, headers=keys["Owner"])
    assert r.status_code == 201, r.text
    p = r.json()
    assert [f["rule"] for f in p["label_findings"]] == ["dictionary"]
    exported = client.get(f"{X}/products/{p['lid']}/{p['vid']}/label", headers=keys["Owner"]).content
    assert exported == data
    assert validate_label(exported).valid  # offline, against the shipped core schema
    # no dataset DOI in these labels (their External_Reference DOI cites a paper): cited by LIDVID, in
    # the year of the public release (2026-03-02: 30 + 30 days after T0)
    assert p["doi"] is None and p["licence"] == "CC-BY-4.0"
    assert p["cite_as"] == f"Owner (2026). {read_label(data).title}. Owner. {p['lidvid']}"


def test_failing_label_refused_with_rule_and_line_or_accepted_under_warn(node):
    app, client, keys, now = node
    data = released(LUNAR / "M102600893LE_VALID.xml").replace(b"      <type>Satellite</type>\n", b"", 1)
    r = client.post(f"{X}/products?mission=LRO-S&payload=CAM", content=data, headers=keys["Owner"])
    assert r.status_code == 422
    detail = r.json()["detail"]
    errors = [f for f in detail["findings"] if f["severity"] == "error"]
    line = line_of(data, b"<Internal_Reference>", after=b"<Target_Identification>")
    assert [(f["rule"], f["line"]) for f in errors] == [("xsd", line)]
    assert f"line {line}: [xsd]" in detail["message"]
    assert client.get(f"{X}/products", headers=keys["Owner"]).json() == []  # nothing ingested
    r = client.post(f"{X}/products?mission=LRO-W&payload=CAM", content=data, headers=keys["Owner"])
    assert r.status_code == 201
    assert ("error", "xsd", line) in [(f["severity"], f["rule"], f["line"]) for f in r.json()["label_findings"]]
    exported = client.get(f"{X}/products/{r.json()['lid']}/2.0/label", headers=keys["Owner"]).content
    assert exported == data  # accepted as submitted, findings kept beside it


def test_release_is_recorded_in_the_exported_labels_modification_history(node):
    app, client, keys, now = node
    data = released(LUNAR / "NAC_DTM_A12LMAS_VALID.xml")
    p = client.post(f"{X}/products?mission=LRO-S&payload=CAM", content=data, headers=keys["Owner"]).json()
    url = f"{X}/products/{p['lid']}/{p['vid']}"
    now["t"] = datetime(2026, 1, 5, 12, tzinfo=UTC)
    r = client.post(f"{url}/release", json={"public_release_at": "2026-01-06T00:00:00Z"}, headers=keys["Owner"])
    assert r.status_code == 200
    exported = client.get(f"{url}/label", headers=keys["Owner"]).content
    assert exported != data and validate_label(exported).valid
    detail = exported[data.index(b"    </Modification_History>") : exported.index(b"    </Modification_History>")]
    assert exported.replace(detail, b"", 1) == data  # every other byte as submitted
    assert b"<modification_date>2026-01-05</modification_date>" in detail and b"<version_id>1.0</version_id>" in detail
    assert b"public from 2026-01-06T00:00:00Z" in detail


def _import(app, partner: str = "Owner", root: Path = BUNDLE, mission: str = "LRO-S") -> dict:
    with app.state.session_maker() as s:
        pid = s.scalar(sa.text("SELECT id FROM partners WHERE name = :n"), {"n": partner})
        return flow.import_bundle(s, app.state.blobs, root, pid, mission, "CAM", T0)


def test_bundle_round_trip_trees_and_checksums(node, tmp_path):
    app, client, keys, now = node
    result = _import(app)
    assert sorted(result["products"]) == sorted(
        [
            BUNDLE_LID + "::1.0",
            COLLECTION_LID + "::1.0",
            COLLECTION_LID + ":nac.m102600893le::2.0",
            COLLECTION_LID + ":wac.m102601080ce::2.0",
        ]
    )
    assert result["files"] == 3  # the inventory and the two data files
    out = tmp_path / "export"
    with app.state.session_maker() as s:
        owner = s.scalar(sa.text("SELECT id FROM partners WHERE name = 'Owner'"))
        flow.export_bundle(s, app.state.blobs, BUNDLE_LID, None, out, owner, T0)
    exported, original = tree(out), tree(BUNDLE)
    manifest = exported.pop(archive.MANIFEST)
    assert exported == original  # same paths, same bytes
    md5 = {p: hashlib.md5(b, usedforsecurity=False).hexdigest() for p, b in original.items()}
    assert archive.read_manifest(manifest) == md5
    # the exported directory imports again: every product already held, nothing duplicated
    again = _import(app, root=out)
    assert again["products"] == [] and len(again["skipped"]) == 4
    # each exported label validates offline
    for path, data in exported.items():
        if path.endswith(".xml"):
            assert validate_label(data, path).valid, path


def test_export_refused_while_the_caller_may_not_read_the_data(node, tmp_path):
    app, client, keys, now = node
    _import(app)
    with app.state.session_maker() as s, pytest.raises(flow.Refused) as refused:
        flow.export_bundle(s, app.state.blobs, BUNDLE_LID, None, tmp_path / "anon", None, T0)
    assert refused.value.status == 404  # the public does not see the bundle before its release
    other = 2
    with app.state.session_maker() as s, pytest.raises(flow.Refused) as refused:
        flow.export_bundle(s, app.state.blobs, BUNDLE_LID, None, tmp_path / "other", other, T0)
    assert refused.value.status == 403 and "embargo" in str(refused.value)
    assert not (tmp_path / "other").exists()


def test_export_api_job_gives_the_archive_to_its_submitter_only(node):
    """POST .../bundles/{lid}/export queues a job; its tar holds the bundle directory exactly as the
    original (paths and bytes) plus the MD5 manifest; the other partner (embargo: 403) and the public
    (404) are refused at once, and neither sees the owner's job or archive."""
    import io
    import tarfile

    app, client, keys, now = node
    _import(app)
    url = f"{X}/bundles/{BUNDLE_LID}/export"
    assert client.post(url, headers=keys["Other"]).status_code == 403
    assert client.post(url).status_code == 404
    r = client.post(url, headers=keys["Owner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    app.state.job_queue.wait(job_id, timeout=120)  # the job's state, not a time
    for who in (keys["Other"], {}):
        assert client.get(f"{X}/exports/{job_id}", headers=who).status_code == 404
        assert client.get(f"{X}/exports/{job_id}/archive", headers=who).status_code == 404
    job = client.get(f"{X}/exports/{job_id}", headers=keys["Owner"]).json()
    assert job["state"] == "done", job
    got = client.get(job["archive_url"], headers=keys["Owner"])
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == job["sha256"]
    with tarfile.open(fileobj=io.BytesIO(got.content)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    top = "lro-l-lroc-2-edr_v1.0/"
    assert all(name.startswith(top) for name in members)
    members = {name[len(top) :]: data for name, data in members.items()}
    manifest = members.pop(archive.MANIFEST)
    assert members == tree(BUNDLE) and job["files"] == len(members)
    md5 = {p: hashlib.md5(b, usedforsecurity=False).hexdigest() for p, b in members.items()}
    assert archive.read_manifest(manifest) == md5


def test_import_refuses_a_bundle_whose_manifest_disagrees(node, tmp_path):
    app, client, keys, now = node
    root = tmp_path / "bad"
    for rel, data in tree(BUNDLE).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    md5 = {p: hashlib.md5(b, usedforsecurity=False).hexdigest() for p, b in tree(root).items()}
    md5["examples/nac.m102600893le/No.Data"] = "0" * 32
    (root / archive.MANIFEST).write_bytes(archive.manifest(md5))
    with pytest.raises(RecordError, match="No.Data"):
        _import(app, root=root)
    assert client.get(f"{X}/products", headers=keys["Owner"]).json() == []


def test_members_doi_and_datacite(node):
    app, client, keys, now = node
    _import(app)
    owner, other = keys["Owner"], keys["Other"]
    members = client.get(f"{X}/products/{COLLECTION_LID}/1.0/members", headers=other).json()
    assert [(m["member_status"], m["held"] is not None) for m in members] == [
        ("Primary", True),
        ("Primary", True),
        ("Secondary", False),
        ("Secondary", False),
        ("Secondary", False),
    ]
    assert client.get(f"{X}/products/{COLLECTION_LID}/1.0/members").status_code == 404  # anonymous: embargoed
    url = f"{X}/products/{BUNDLE_LID}/1.0"
    assert client.get(f"{url}/datacite", headers=other).status_code == 404  # no DOI yet
    assert client.post(f"{url}/doi", json={"doi": "10.17189/abc-123"}, headers=other).status_code == 403
    assert client.post(f"{url}/doi", json={"doi": "not a doi"}, headers=owner).status_code == 422
    r = client.post(f"{url}/doi", json={"doi": "10.17189/abc-123"}, headers=owner)
    assert r.status_code == 200 and r.json()["doi"] == "10.17189/abc-123"
    assert r.json()["cite_as"] == (
        "Owner (2026). LRO Camera EDR examples (test bundle around the LROC regression labels). Owner. "
        "https://doi.org/10.17189/abc-123"
    )
    record = client.get(f"{url}/datacite", headers=other).json()["data"]["attributes"]
    assert record["doi"] == "10.17189/abc-123" and record["publicationYear"] == "2026"
    assert record["alternateIdentifiers"][0]["alternateIdentifier"] == BUNDLE_LID + "::1.0"
    assert record["rightsList"][0]["rightsIdentifier"] == "CC-BY-4.0"
    assert [x["relatedIdentifier"] for x in record["relatedIdentifiers"]] == [COLLECTION_LID + "::1.0"]
    label = client.get(f"{url}/label", headers=owner).content
    assert b"DOI 10.17189/abc-123 registered" in label and validate_label(label).valid


def test_cli_validate_import_export(tmp_path):
    runner = CliRunner(env={"COLUMNS": "240"})
    db, blobs = f"sqlite:///{tmp_path / 'c.db'}", str(tmp_path / "blobs")
    r = runner.invoke(cli, ["archive", "validate", str(LABELS[0])])
    assert r.exit_code != 0 and "information_model_version" in r.output
    good = tmp_path / "good.xml"
    good.write_bytes(released(LABELS[0]))
    assert runner.invoke(cli, ["archive", "validate", str(good)]).exit_code == 0
    from spacecommons.storage import exchange_repo, make_engine, session_factory, upgrade

    engine = make_engine(db)
    upgrade(engine)
    with session_factory(engine).begin() as s:
        partner = partners_repo.create_partner(s, "Owner", T0)
        m = exchange_repo.create_mission(s, partner.id, "LRO", "orbiter", 0, 0, "strict")
        exchange_repo.create_payload(s, m.id, partner.id, name="CAM", instrument="LROC")
    engine.dispose()
    args = ["--database-url", db, "--data-dir", blobs]
    r = runner.invoke(
        cli, ["archive", "import", str(BUNDLE), "--mission", "LRO", "--payload", "CAM", "--partner", "Owner", *args]
    )
    assert r.exit_code == 0, r.output
    assert "imported 4 products, 3 files" in r.output
    out = tmp_path / "out"
    r = runner.invoke(cli, ["archive", "export", BUNDLE_LID, str(out), *args])  # released at once: public
    assert r.exit_code == 0, r.output
    exported = tree(out)
    exported.pop(archive.MANIFEST)
    assert exported == tree(BUNDLE)
    r = runner.invoke(cli, ["archive", "export", BUNDLE_LID, str(out), *args])
    assert r.exit_code != 0 and "not empty" in r.output


def test_archive_paths_are_plain_and_relative():
    assert archive.default_label_path(COLLECTION_LID + ":nac.x", "Product_Observational") == "examples/nac.x/nac.x.xml"
    assert archive.default_label_path(BUNDLE_LID, "Product_Bundle") == "bundle_lro-l-lroc-2-edr.xml"
    for bad in ("../x.xml", "/etc/passwd", "a//b", "a/../b"):
        with pytest.raises(RecordError):
            archive.safe_relative(bad)
    with pytest.raises(RecordError):
        archive.beside("a/b.xml", "../c")
    assert re.fullmatch(r"[0-9a-f]{32}  a\n", archive.manifest({"a": "0" * 32}).decode())
