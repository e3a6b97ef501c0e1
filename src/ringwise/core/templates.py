"""Message templates: ``"Hi {{first_name}}, this is Ava from {{custom_fields.brand}}"``.

Pure functions, no I/O. The grammar is deliberately small, because these texts are spoken:

- ``{{ name }}`` inserts a variable; spaces inside the braces are ignored.
- A name is a contact field (``first_name``, ``phone``, ``utm_source``, ...) or a path into a
  contact's free-form data: ``custom_fields.<key>`` or ``metadata.<key>`` (``<key>`` may itself
  be dotted to reach into nested objects).
- Any other brace is malformed: a lone ``{`` or ``}``, an unclosed ``{{``, ``{{}}``, nesting.
  A spoken message has no use for literal braces, and a stray one is nearly always a typo.

Templates are checked when they are written (``check``), so that an unknown variable is an
error for the author, not silence for the callee. At render time a variable that has no value
for this contact (missing, null, or a custom key the contact lacks) renders as the empty string:
one contact's sparse data must not stop a campaign.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Contact columns a template may name directly (the Contact model's fields).
CONTACT_FIELDS: frozenset[str] = frozenset({
    "first_name", "last_name", "email", "company", "job_title", "address", "city", "state",
    "country", "postal_code", "timezone", "phone",
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
})
# Roots of free-form contact data: ``custom_fields.<key>``, ``metadata.<key>``.
PATH_ROOTS: frozenset[str] = frozenset({"custom_fields", "metadata"})

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*")
_TOKEN = re.compile(r"\{\{|\}\}|[{}]")


class TemplateError(ValueError):
    """A template is malformed or names an unknown variable. ``position`` is a 0-based offset
    into the template (None when the problem is not at one place)."""

    def __init__(self, message: str, position: int | None = None,
                 variable: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Variable:
    name: str


Segment = str | Variable


@lru_cache(maxsize=1024)
def parse(template: str) -> tuple[Segment, ...]:
    """Split a template into literal text and variables; raise TemplateError if malformed.

    Cached: the dialer renders the same few templates for every contact of a campaign.
    """
    segments: list[Segment] = []
    pos = 0
    while True:
        match = _TOKEN.search(template, pos)
        if match is None:
            break
        token, start = match.group(), match.start()
        if token != "{{":
            raise TemplateError(
                f"unexpected '{token}' at position {start}; variables are written "
                "{{name}}", start)
        close = template.find("}}", match.end())
        if close < 0:
            raise TemplateError(f"'{{{{' at position {start} is never closed with '}}}}'", start)
        inner = template[match.end():close]
        if "{" in inner or "}" in inner:
            raise TemplateError(f"malformed variable at position {start}: braces cannot nest",
                                start)
        name = inner.strip()
        if not name:
            raise TemplateError(f"empty variable '{{{{}}}}' at position {start}", start)
        if not _NAME.fullmatch(name):
            raise TemplateError(f"'{name}' at position {start} is not a variable name", start,
                                name)
        if start > pos:
            segments.append(template[pos:start])
        segments.append(Variable(name))
        pos = close + 2
    if pos < len(template):
        segments.append(template[pos:])
    return tuple(segments)


def variables_in(template: str) -> set[str]:
    """The variable names a template uses; raises TemplateError if it is malformed."""
    return {s.name for s in parse(template) if isinstance(s, Variable)}


def is_known_variable(name: str) -> bool:
    """A contact field, or ``custom_fields.<key>`` / ``metadata.<key>``."""
    if name in CONTACT_FIELDS:
        return True
    root, dot, rest = name.partition(".")
    return bool(dot) and root in PATH_ROOTS and bool(rest)


def check(template: str) -> set[str]:
    """Validate a template for storage: well-formed and every variable known. Returns the
    variables; raises TemplateError naming the first unknown one (in order of appearance)."""
    for segment in parse(template):
        if isinstance(segment, Variable) and not is_known_variable(segment.name):
            raise TemplateError(
                f"unknown variable '{{{{{segment.name}}}}}': use a contact field "
                f"({', '.join(sorted(CONTACT_FIELDS))}) or custom_fields.<key> / metadata.<key>",
                variable=segment.name)
    return variables_in(template)


def render(template: str, variables: Mapping[str, Any]) -> str:
    """Fill a template. ``variables`` is a contact-shaped mapping: a dotted name is looked up
    as a flat key first, then by walking nested mappings (``custom_fields`` -> ``brand``).
    Missing and null values render as ''; booleans as 'true' / 'false'."""
    parts: list[str] = []
    for segment in parse(template):
        if isinstance(segment, str):
            parts.append(segment)
        else:
            parts.append(_text(_lookup(variables, segment.name)))
    return "".join(parts)


def _lookup(variables: Mapping[str, Any], name: str) -> Any:
    if name in variables:
        return variables[name]
    value: Any = variables
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
