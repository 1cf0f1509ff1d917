"""The platform service: FastAPI app over the same database as the CLI (see docs/service.md)."""

from .app import create_app

__all__ = ["create_app"]
