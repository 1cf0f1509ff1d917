"""Settings in one place; the database URL decides SQLite or PostgreSQL."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from ``SPACECOMMONS_*`` environment variables (e.g. ``SPACECOMMONS_DATABASE_URL``)."""

    model_config = SettingsConfigDict(env_prefix="SPACECOMMONS_")

    database_url: str = "sqlite:///spacecommons.db"
    cache_dir: str = ".spacecommons-cache"
    data_dir: str = "spacecommons-data"  # content-addressed files of the lunar data exchange
    cesium_dir: str = ".web/node_modules/cesium/Build/Cesium"  # scripts/fetch-web-assets puts CesiumJS here
    space_track_user: str = ""
    space_track_password: str = ""
    # Webhook secrets at rest: "ID:KEY[,ID:OLDKEY...]", the first is current (secrets_box.py).
    secret_key: str = ""
    # Webhook receivers on loopback: local development and tests only (clients/netguard.py).
    webhook_allow_loopback: bool = False
    # Per API key (and per address for anonymous callers): sustained requests per second and burst.
    rate_limit_per_second: float = 20.0
    rate_limit_burst: int = 200
