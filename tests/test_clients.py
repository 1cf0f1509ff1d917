"""Live-data clients against a fake server on loopback (tests never reach the internet):
caching, rate limits, Space-Track login, clear errors."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from spacecommons.catalog import read_elements
from spacecommons.clients import CelesTrakClient, ClientError, FileCache, PoliteRequestPacer, SpaceTrackClient

from .conftest import DATA, SAMPLE

IRIDIUM = (SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt").read_text()
OMM_XML = (DATA / "celestrak_omm_sample.xml").read_text()


class Fake(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, code: int, body: str, headers: dict | None = None) -> None:
        data = body.encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        Fake.hits.append(self.path)
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/NORAD/elements/gp.php":
            if q.get("GROUP") == ["iridium-33-debris"] and q.get("FORMAT") == ["3le"]:
                return self._send(200, IRIDIUM)
            if q.get("CATNR") == ["45018"] and q.get("FORMAT") == ["xml"]:
                return self._send(200, OMM_XML)
            return self._send(200, "No GP data found")
        if url.path.startswith("/basicspacedata/query/"):
            if "chocolatechip=ok" not in (self.headers.get("Cookie") or ""):
                return self._send(401, "not logged in")
            return self._send(200, OMM_XML)
        if url.path == "/ajaxauth/logout":
            return self._send(200, "bye")
        return self._send(404, "nope")

    def do_POST(self) -> None:  # noqa: N802
        Fake.hits.append(self.path)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = parse_qs(body)
        if form.get("identity") == ["analyst@example.org"] and form.get("password") == ["s3cret"]:
            return self._send(200, "", {"Set-Cookie": "chocolatechip=ok; Path=/"})
        return self._send(200, '{"Login":"Failed"}')


@pytest.fixture
def server():
    Fake.hits = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_celestrak_group_is_fetched_once_then_served_from_cache(server, tmp_path):
    clock = FakeClock()
    client = CelesTrakClient(
        server,
        cache=FileCache(tmp_path, 7200.0, clock=clock),
        limiter=PoliteRequestPacer([(1, 2.0)], clock, clock.sleep),
    )
    body = client.gp("GROUP", "iridium-33-debris", "3le")
    again = client.gp("GROUP", "iridium-33-debris", "3le")
    assert body == again
    assert len(read_elements("celestrak", body).records) == 332
    assert len([h for h in Fake.hits if "gp.php" in h]) == 1
    clock.now += 7201.0  # CelesTrak updates every 2 h: after that the cache is stale
    client.gp("GROUP", "iridium-33-debris", "3le")
    assert len([h for h in Fake.hits if "gp.php" in h]) == 2


def test_celestrak_empty_answer_is_a_clear_error(server, tmp_path):
    client = CelesTrakClient(server, cache=FileCache(tmp_path, 7200.0))
    with pytest.raises(ClientError, match="no GP data for CATNR=99999999"):
        client.gp("CATNR", 99999999)
    with pytest.raises(ValueError, match="format"):
        client.gp("CATNR", 25544, "yaml")


def test_rate_limiter_holds_space_track_limits_without_real_waiting():
    clock = FakeClock()
    limiter = PoliteRequestPacer([(30, 60.0), (300, 3600.0)], clock, clock.sleep)
    for _ in range(30):
        limiter.wait()
    assert clock.slept == []
    limiter.wait()  # the 31st request in a minute waits for the window to slide
    assert clock.slept and abs(sum(clock.slept) - 60.0) < 1e-9
    for _ in range(300):
        limiter.wait()
    # never more than 300 in any hour, never more than 30 in any minute
    times = sorted(limiter.history)
    assert all(b - a >= 3600.0 for a, b in zip(times, times[300:], strict=False))
    assert all(b - a >= 60.0 for a, b in zip(times, times[30:], strict=False))


def test_space_track_logs_in_queries_and_caches(server, tmp_path):
    clock = FakeClock()
    client = SpaceTrackClient(
        "analyst@example.org",
        "s3cret",
        server,
        cache=FileCache(tmp_path, 3600.0, clock=clock),
        limiter=PoliteRequestPacer([(30, 60.0), (300, 3600.0)], clock, clock.sleep),
    )
    body = client.gp([45018], fmt="xml")
    assert read_elements("st", body).records[0].norad_id == 45018
    client.gp([45018], fmt="xml")
    assert Fake.hits.count("/ajaxauth/login") == 1
    assert sum(h.startswith("/basicspacedata") for h in Fake.hits) == 1
    client.close()


def test_space_track_refused_login_does_not_leak_the_password(server):
    client = SpaceTrackClient("analyst@example.org", "wrong-password", server)
    with pytest.raises(ClientError) as info:
        client.gp([25544])
    assert "refused" in str(info.value) and "wrong-password" not in str(info.value)
    with pytest.raises(ClientError, match="SPACE_TRACK_USER"):
        SpaceTrackClient("", "", server)


def test_cli_fetch_stores_celestrak_data(server, sqlite_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from spacecommons.cli.main import app

    monkeypatch.setenv("SPACECOMMONS_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(
        app,
        [
            "catalog",
            "fetch",
            "celestrak",
            "--catnr",
            "45018",
            "--format",
            "xml",
            "--base-url",
            server,
            "--database-url",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 new element sets" in result.output
    missing = CliRunner().invoke(
        app, ["catalog", "fetch", "celestrak", "--catnr", "1", "--base-url", server, "--database-url", sqlite_url]
    )
    assert missing.exit_code == 1 and "no GP data" in missing.output
