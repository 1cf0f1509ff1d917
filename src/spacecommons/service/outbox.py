"""The server's side of webhook delivery: its secret key, sealing stored secrets at start, and
the delivery loop (``workflows.alerts.Outbox``) in a background thread.

The server key is ``SPACECOMMONS_SECRET_KEY`` (``ID:KEY[,ID:OLDKEY...]``, ``secrets_box``). When it
is not set, a key is generated once per data directory into ``<data_dir>.secret-key`` beside it
(mode 0600; beside, not inside, so the content-addressed store holds only blobs) and the log says
so: webhooks keep working on a fresh install, and secrets are still sealed in the database (a dump
alone does not reveal them); the key file must then be backed up with the data directory, and
moved to the setting for a deployment.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from ..secrets_box import SecretBox, new_key
from ..timescales import as_utc
from ..workflows.alerts import Outbox, Sender, seal_stored_secrets

log = logging.getLogger("spacecommons.service")

KEY_SUFFIX = ".secret-key"
GENERATED_KEY_ID = "local"


def key_file(data_dir: str | Path) -> Path:
    """Where the generated key of a data directory lives: ``<data_dir>.secret-key``."""
    d = Path(data_dir).resolve()
    return d.with_name(d.name + KEY_SUFFIX)


def server_secret_box(setting: str, data_dir: str | Path) -> SecretBox:
    """The box for webhook secrets: from the setting, or from (a new) key file beside ``data_dir``."""
    if setting.strip():
        return SecretBox.from_setting(setting)
    path = key_file(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"{GENERATED_KEY_ID}:{new_key()}\n")
            f.flush()
            os.fsync(f.fileno())
        log.warning(
            "SPACECOMMONS_SECRET_KEY is not set: generated a server key for webhook secrets in %s "
            "(back it up with the data directory; for a deployment set SPACECOMMONS_SECRET_KEY to its content)",
            path,
        )
    return SecretBox.from_setting(path.read_text().strip())


def seal_at_start(session_maker: sessionmaker, box: SecretBox) -> None:
    """Seal clear-text webhook secrets and re-seal old-key tokens; say what was done."""
    report = seal_stored_secrets(session_maker, box)
    if report.sealed or report.resealed:
        log.info("webhook secrets: %d sealed, %d re-sealed under key %s", report.sealed, report.resealed, box.current)
    if report.unopenable:
        log.warning(
            "webhook secrets of webhooks %s do not open with the configured keys: their deliveries fail "
            "until the partner rotates the secret",
            report.unopenable,
        )


def delivery_loop(
    session_maker: sessionmaker,
    box: SecretBox,
    send: Sender,
    clock: Callable[[], datetime],
    stop: threading.Event,
    every_s: float = 1.0,
) -> None:
    """Claim and queue due alerts every ``every_s`` until ``stop``; sends run on the outbox's pool."""
    outbox = Outbox(session_maker, box, send)
    try:
        while not stop.wait(every_s):
            try:
                outbox.deliver_due(as_utc(clock()))
            except Exception:  # noqa: BLE001 - a database hiccup: the next round tries again
                log.exception("webhook delivery round failed")
    finally:
        outbox.close()
