from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringwise.core import templates
from ringwise.core.templates import TemplateError, check, is_known_variable, render, variables_in
from ringwise.db.models import Contact

# Text without braces: the literal parts of a template.
literal = st.text(st.characters(blacklist_characters="{}", blacklist_categories=["Cs"]),
                  max_size=30)
known_name = st.one_of(
    st.sampled_from(sorted(templates.CONTACT_FIELDS)),
    st.builds(lambda root, key: f"{root}.{key}", st.sampled_from(["custom_fields", "metadata"]),
              st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,12}", fullmatch=True)),
)
spaces = st.sampled_from(["", " ", "  "])
value = st.one_of(st.none(), st.text(max_size=20), st.integers(), st.booleans())


def _expected(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def test_render_basic() -> None:
    contact = {"first_name": "Ada", "company": "Acme", "custom_fields": {"plan": "Gold"}}
    text = "Hi {{first_name}} from {{ company }}, your {{custom_fields.plan}} plan"
    assert render(text, contact) == "Hi Ada from Acme, your Gold plan"
    assert variables_in(text) == {"first_name", "company", "custom_fields.plan"}


def test_unresolved_variables_render_empty() -> None:
    text = "Hi {{first_name}}{{last_name}}, {{custom_fields.missing}}{{metadata.a.b}}!"
    assert render(text, {"first_name": "Ada", "last_name": None, "metadata": {"a": 1}}) \
        == "Hi Ada, !"


def test_flat_dotted_key_wins_over_nested_lookup() -> None:
    variables = {"custom_fields.plan": "flat", "custom_fields": {"plan": "nested"}}
    assert render("{{custom_fields.plan}}", variables) == "flat"
    assert render("{{ metadata.deal.stage }}", {"metadata": {"deal": {"stage": "won"}}}) == "won"


def test_values_are_not_rescanned() -> None:
    # A contact's data is never interpreted as a template (no injection of variables).
    assert render("{{first_name}}", {"first_name": "{{email}}", "email": "x@y"}) == "{{email}}"


@pytest.mark.parametrize("bad", [
    "Hi {{first_name", "Hi first_name}}", "Hi {first_name}", "{{}}", "{{  }}",
    "{{{first_name}}}", "{{ {{first_name}} }}", "{{first name}}", "{{first_name.}}",
    "{{.x}}", "{{custom_fields..x}}", "Hi }",
])
def test_malformed_braces(bad: str) -> None:
    with pytest.raises(TemplateError):
        variables_in(bad)
    with pytest.raises(TemplateError):
        render(bad, {})


def test_malformed_reports_position() -> None:
    with pytest.raises(TemplateError) as info:
        variables_in("Hello {{first_name")
    assert info.value.position == 6
    assert "never closed" in info.value.message


@pytest.mark.parametrize("name", ["first_name", "utm_campaign", "phone", "timezone",
                                  "custom_fields.plan", "metadata.crm_id", "metadata.a.b"])
def test_known_variables(name: str) -> None:
    assert is_known_variable(name)
    assert check("{{" + name + "}}") == {name}


@pytest.mark.parametrize("name", ["frist_name", "First_Name", "custom_fields", "metadata",
                                  "utm_foo", "contact.first_name", "name"])
def test_unknown_variables(name: str) -> None:
    assert not is_known_variable(name)
    with pytest.raises(TemplateError) as info:
        check("Hi {{" + name + "}}")
    assert info.value.variable == name
    assert f"'{{{{{name}}}}}'" in info.value.message


def test_contact_fields_exist_on_the_contact_model() -> None:
    # Every directly named variable must be a real contact column, or it could never resolve.
    columns = set(Contact.__table__.columns.keys())
    assert columns >= templates.CONTACT_FIELDS
    assert {c for c in columns if c.startswith("utm_")} <= templates.CONTACT_FIELDS


@given(literal)
def test_text_without_braces_renders_as_itself(text: str) -> None:
    assert variables_in(text) == set()
    assert render(text, {"first_name": "x"}) == text


@given(st.lists(st.tuples(literal, known_name, spaces, value), max_size=6), literal)
def test_render_substitutes_every_variable(parts: list[tuple[str, str, str, object]],
                                           tail: str) -> None:
    template = "".join(f"{lit}{{{{{pad}{name}{pad}}}}}" for lit, name, pad, _ in parts) + tail
    # Flat keys, so each occurrence resolves to the value given for its name (last one wins).
    variables = {name: v for _, name, _, v in parts}
    expected = "".join(lit + _expected(variables[name]) for lit, name, _, _ in parts) + tail
    assert variables_in(template) == {name for _, name, _, _ in parts}
    assert check(template) == variables_in(template)
    assert render(template, variables) == expected


@given(st.lists(st.tuples(literal, known_name), max_size=5), literal)
def test_unresolved_render_equals_stripping_the_variables(parts: list[tuple[str, str]],
                                                          tail: str) -> None:
    template = "".join(f"{lit}{{{{{name}}}}}" for lit, name in parts) + tail
    assert render(template, {}) == "".join(lit for lit, _ in parts) + tail


@given(literal, st.sampled_from(["{", "}", "{{", "}}", "{{{", "{{ }}"]), literal)
def test_stray_braces_are_always_rejected(head: str, brace: str, tail: str) -> None:
    with pytest.raises(TemplateError):
        variables_in(head + brace + tail)
