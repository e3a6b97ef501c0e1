"""Phone numbers: register a workspace's caller ids, with their geography derived once.

Country, state, area code and time zones are computed from the number when it is added and
stored, because local-presence caller id matching reads them for every contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ringwise.api.schemas.phone_numbers import PhoneNumberCreate, PhoneNumberUpdate
from ringwise.core.phones import InvalidPhone, describe, parse_e164
from ringwise.db.models import Campaign, PhoneNumber
from ringwise.errors import Conflict, InvalidInput, NotFound
from ringwise.ids import new_id
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

# Campaign states in which a number may be dialed from (now or later): it cannot be deleted.
ACTIVE_CAMPAIGN_STATUSES = ("scheduled", "running", "paused")


def _duplicate(number: str) -> Conflict:
    return Conflict(f"{number} is already in this workspace", field="number")


def create_phone_number(ctx: Ctx, body: PhoneNumberCreate) -> PhoneNumber:
    try:
        e164 = parse_e164(body.number, ctx.workspace.default_region or "US")
    except InvalidPhone as exc:
        raise InvalidInput(f"number: {exc}", field="number") from None
    existing = ctx.session.scalar(select(PhoneNumber.id).where(
        PhoneNumber.workspace_id == ctx.workspace_id, PhoneNumber.number == e164))
    if existing is not None:
        raise _duplicate(e164)
    info = describe(e164)
    phone = PhoneNumber(
        id=new_id(), workspace_id=ctx.workspace_id, number=e164, provider=body.provider,
        label=body.label, cps_limit=body.cps_limit, country=info.country, region=info.region,
        area_code=info.area_code, timezones=list(info.timezones),
        created_at=ctx.now, updated_at=ctx.now,
    )
    ctx.session.add(phone)
    try:
        ctx.session.flush()
    except IntegrityError:
        # A concurrent request added the same number between our check and our insert.
        raise _duplicate(e164) from None
    return phone


def get_phone_number(ctx: Ctx, phone_number_id: str, field: str | None = None) -> PhoneNumber:
    """The workspace's number, or NotFound (also for another workspace's id)."""
    return get_owned(ctx, PhoneNumber, phone_number_id, field)


def get_phone_numbers(ctx: Ctx, ids: Iterable[str], field: str) -> list[PhoneNumber]:
    """Several of the workspace's numbers, in the order given; NotFound names ``field[i]`` of
    the first id that is not this workspace's. For validating a campaign's caller id."""
    wanted = list(ids)
    rows = {p.id: p for p in ctx.session.scalars(select(PhoneNumber).where(
        PhoneNumber.workspace_id == ctx.workspace_id, PhoneNumber.id.in_(set(wanted))))}
    for index, phone_id in enumerate(wanted):
        if phone_id not in rows:
            raise NotFound(f"phone number '{phone_id}' not found", field=f"{field}[{index}]")
    return [rows[i] for i in wanted]


def list_phone_numbers(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
                       search: str | None = None,
                       provider: str | None = None) -> Page[PhoneNumber]:
    query = select(PhoneNumber).where(PhoneNumber.workspace_id == ctx.workspace_id)
    if search and "\x00" in search:
        raise InvalidInput("search: cannot contain the NUL character", field="search")
    if search:
        text = search.strip()
        query = query.where(or_(PhoneNumber.number.contains(text, autoescape=True),
                                PhoneNumber.label.icontains(text, autoescape=True)))
    if provider:
        query = query.where(PhoneNumber.provider == provider)
    return paginate(ctx.session, query, PhoneNumber.created_at, PhoneNumber.id, limit, cursor)


def update_phone_number(ctx: Ctx, phone_number_id: str, body: PhoneNumberUpdate) -> PhoneNumber:
    phone = get_phone_number(ctx, phone_number_id)
    if "label" in body.model_fields_set:
        phone.label = body.label
    if "cps_limit" in body.model_fields_set:
        if body.cps_limit is None:
            raise InvalidInput("cps_limit: cannot be null", field="cps_limit")
        phone.cps_limit = body.cps_limit
    phone.updated_at = ctx.now
    ctx.session.flush()
    return phone


def number_ids_in(caller_id: dict[str, Any] | None) -> set[str]:
    """Every phone number id a campaign's ``caller_id`` section refers to."""
    if not isinstance(caller_id, dict):
        return set()
    return set(_ids(caller_id))


def _ids(caller_id: dict[str, Any]) -> Iterator[str]:
    single = caller_id.get("phone_number_id")
    if isinstance(single, str):
        yield single
    for phone_id in caller_id.get("phone_number_ids") or ():
        if isinstance(phone_id, str):
            yield phone_id
    for step in caller_id.get("dial_plan") or ():
        if isinstance(step, dict) and isinstance(step.get("phone_number_id"), str):
            yield step["phone_number_id"]


def campaigns_using(ctx: Ctx, phone_number_id: str,
                    statuses: Iterable[str] = ACTIVE_CAMPAIGN_STATUSES) -> list[Campaign]:
    # The ids live in a JSON document; a workspace has few live campaigns, so filtering them
    # here is cheaper and more portable (SQLite / PostgreSQL) than a JSON path query.
    campaigns = ctx.session.scalars(
        select(Campaign)
        .where(Campaign.workspace_id == ctx.workspace_id, Campaign.status.in_(list(statuses)))
        .order_by(Campaign.created_at, Campaign.id)
    )
    return [c for c in campaigns if phone_number_id in number_ids_in(c.caller_id)]


def delete_phone_number(ctx: Ctx, phone_number_id: str) -> None:
    """Delete, unless a scheduled, running or paused campaign dials from it (409 naming them)."""
    phone = get_phone_number(ctx, phone_number_id)
    blocking = campaigns_using(ctx, phone.id)
    if blocking:
        names = ", ".join(f"'{c.name}' ({c.status})" for c in blocking[:10])
        more = f" and {len(blocking) - 10} more" if len(blocking) > 10 else ""
        raise Conflict(
            f"{phone.number} is used by campaign(s) {names}{more}; pause and change their "
            "caller id, or complete them, first",
            details={"campaigns": [{"id": c.id, "name": c.name, "status": c.status}
                                   for c in blocking]},
        )
    ctx.session.delete(phone)
    ctx.session.flush()
