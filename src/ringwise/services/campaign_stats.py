"""A campaign's statistics, for the API: totals, rates, counters and breakdowns."""

from __future__ import annotations

from collections.abc import Sequence

from ringwise.api.schemas.stats import (
    CampaignStats,
    HourStats,
    OutcomeCounts,
    StatsSummary,
    TagCount,
    counters_of,
    summary_of,
)
from ringwise.db.models import Campaign, Workspace
from ringwise.errors import InvalidInput
from ringwise.results import stats
from ringwise.services.context import Ctx
from ringwise.services.lookup import get_owned


def stats_zone(ctx: Ctx, campaign: Campaign) -> str:
    """The schedule's zone, else the workspace's: the zone of run dates and of by_hour."""
    zone = (campaign.schedule or {}).get("timezone")
    if zone:
        return str(zone)
    workspace = ctx.session.get(Workspace, ctx.workspace_id)
    return workspace.timezone if workspace is not None else "UTC"


def campaign_stats(ctx: Ctx, campaign_id: str, *, run: str | None = None) -> CampaignStats:
    campaign = get_owned(ctx, Campaign, campaign_id)
    zone = stats_zone(ctx, campaign)
    start = end = None
    if run is not None:
        runs = (campaign.schedule or {}).get("runs") or []
        match = next((r for r in runs if r.get("client_run_id") == run), None)
        if match is None:
            known = ", ".join(repr(r["client_run_id"]) for r in runs if r.get("client_run_id"))
            raise InvalidInput(f"run: the campaign has no run '{run}'"
                               + (f" (its runs: {known})" if known else ""), field="run")
        start, end = stats.run_range(match, zone)
    totals = stats.totals(ctx.session, [campaign.id], start=start, end=end)[campaign.id]
    counters = stats.counters(ctx.session, [campaign.id]).get(campaign.id)
    contacts = counters.contacts_total if counters is not None else 0
    analyzed = totals.analyzed
    hours = stats.by_local_hour(ctx.session, campaign.id, zone, start=start, end=end)
    return CampaignStats(
        campaign_id=campaign.id, run=run, range_start=start, range_end=end, timezone=zone,
        **summary_of(totals, contacts),
        average_score=totals.average_score, analyzed_calls=analyzed,
        opted_out=totals.opted_out, talk_seconds=round(totals.talk_seconds, 3),
        cost=round(totals.cost, 4), contacts=contacts,
        attempts_per_contact=(round((counters.calls_total if counters else 0) / contacts, 2)
                              if contacts else None),
        outcomes=OutcomeCounts(answered=totals.answered, voicemail=totals.voicemail,
                               no_answer=totals.no_answer, busy=totals.busy,
                               failed=totals.failed, other=totals.other),
        counters=counters_of(counters),
        by_tag=[TagCount(tag=tag, calls=n, percentage=round(100.0 * n / analyzed, 1)
                         if analyzed else 0.0)
                for tag, n in stats.tag_counts(ctx.session, campaign.id, start=start,
                                               end=end)],
        by_hour=[HourStats(hour=hour, calls=t.calls, answered=t.answered,
                           voicemail=t.voicemail, answer_rate=t.rate(t.answered, t.calls),
                           success=t.success) for hour, t in hours.items()])


def summaries(ctx: Ctx, campaigns: Sequence[Campaign]) -> dict[str, StatsSummary]:
    """The list rows' statistics: one grouped query for the page."""
    ids = [c.id for c in campaigns]
    totals = stats.totals(ctx.session, ids)
    counters = stats.counters(ctx.session, ids)
    return {cid: StatsSummary(**summary_of(
        totals[cid], counters[cid].contacts_total if cid in counters else 0)) for cid in ids}
