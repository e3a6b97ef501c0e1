"""Contact lists: named sets of a workspace's contacts (a contact may be in many lists).

``contact_list_members`` carries no workspace id, so every membership write first checks that
the list *and* each contact belong to the caller's workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ringwise.api.schemas.contact_lists import ContactListCreate, ContactListUpdate
from ringwise.db.models import ContactList, ContactListMember
from ringwise.ids import new_id
from ringwise.services.contacts import owned_contact_ids
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned
from ringwise.services.pagination import Page, paginate

_CHUNK = 5_000


def create_list(ctx: Ctx, body: ContactListCreate) -> ContactList:
    contact_list = ContactList(id=new_id(), workspace_id=ctx.workspace_id, name=body.name,
                               description=body.description, created_at=ctx.now,
                               updated_at=ctx.now)
    ctx.session.add(contact_list)
    ctx.session.flush()
    return contact_list


def get_list(ctx: Ctx, list_id: str, field: str | None = "list_id") -> ContactList:
    return get_owned(ctx, ContactList, list_id, field)


def list_lists(ctx: Ctx, *, limit: int = 50, cursor: str | None = None,
               search: str | None = None) -> Page[ContactList]:
    query = select(ContactList).where(ContactList.workspace_id == ctx.workspace_id)
    if search and search.strip():
        term = search.strip()
        query = query.where(or_(ContactList.name.icontains(term, autoescape=True),
                                ContactList.description.icontains(term, autoescape=True)))
    return paginate(ctx.session, query, ContactList.created_at, ContactList.id, limit, cursor)


def update_list(ctx: Ctx, list_id: str, body: ContactListUpdate) -> ContactList:
    contact_list = get_list(ctx, list_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        setattr(contact_list, name, value)
    contact_list.updated_at = ctx.now
    ctx.session.flush()
    return contact_list


def delete_list(ctx: Ctx, list_id: str) -> None:
    """Delete the list (its memberships go with it; the contacts stay)."""
    contact_list = get_list(ctx, list_id)
    ctx.session.execute(delete(ContactListMember).where(ContactListMember.list_id == list_id))
    ctx.session.delete(contact_list)
    ctx.session.flush()


def member_counts(ctx: Ctx, list_ids: Sequence[str]) -> dict[str, int]:
    """Contacts per list, for the given (already authorised) lists, in one query."""
    if not list_ids:
        return {}
    rows = ctx.session.execute(
        select(ContactListMember.list_id, func.count())
        .where(ContactListMember.list_id.in_(list(list_ids)))
        .group_by(ContactListMember.list_id))
    counts = {list_id: 0 for list_id in list_ids}
    counts.update({list_id: int(count) for list_id, count in rows})
    return counts


def _existing_members(ctx: Ctx, list_id: str, contact_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(contact_ids), _CHUNK):
        found.update(ctx.session.scalars(select(ContactListMember.contact_id).where(
            ContactListMember.list_id == list_id,
            ContactListMember.contact_id.in_(contact_ids[start:start + _CHUNK]))))
    return found


def _insert_ignoring_duplicates(ctx: Ctx) -> Any:
    # A concurrent request may add the same contact between our check and our insert.
    if ctx.session.get_bind().dialect.name == "postgresql":
        return pg_insert(ContactListMember).on_conflict_do_nothing()
    return sqlite_insert(ContactListMember).on_conflict_do_nothing()


def add_contacts(ctx: Ctx, list_id: str, contact_ids: Sequence[str],
                 field: str = "contact_ids") -> int:
    """Add the workspace's contacts to the list; how many were not members yet. A contact id
    that is not this workspace's is a NotFound naming ``field[i]``, and nothing is added."""
    contact_list = get_list(ctx, list_id)
    wanted = owned_contact_ids(ctx, contact_ids, field)
    new = [c for c in wanted if c not in _existing_members(ctx, list_id, wanted)]
    if new:
        ctx.session.execute(_insert_ignoring_duplicates(ctx),
                            [{"list_id": list_id, "contact_id": c} for c in new])
        contact_list.updated_at = ctx.now
    ctx.session.flush()
    return len(new)


def remove_contacts(ctx: Ctx, list_id: str, contact_ids: Sequence[str],
                    field: str = "contact_ids") -> int:
    """Take the workspace's contacts out of the list; how many were members."""
    contact_list = get_list(ctx, list_id)
    wanted = owned_contact_ids(ctx, contact_ids, field)
    removed = 0
    for start in range(0, len(wanted), _CHUNK):
        result = ctx.session.execute(delete(ContactListMember).where(
            ContactListMember.list_id == list_id,
            ContactListMember.contact_id.in_(wanted[start:start + _CHUNK])))
        removed += int(getattr(result, "rowcount", 0) or 0)
    if removed:
        contact_list.updated_at = ctx.now
    ctx.session.flush()
    return removed
