"""Issue #13: the lunar exchange workflow of docs/lunar-exchange.md from the command line alone.

The chapter's ``shell`` block is run line by line against a served app: partners and keys
(``partner create/add-key/list``, database side), then missions, payloads, upload, list, show,
download, access request and approval, release (``data ...``, HTTP client of the API, which
applies every rule). Expected values come from the LROC sample label (LID, VID 2.0) and from
the commands' own earlier answers (the access request's number).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from spacecommons.cli.main import app as cli
from spacecommons.service import create_app

from .conftest import SAMPLE, ServedApp

DOC = Path(__file__).parents[1] / "docs" / "lunar-exchange.md"
LABEL = SAMPLE / "lunar" / "M102600893LE_VALID.xml"
LID = "urn:nasa:pds:lro-l-lroc-2-edr:examples:nac.m102600893le"


def doc_commands() -> list[list[str]]:
    block = re.search(r"```shell\n(.*?)```", DOC.read_text(), re.S).group(1)
    return [
        shlex.split(line, comments=True) for line in block.splitlines() if line.startswith(("spacecommons", "export"))
    ]


def test_the_documented_exchange_workflow_runs(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner(env={"COLUMNS": "200"})
    data_file = tmp_path / "M102600893LE.IMG"
    data_file.write_bytes(bytes(range(256)) * 40)
    monkeypatch.chdir(tmp_path)
    files = {"M102600893LE.xml": str(LABEL)}
    keys: dict[str, str] = {}
    app = None
    server = None
    outputs = []
    try:
        for argv in doc_commands():
            if argv[0] == "export":  # SPACECOMMONS_SERVER / SPACECOMMONS_API_KEY
                for assignment in argv[1:]:
                    name, value = assignment.split("=", 1)
                    value = keys.get(value.lstrip("$"), value)
                    monkeypatch.setenv(name, server if name == "SPACECOMMONS_SERVER" else value)
                continue
            args = [files.get(a, keys.get(a.lstrip("$"), a)) for a in argv[1:]]
            if args[0] == "serve":  # the test serves the same database in a thread instead
                app = create_app(url, blob_root=str(tmp_path / "blobs"))
                server_ctx = ServedApp(app)
                server = server_ctx.__enter__()
                continue
            if args[0] == "partner":
                args += ["--database-url", url]
            r = runner.invoke(cli, args)
            outputs.append((args, r))
            if args[:2] == ["data", "audit"]:  # admin only: the owner's operator key is refused
                assert r.exit_code == 1 and "403" in r.output, r.output
                continue
            assert r.exit_code == 0, (args, r.output)
            if args[:2] == ["partner", "add-key"]:
                keys["OWNER" if "operator" in args else "READER"] = r.stdout.strip().splitlines()[-1]
    finally:
        if server is not None:
            server_ctx.__exit__(None, None, None)
            app.state.engine.dispose()
    said = {" ".join(a[:2]): r.stdout for a, r in outputs}
    assert "payload-team" in said["partner list"] and "scientist" in said["partner list"]
    assert "CAM" in said["data payloads"] and "context camera" in said["data payloads"]
    assert f"{LID}::2.0" in said["data upload"] and "sha256" in said["data upload"]
    assert f"{LID}::2.0" in said["data list"]
    assert json.loads(said["data show"])["lid"] == LID
    assert (tmp_path / "copy.IMG").read_bytes() == data_file.read_bytes()
    number = re.search(r"access request (\d+): pending", said["data request-access"]).group(1)
    assert "approve 1" in DOC.read_text() and number == "1"
    assert "access request 1: approved" in said["data approve"]
    assert "public from 2027-12-01T00:00:00Z" in said["data release"]
