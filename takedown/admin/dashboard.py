"""The dashboard's filters (from the query string), its charts and its CSV export.

The filters are `stats.Filters` (period, artist, platform, route); a value that cannot be read
is left out and said in a message beside the form, never a 500. The chosen filters travel in
every link of the page (the export, the agency choice), so what is exported is what is shown.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext

from takedown import charts, stats
from takedown.admin.display import duration, escalation, percent_of
from takedown.choices import LegalRoute
from takedown.exporting import safe_cell
from takedown.models import Agency, Artist, Platform

FILTER_KEYS = ("since", "until", "artist", "platform", "route")


@dataclass
class Chosen:
    filters: stats.Filters
    values: dict[str, str]  # what the form shows and the links carry (only what was understood)
    errors: list[str] = field(default_factory=list)
    artists: list[Artist] = field(default_factory=list)
    platforms: list[Platform] = field(default_factory=list)

    def query(self, **extra: str) -> str:
        pairs = {**{k: v for k, v in self.values.items() if v}, **{k: v for k, v in extra.items() if v}}
        return urlencode(pairs)


def _date(raw: str, label: str, errors: list[str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors.append(
            gettext("%(field)s: “%(value)s” is not a date (YYYY-MM-DD); it was left out.")
            % {"field": label, "value": raw[:40]}
        )
        return None


def _pk(raw: str, allowed: dict[int, object], label: str, errors: list[str]) -> int | None:
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError:
        pk = None
    if pk is None or pk not in allowed:
        errors.append(
            gettext("%(field)s: no such choice (“%(value)s”); it was left out.")
            % {"field": label, "value": raw[:40]}
        )
        return None
    return pk


def parse_filters(query: QueryDict, agency: Agency) -> Chosen:
    """The filters the query string asks for, each checked against what the agency has."""
    errors: list[str] = []
    artists = list(Artist.objects.filter(agency=agency).order_by("name"))
    platforms = list(Platform.objects.order_by("name"))
    since = _date(query.get("since", ""), gettext("From"), errors)
    until = _date(query.get("until", ""), gettext("Until"), errors)
    if since and until and since > until:
        errors.append(gettext("The period ends before it starts; it was left out."))
        since = until = None
    artist = _pk(query.get("artist", ""), {a.pk: a for a in artists}, gettext("Artist"), errors)
    platform = _pk(query.get("platform", ""), {p.pk: p for p in platforms}, gettext("Platform"), errors)
    route = query.get("route", "")
    if route and route not in LegalRoute.values:
        errors.append(
            gettext("%(field)s: no such choice (“%(value)s”); it was left out.")
            % {"field": gettext("Legal route"), "value": route[:40]}
        )
        route = ""
    values = {
        "agency": query.get("agency", "")[:80],
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "artist": str(artist or ""),
        "platform": str(platform or ""),
        "route": route,
    }
    return Chosen(
        filters=stats.Filters(
            since=since, until=until, artist=artist, platform=platform, route=route or None
        ),
        values=values,
        errors=errors,
        artists=artists,
        platforms=platforms,
    )


def _name(row: dict) -> str:
    # A URL on no registered platform is grouped under no slug; its label is ours to translate.
    if "platform" in row and row["platform"] is None:
        return gettext("Other")
    return row.get("name", "")


def _dress(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["label"] = _name(row)
        row["median_display"] = duration(row["median_seconds_to_removal"])
        row["p90_display"] = duration(row["p90_seconds_to_removal"])
    return rows


def page_context(figures: dict, chosen: Chosen) -> dict:
    for key in ("platforms", "legal_routes", "artists"):
        _dress(figures[key])
    _dress([figures["overall"]])
    for url in figures["overdue"]:
        url["escalation_display"] = escalation(url["escalation"])
    trend = figures["weekly"]
    notified = [p for p in figures["platforms"] if p["notified"]]
    return {
        "figures": figures,
        "overdue": figures["overdue"],
        "chosen": chosen,
        "filter_errors": chosen.errors,
        "routes": LegalRoute.choices,
        "export_query": chosen.query(),
        "filtered": any(chosen.values[k] for k in FILTER_KEYS),
        "trend_chart": charts.weekly_bars(
            [w[5:] for w in trend["weeks"]],
            {gettext("New URLs"): trend["new_urls"], gettext("Removals"): trend["removals"]},
            title=gettext("Per week, last 12 weeks"),
        ),
        "rate_chart": charts.horizontal_bars(
            [(p["label"], p["rate_percent"], percent_of(p["rate_percent"], p["notified"])) for p in notified],
            title=gettext("Removal rate per platform"),
            maximum=100,
        ),
        "speed_chart": charts.horizontal_bars(
            [(p["label"], p["median_seconds_to_removal"], p["median_display"]) for p in notified],
            title=gettext("Median time to removal per platform"),
        ),
    }


HEADER = ("group", "name", "urls", "notified", "removed", "removal_rate", "median_hours", "p90_hours",
          "live", "overdue", "reuploads")  # fmt: skip


def csv_response(figures: dict, chosen: Chosen) -> HttpResponse:
    """The overall row and the per platform / route / artist tables, hours as numbers."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="takedown-dashboard-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["# filters", chosen.query() or "none"])
    writer.writerow(HEADER)
    groups = [("overall", [figures["overall"]])] + [
        (name, figures[key])
        for name, key in (("platform", "platforms"), ("route", "legal_routes"), ("artist", "artists"))
    ]
    for group, rows in groups:
        for row in rows:
            name = "" if group == "overall" else _name(row)
            writer.writerow(
                [group, safe_cell(name), row["urls"], row["notified"], row["removed"],
                 "" if row["removal_rate"] is None else row["removal_rate"],
                 "" if row["median_hours"] is None else row["median_hours"],
                 "" if row["p90_hours"] is None else row["p90_hours"],
                 row["live"], row["overdue"], row["reuploads"]]
            )  # fmt: skip
    return response
