"""Process configuration, read from the environment in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///./ringwise.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    default_region: str = "US"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # Webhook URLs that resolve to private, loopback or link-local addresses are refused
    # (SSRF) unless the operator allows them, e.g. for receivers on the same network.
    webhooks_allow_private: bool = False
    # Days the webhook log (events, deliveries, attempts) is kept once every delivery of an
    # event is finished; 0 keeps it forever.
    webhook_retention_days: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("RINGWISE_DATABASE_URL", DEFAULT_DATABASE_URL),
            default_region=env.get("RINGWISE_DEFAULT_REGION", "US").upper(),
            host=env.get("RINGWISE_HOST", "127.0.0.1"),
            port=_port(env.get("RINGWISE_PORT", "8000")),
            log_level=env.get("RINGWISE_LOG_LEVEL", "info").lower(),
            webhooks_allow_private=env.get("RINGWISE_WEBHOOKS_ALLOW_PRIVATE", "").lower()
            in ("1", "true", "yes"),
            webhook_retention_days=_days(env, "RINGWISE_WEBHOOK_RETENTION_DAYS", 30),
        )


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number of days (0: keep forever), not "
                         f"{text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.strip().isdigit() or not 0 < int(text) < 65_536:
        raise ValueError(f"RINGWISE_PORT must be a port number (1-65535), not {text!r}")
    return int(text)
