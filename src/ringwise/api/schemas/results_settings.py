"""Workspace settings for results: the post-call analyzer, call pricing, the reports' SMTP
server. Secrets (the LLM key, the SMTP password) are write-only: reads say whether one is
set."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ringwise.api.schemas.common import Strict
from ringwise.core.costs import DEFAULT_COST_PER_MINUTE
from ringwise.errors import FieldError

_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class LlmSettings(Strict):
    """An OpenAI-compatible chat-completions endpoint (OpenAI, a local vLLM or Ollama...)."""

    base_url: str = Field(max_length=2048, examples=["https://api.openai.com/v1"],
                          description="Up to the /chat/completions part")
    model: str = Field(min_length=1, max_length=255, examples=["gpt-4o-mini"])
    api_key: str | None = Field(default=None, max_length=1000, examples=["sk-..."],
                                description="Write-only; omit to keep the stored key")
    timeout_seconds: float = Field(default=30.0, gt=0, le=600, examples=[30])

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise FieldError("", "must start with http:// or https://")
        return value


class ResultsSettingsUpdate(Strict):
    """Replaces the stored results settings (a secret omitted keeps its stored value)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"analyzer": "llm", "cost_per_minute": 0.05,
         "llm": {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini",
                 "api_key": "sk-..."}}]})

    analyzer: Literal["offline", "llm"] = Field(
        default="offline", description="offline: deterministic keyword analyzer, no network; "
                                       "llm: the chat-completions endpoint in llm")
    llm: LlmSettings | None = None
    cost_per_minute: float = Field(default=DEFAULT_COST_PER_MINUTE, ge=0, le=100,
                                   examples=[0.05],
                                   description="Estimate per started minute of answered time")

    @model_validator(mode="after")
    def _llm(self) -> ResultsSettingsUpdate:
        if self.analyzer == "llm" and self.llm is None:
            raise FieldError("llm", "the llm analyzer needs llm.base_url and llm.model")
        return self


class LlmSettingsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"base_url": "https://api.openai.com/v1", "model": "gpt-4o-mini", "api_key_set": True,
         "timeout_seconds": 30.0}]})

    base_url: str
    model: str
    api_key_set: bool
    timeout_seconds: float


class ResultsSettingsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"analyzer": "offline", "llm": None, "cost_per_minute": 0.05}]})

    analyzer: Literal["offline", "llm"]
    llm: LlmSettingsOut | None = None
    cost_per_minute: float


class EmailSettingsUpdate(Strict):
    """The SMTP server scheduled reports are sent through (replaces the stored one; a password
    omitted keeps the stored one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"host": "smtp.example.com", "port": 587, "security": "starttls",
         "username": "reports@example.com", "password": "app-password",
         "from_address": "reports@example.com"}]})

    host: str = Field(min_length=1, max_length=255, examples=["smtp.example.com"])
    port: int = Field(default=587, ge=1, le=65535, examples=[587])
    security: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="starttls (port 587), tls (implicit, 465), none")
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1000,
                                 description="Write-only; omit to keep the stored one")
    from_address: str = Field(max_length=255, pattern=_EMAIL_PATTERN,
                              examples=["reports@example.com"])
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)


class EmailSettingsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"host": "smtp.example.com", "port": 587, "security": "starttls",
         "username": "reports@example.com", "password_set": True,
         "from_address": "reports@example.com", "timeout_seconds": 30.0}]})

    host: str
    port: int
    security: str
    username: str | None = None
    password_set: bool
    from_address: str
    timeout_seconds: float


def results_out(stored: dict[str, Any] | None) -> ResultsSettingsOut:
    data = dict(stored or {})
    llm = data.get("llm")
    return ResultsSettingsOut(
        analyzer=data.get("analyzer") or "offline",
        cost_per_minute=float(data.get("cost_per_minute", DEFAULT_COST_PER_MINUTE)),
        llm=None if not llm else LlmSettingsOut(
            base_url=llm["base_url"], model=llm["model"], api_key_set=bool(llm.get("api_key")),
            timeout_seconds=float(llm.get("timeout_seconds") or 30.0)))


def email_out(stored: dict[str, Any] | None) -> EmailSettingsOut | None:
    if not stored:
        return None
    return EmailSettingsOut(**{k: v for k, v in stored.items() if k != "password"},
                            password_set=bool(stored.get("password")))


def merged_secret(new: dict[str, Any], old: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """``new`` with the stored secret ``key`` kept when the update left it out."""
    if new.get(key) is None and old and old.get(key):
        new[key] = old[key]
    return new
