"""python manage.py contacts HOST_OR_URL [--again] [--json]  |  contacts --refresh  |  contacts --data"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.timezone import localtime

from takedown.contacts import services
from takedown.errors import Invalid


class Command(BaseCommand):
    help = (
        "Print who can take a site's content down: its addresses, CDN, the network's abuse contact "
        "(RDAP), the registrar's abuse contact, the site's security.txt, each with its source. "
        "Cached per host; --again asks again. --refresh downloads the IANA RDAP bootstrap files "
        "and the CDN ranges; --data says which copies are in use."
    )

    def add_arguments(self, parser):
        parser.add_argument("target", nargs="?", help="a host name or a URL")
        parser.add_argument("--again", action="store_true", help="ignore the cached lookup")
        parser.add_argument("--json", action="store_true", help="print the lookup as JSON")
        parser.add_argument(
            "--refresh", action="store_true", help="download the bootstrap files and CDN ranges"
        )
        parser.add_argument("--data", action="store_true", help="show the bootstrap files' publication dates")

    def handle(self, *args, target=None, again=False, json=False, refresh=False, data=False, **options):
        if refresh:
            for name, outcome in services.data_refresh().items():
                self.stdout.write(f"{name}: {outcome}")
            return
        if data:
            self._data()
            return
        if not target:
            raise CommandError("Give a host name or a URL (or --refresh, --data).")
        try:
            lookup = services.host_discover(target=target, force=again)
        except Invalid as exc:
            raise CommandError(str(exc)) from None
        contacts = services.host_contacts(lookup.host)
        if json:
            self.stdout.write(_as_json(lookup, contacts))
            return
        self._print(lookup, contacts)

    def _data(self) -> None:
        boot = services.bootstrap_data()
        where = boot.directory or "shipped copy"
        for kind, published in boot.published.items():
            self.stdout.write(f"{kind}.json: published {published or '(not stated)'}")
        for cdn in boot.cdns:
            self.stdout.write(
                f"{cdn.name} ranges: {len(cdn.networks)}, as listed {cdn.published} ({cdn.source})"
            )
        self.stdout.write(f"from: {where} (files missing there come from the shipped copy)")

    def _print(self, lookup, contacts) -> None:
        w = self.stdout.write
        w(
            f"{lookup.host}  looked up {localtime(lookup.looked_up_at):%Y-%m-%d %H:%M} (cached until {localtime(lookup.expires_at):%Y-%m-%d %H:%M})"
        )
        w(f"addresses: {', '.join(lookup.addresses) or '-'}")
        w("asked:")
        for step in lookup.steps:
            digest = f" sha256:{step['sha256'][:16]}" if step.get("sha256") else ""
            w(f"  {step['source']:<13} {step['outcome']:<8} {step['detail']}  {step['url']}{digest}")
        w("contacts, in the order notices go:")
        if not contacts:
            w("  none known: add one in the admin (Abuse contacts)")
        for c in contacts:
            where = c.email or c.url
            origin = f"{c.get_source_display()}" + (f" {c.source_url}" if c.source_url else "")
            w(f"  {c.get_rung_display()}: {c.name} <{where}>  [{origin}]")


def _as_json(lookup, contacts) -> str:
    return json.dumps(
        {
            "host": lookup.host,
            "addresses": lookup.addresses,
            "looked_up_at": lookup.looked_up_at.isoformat(),
            "steps": lookup.steps,
            "contacts": [
                {
                    "rung": c.rung,
                    "name": c.name,
                    "email": c.email,
                    "url": c.url,
                    "source": c.source,
                    "source_url": c.source_url,
                    "raw_sha256": c.raw_sha256,
                    "found_at": c.found_at.isoformat(),
                }
                for c in contacts
            ],
        },
        indent=2,
    )
