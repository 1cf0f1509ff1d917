"""Shared fixtures: paths to real data bundled with the package or copied into tests/data."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
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
