"""POST /v1/messages/inbound: a text a contact sent to one of the workspace's numbers.

Point the SMS provider's inbound-message webhook (through a small relay that maps its fields)
here: a reply with an opt-out word lists the number on the do-not-call list at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from ringwise.api.routers.base import workspace_router
from ringwise.api.routing import get_ctx
from ringwise.api.schemas.common import ErrorResponse
from ringwise.api.schemas.messages import InboundMessageIn, InboundMessageOut
from ringwise.services import messages
from ringwise.services.context import Ctx

router = workspace_router("/v1/messages", "messages")

_422: dict[int | str, dict[str, Any]] = {422: {
    "model": ErrorResponse,
    "description": "`from` or `to` is not a phone number, or `to` is not a number of this "
                   "workspace (`field` names it)"}}


@router.post("/inbound", response_model=InboundMessageOut, responses=_422,
             summary="Report a text a contact sent (opt-out replies list the number)")
def receive_inbound(body: InboundMessageIn, ctx: Ctx = Depends(get_ctx)) -> InboundMessageOut:
    """A reply containing stop, stopall, quit, end, revoke, opt out, cancel or unsubscribe
    (47 CFR 64.1200(a)(10)) puts the sender on the workspace's do-not-call list now and
    emits `contact.opted_out` (`source`: `sms`); no campaign calls or texts it again. Other
    texts change nothing."""
    result = messages.receive(ctx, body.from_, body.to, body.body)
    return InboundMessageOut(opt_out=result.keyword is not None, keyword=result.keyword,
                             phone=result.phone, newly_listed=result.newly_listed,
                             dnc_entry_id=result.dnc_entry_id)
