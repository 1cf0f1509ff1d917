"""Shared fixtures: paths to real data bundled with the package or copied into tests/data; and a
guard that keeps name resolution on loopback."""

from __future__ import annotations

import ipaddress
import socket
from importlib.resources import files
from pathlib import Path

import pytest

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host, *args, **kwargs):
    """The tests send traffic to 127.0.0.0/8 and ::1 only, and a DNS query is traffic: every name
    but ``localhost`` fails to resolve (address literals resolve without a query). Installed here,
    before any test module imports spacecommons, so that the default resolver bound in the webhook
    checks (``netguard.check_url``, ``create_app``) is this one too; tests that need names give a
    stub resolver (``netguard.fixed_resolver``)."""
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or name == "localhost":
        return _real_getaddrinfo(host, *args, **kwargs)
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        raise socket.gaierror(socket.EAI_NONAME, f"tests resolve no names outside loopback: {name!r}") from None
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only_getaddrinfo

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True, scope="session")
def _cheap_key_hashing():
    """API keys hashed with argon2id at t=1, m=1 MiB, p=1 in this process: the suite issues and checks
    hundreds of keys, and at the deployed parameters (t=3, m=64 MiB, p=4) each hash or verification
    costs ~0.4 s wall, 0.7 CPU s on this 2-core machine. What the tests assert on keys (stored only as
    a hash, one verification per presented key, refusals) does not depend on the cost; the deployed
    parameters are pinned by the tests that take ``real_key_hasher`` (tests/test_security_limits.py),
    and servers started as subprocesses use them."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from spacecommons.service import limits
    from spacecommons.storage import partners_repo

    real = partners_repo.key_hasher
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    partners_repo.key_hasher = lambda: cheap
    limits.dummy_hash.cache_clear()
    yield real
    partners_repo.key_hasher = real
    limits.dummy_hash.cache_clear()


@pytest.fixture
def real_key_hasher(_cheap_key_hashing, monkeypatch):
    """The deployed key hasher (``storage.partners_repo.key_hasher``) for the duration of one test."""
    from spacecommons.service import limits
    from spacecommons.storage import partners_repo

    monkeypatch.setattr(partners_repo, "key_hasher", _cheap_key_hashing)
    limits.dummy_hash.cache_clear()
    yield _cheap_key_hashing
    limits.dummy_hash.cache_clear()


SAMPLE = Path(str(files("spacecommons") / "data" / "sample"))


@pytest.fixture
def iridium_text() -> str:
    """CelesTrak 'iridium-33-debris' group, 2021-10-02 (332 objects, CRLF, name + 2 lines)."""
    return (SAMPLE / "iridium-33-debris_celestrak_2021-10-02.txt").read_text()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend_url(request, tmp_path_factory):
    """A fresh, empty database on each backend: a SQLite file, and a new database on the PostgreSQL
    server that `make test` starts (scripts/test-postgres; URL in SPACECOMMONS_TEST_PG_URL)."""
    import os
    import uuid

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    admin = os.environ.get("SPACECOMMONS_TEST_PG_URL")
    if not admin:
        pytest.skip("no PostgreSQL server: run the suite with `make test` (or set SPACECOMMONS_TEST_PG_URL)")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"sc_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class ServedApp:
    """A FastAPI app served by uvicorn on a free loopback port in a thread (``with ServedApp(app) as url``)."""

    def __init__(self, app) -> None:
        import socket

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
