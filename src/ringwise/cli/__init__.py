"""The ``ringwise`` command."""

from __future__ import annotations

from ringwise.cli.main import app

__all__ = ["app"]
