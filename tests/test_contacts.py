"""Abuse-contact discovery against loopback registries and sites: RDAP (ARIN, APNIC, KRNIC and a
registrar's domain answer), security.txt, CDN ranges, misbehaving servers, and the SSRF canary."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from takedown.contacts import bootstrap, discovery
from takedown.probing import ProbeConfig
from tests.probe_servers import StubResolver, canary
from tests.rdap_servers import (
    SECURITY_TXT,
    SECURITY_TXT_EXPIRES,
    Registry,
    Reply,
    apnic_network,
    arin_network,
    krnic_network,
    loopback_ca,
    registrar_domain,
    write_bootstrap,
)

SITE = "127.0.0.2"  # the "public" address: the registry server and the sites listen here


@pytest.fixture
def registry(settings, monkeypatch):
    settings.TAKEDOWN_CONTACTS_EXTRA_SUFFIXES = ["test"]  # the fixtures' registries and hosts
    # The client trusts the loopback sites' authority as it trusts the system's store.
    monkeypatch.setenv("SSL_CERT_FILE", str(loopback_ca().bundle))
    with Registry(SITE) as r:
        yield r


def _config(registry, *extra_ports: int, **names) -> ProbeConfig:
    table = {
        "clips.example.net": [SITE],
        "rdap.arin.test": [SITE],
        "rdap.apnic.test": [SITE],
        "rdap.kisa.test": [SITE],
        "rdap.registry.test": [SITE],
        **names,
    }
    return ProbeConfig(
        allowed_ports=frozenset({80, 443, registry.port, registry.tls_port, *extra_ports}),
        treat_as_public=frozenset({SITE}),
        resolver=StubResolver(table),
        connect_timeout=1.0,
        total_timeout=1.5,
    )


def _data(tmp_path, registry, *, rir: str = "arin", cdn_ranges=()) -> bootstrap.Bootstrap:
    bases = {
        "arin": registry.base("rdap.arin.test", "/registry/"),
        "apnic": registry.base("rdap.apnic.test", "/"),
    }
    directory = write_bootstrap(
        tmp_path / rir,
        ipv4={f"{SITE}/32": bases[rir], "127.0.0.0/8": registry.base("rdap.unused.test", "/")},
        dns={"net": registry.base("rdap.registry.test", "/")},
        cdn_ranges=cdn_ranges,
    )
    return bootstrap.load(directory)


def _discover(target, config, data):
    return asyncio.run(discovery.discover(target, config=config, data=data))


def _by_rung(result):
    return {(c.rung, c.source): c for c in result.contacts}


def test_it_finds_the_abuse_desk_arin_nests_under_the_org_and_the_registrar(registry, tmp_path):
    registry.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(body=arin_network(SITE))
    registry.routes[("rdap.registry.test", "/domain/example.net")] = Reply(
        body=registrar_domain("example.net")
    )
    result = _discover(
        f"https://clips.example.net:{registry.tls_port}/v/1", _config(registry), _data(tmp_path, registry)
    )

    assert result.host == "clips.example.net" and result.addresses == [SITE]
    host = _by_rung(result)[("host", "rdap_network")]
    assert (host.name, host.email) == ("Blue Harbor Hosting LLC", "abuse@blueharbor-hosting.test")
    assert host.source_url == registry.base("rdap.arin.test", f"/registry/ip/{SITE}")
    assert len(host.sha256) == 64
    registrar = _by_rung(result)[("registrar", "rdap_domain")]
    assert (registrar.name, registrar.email) == ("Lantern Names, Inc.", "abuse@lantern-names.test")
    assert "IANA ID 9999" in registrar.note
    # The technical contact is not an abuse desk.
    assert "noc@blueharbor-hosting.test" not in {c.email for c in result.contacts}
    assert {s.source: s.outcome for s in result.steps}["security_txt"] == "none"


def test_it_takes_apnics_irt_and_not_the_admin_contact(registry, tmp_path):
    registry.routes[("rdap.apnic.test", f"/ip/{SITE}")] = Reply(body=apnic_network(SITE))
    result = _discover("clips.example.net", _config(registry), _data(tmp_path, registry, rir="apnic"))
    # A bare host name is looked up on https (443): the security.txt fetch is refused by the
    # closed port, the RDAP answers still count.
    host = _by_rung(result)[("host", "rdap_network")]
    assert (host.name, host.email) == ("Sunrise Networks Pte Ltd", "abuse@sunrise-net.test")
    assert [c.email for c in result.contacts if c.rung == "host"] == ["abuse@sunrise-net.test"]


def test_it_follows_apnic_to_krnic_for_korean_space(registry, tmp_path):
    registry.routes[("rdap.apnic.test", f"/ip/{SITE}")] = Reply(
        301, b"", {"Location": registry.base("rdap.kisa.test", f"/ip/{SITE}")}
    )
    registry.routes[("rdap.kisa.test", f"/ip/{SITE}")] = Reply(body=krnic_network(SITE))
    result = _discover(
        f"https://clips.example.net:{registry.tls_port}/",
        _config(registry),
        _data(tmp_path, registry, rir="apnic"),
    )
    host = _by_rung(result)[("host", "rdap_network")]
    assert (host.name, host.email) == ("한빛통신 주식회사", "abuse@hanbit-telecom.test")
    assert host.source_url == registry.base("rdap.kisa.test", f"/ip/{SITE}")  # where the answer came from


def test_it_reads_the_sites_security_txt(registry, tmp_path):
    registry.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(
        body=SECURITY_TXT, headers={"Content-Type": "text/plain"}
    )
    result = _discover(
        f"https://clips.example.net:{registry.tls_port}/v/1", _config(registry), _data(tmp_path, registry)
    )
    site = [c for c in result.contacts if c.rung == "site"]
    assert [(c.email, c.url) for c in site] == [
        ("takedown@clips.example.net", ""),
        ("", "https://clips.example.net/report"),
    ]
    assert result.contacts[0].rung == "site"  # the operator comes first on the ladder


def test_an_address_in_cloudflares_ranges_makes_cloudflare_the_recipient_and_hides_the_host(
    registry, tmp_path
):
    data = _data(tmp_path, registry, cdn_ranges=[f"{SITE}/32"])
    result = _discover(f"https://clips.example.net:{registry.tls_port}/", _config(registry), data)
    cdn = _by_rung(result)[("cdn", "cdn_ranges")]
    assert (cdn.name, cdn.url, cdn.source_url) == (
        "Cloudflare",
        "https://www.cloudflare.com/abuse/",
        "https://www.cloudflare.com/ips/",
    )
    assert not [c for c in result.contacts if c.rung == "host"]  # the network RDAP would name the CDN
    assert ("rdap.arin.test", f"/registry/ip/{SITE}") not in registry.hits


def test_the_shipped_data_routes_real_addresses_and_names():
    data = bootstrap.load()
    assert data.cdn_for("104.16.0.1").name == "Cloudflare"
    assert data.cdn_for("2606:4700::1").name == "Cloudflare"
    assert data.cdn_for("8.8.8.8") is None
    assert data.rdap_for_address("8.8.8.8") == "https://rdap.arin.net/registry/"
    assert data.rdap_for_address("1.1.1.1") == "https://rdap.apnic.net/"
    assert data.rdap_for_address("2001:db8::1") is None or data.rdap_for_address("2001:200::1")
    assert data.rdap_for_domain("www.example.com") == "https://rdap.verisign.com/com/v1/"
    assert data.published["dns"].startswith("20")


MISBEHAVING = {
    "rate_limited": (Reply(429, {"errorCode": 429}, {"Retry-After": "60"}), "rate limited (HTTP 429)"),
    "timeout": (Reply(body=b"{}", delay=3.0), "timeout"),
    "malformed": (Reply(body=b"{not json"), "not JSON"),
    "not_rdap": (Reply(body={"hello": "world"}), "not an RDAP object"),
    "wrong_object": (Reply(body={"objectClassName": "entity"}), "expected an ip network"),
    "redirect_private": (Reply(302, b"", {"Location": "http://10.0.0.1/ip/x"}), "refused: redirect to"),
    "redirect_metadata": (
        Reply(302, b"", {"Location": "http://169.254.169.254/latest/"}),
        "refused: redirect to",
    ),
    "redirect_loopback": (None, "refused: redirect to"),
    "too_big": (Reply(body=b"[" + b"1," * 400_000 + b"1]"), "longer than"),
    "entities_not_a_list": (Reply(body={"objectClassName": "ip network", "entities": 5}), "array field"),
    "roles_not_a_list": (
        Reply(body={"objectClassName": "ip network", "entities": [{"roles": 7, "handle": "X"}]}),
        "array field",
    ),
    "nested_too_deep": (Reply(body=b"[" * 200_000), "not JSON"),
}


@pytest.mark.parametrize("name", MISBEHAVING)
def test_a_misbehaving_rdap_server_gives_unknown_and_no_request_reaches_a_private_address(
    registry, tmp_path, name
):
    reply, why = MISBEHAVING[name]

    async def scenario():
        async with canary(("127.0.0.1",)) as trap:
            route = ("rdap.arin.test", f"/registry/ip/{SITE}")
            registry.routes[route] = reply or Reply(
                302, b"", {"Location": f"http://127.0.0.1:{trap.port}/ip/x"}
            )
            config = _config(registry, trap.port)
            found = await discovery.discover(
                f"https://clips.example.net:{registry.tls_port}/",
                config=config,
                data=_data(tmp_path, registry),
            )
            return found, trap.accepted

    result, accepted = asyncio.run(scenario())
    step = next(s for s in result.steps if s.source == "rdap_network")
    assert step.outcome == "unknown"
    assert why in step.detail
    assert not [c for c in result.contacts if c.rung == "host"]
    assert accepted == 0


def test_a_host_that_resolves_to_a_private_or_loopback_address_is_never_contacted(registry, tmp_path):
    async def scenario():
        async with canary(("127.0.0.1",)) as trap:
            config = _config(
                registry, trap.port, **{"inside.example": ["127.0.0.1"], "meta.example": ["169.254.169.254"]}
            )
            data = _data(tmp_path, registry)
            inside = await discovery.discover(f"http://inside.example:{trap.port}/", config=config, data=data)
            meta = await discovery.discover("http://meta.example/", config=config, data=data)
            return inside, meta, trap.accepted

    inside, meta, accepted = asyncio.run(scenario())
    for result in (inside, meta):
        assert [s.outcome for s in result.steps] == ["unknown"]
        assert result.steps[0].detail.startswith("refused:")
        assert result.contacts == []
    assert accepted == 0
    assert registry.hits == []  # not even the registries were asked about a private address


def test_a_name_that_is_not_a_host_is_refused_before_anything_is_asked():
    with pytest.raises(ValueError):
        discovery.origin_of("ftp://files.example/")
    with pytest.raises(ValueError):
        discovery.origin_of("http:///nohost")


# ------------------------------------------------------------------ in the database


@pytest.fixture
def pinned(settings, registry, tmp_path):
    """The project's settings pointed at the loopback registry, as the recheck tests do."""
    settings.TAKEDOWN_PROBE_ALLOW_LOOPBACK = True
    settings.TAKEDOWN_PROBE_EXTRA_PORTS = [registry.port, registry.tls_port]
    settings.TAKEDOWN_PROBE_TIMEOUT = 2
    settings.TAKEDOWN_PROBE_RESOLVE = {
        name: [SITE]
        for name in (
            "clips.example.net",
            "files.example.net",
            "rdap.arin.test",
            "rdap.registry.test",
            "rdap.apnic.test",
        )
    }
    directory = tmp_path / "data"
    _data(tmp_path, registry)  # writes tmp_path/arin
    (tmp_path / "arin").rename(directory)
    settings.TAKEDOWN_CONTACTS_DATA_DIR = directory
    registry.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(body=arin_network(SITE))
    registry.routes[("rdap.registry.test", "/domain/example.net")] = Reply(
        body=registrar_domain("example.net")
    )
    registry.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(body=SECURITY_TXT)
    return registry


@pytest.mark.django_db
def test_it_caches_a_hosts_lookup_and_keeps_staffs_contacts_over_rediscovery(pinned, agency, artist, staff):
    from takedown.contacts import services
    from takedown.models import AbuseContact
    from tests.notices_setup import import_urls

    import_urls(agency, artist, ["https://clips.example.net/v/1"])  # the agency's business

    target = f"https://clips.example.net:{pinned.tls_port}/v/1"
    first = services.host_discover(target=target)
    # The spec's order (CDN, host, registrar); the site's own security.txt contacts last, and
    # only for information: the site's operator must not choose the agency's first recipient.
    assert [c.rung for c in services.host_contacts("clips.example.net", agency_id=staff.agency_id)] == [
        "host",
        "registrar",
        "site",
        "site",
    ]
    assert [c.rung for c in services.recipients("clips.example.net")] == ["host", "registrar"]
    assert services.first_recipient("clips.example.net").email == "abuse@blueharbor-hosting.test"
    asked = len(pinned.hits)
    assert services.host_discover(target=target).pk == first.pk
    assert len(pinned.hits) == asked  # cached: nothing asked again

    discovered = AbuseContact.objects.get(email="abuse@blueharbor-hosting.test")
    corrected = services.contact_save(
        user=staff, host="clips.example.net", rung="host", name="Blue Harbor Hosting", email="legal@blueharbor-hosting.test",
        contact_id=discovered.pk,
    )  # fmt: skip
    assert corrected.by_staff
    assert corrected.agency_id == staff.agency_id
    # Rediscovery finds the corrected address again: it stays set aside for this agency, and
    # stays the shared fact it is for the others.
    services.host_discover(target=target, force=True)
    assert AbuseContact.objects.get(pk=discovered.pk).is_current is True
    mine = services.recipients("clips.example.net", agency_id=staff.agency_id)
    assert [c.email for c in mine if c.rung == "host"] == ["legal@blueharbor-hosting.test"]
    assert [c.email for c in services.recipients("clips.example.net") if c.rung == "host"] == [
        "abuse@blueharbor-hosting.test"
    ]
    # The registry now answers without an abuse contact: the discovered one goes, staff's stays.
    pinned.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(
        body={**arin_network(SITE), "entities": []}
    )
    services.host_discover(target=target, force=True)
    hosts = [
        c for c in services.host_contacts("clips.example.net", agency_id=staff.agency_id) if c.rung == "host"
    ]
    assert [c.email for c in hosts] == ["legal@blueharbor-hosting.test"]
    assert AbuseContact.objects.get(pk=discovered.pk).is_current is False
    lookup = services.host_discover(target=target)
    assert {s["source"]: s["outcome"] for s in lookup.steps}["rdap_network"] == "none"


@pytest.mark.django_db
def test_a_lookup_where_nothing_answered_is_asked_again_within_the_hour(pinned, settings):
    from takedown.contacts import services

    settings.TAKEDOWN_PROBE_RESOLVE = {**settings.TAKEDOWN_PROBE_RESOLVE, "private.example.net": ["10.0.0.9"]}
    lookup = services.host_discover(target="http://private.example.net/")
    assert [s["outcome"] for s in lookup.steps] == ["unknown"]
    assert lookup.expires_at - lookup.looked_up_at == services.UNKNOWN_TTL
    good = services.host_discover(target=f"https://clips.example.net:{pinned.tls_port}/")
    assert good.expires_at - good.looked_up_at == timedelta(hours=settings.TAKEDOWN_CONTACTS_TTL_HOURS)


@pytest.mark.django_db
def test_staff_cannot_save_a_contact_without_an_address(staff):
    from takedown.contacts import services
    from takedown.errors import Invalid

    with pytest.raises(Invalid):
        services.contact_save(user=staff, host="clips.example.net", rung="host", name="Somebody")
    with pytest.raises(Invalid):
        services.contact_save(user=staff, host="clips.example.net", rung="owner", name="X", email="a@b.test")


@pytest.mark.django_db
def test_the_contacts_command_prints_what_it_found_with_sources(pinned):
    out = io.StringIO()
    call_command("contacts", f"https://clips.example.net:{pinned.tls_port}/v/1", stdout=out)
    text = out.getvalue()
    assert "addresses: 127.0.0.2" in text
    assert (
        "Hosting provider: Blue Harbor Hosting LLC <abuse@blueharbor-hosting.test>  [RDAP, network http://rdap.arin.test"
        in text
    )
    assert "Registrar: Lantern Names, Inc. <abuse@lantern-names.test>" in text
    assert "Site operator (security.txt): clips.example.net <takedown@clips.example.net>" in text
    out = io.StringIO()
    call_command("contacts", "clips.example.net", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert {c["source"] for c in data["contacts"]} == {"security_txt", "rdap_network", "rdap_domain"}
    assert all(len(c["raw_sha256"]) == 64 for c in data["contacts"])
    out = io.StringIO()
    call_command("contacts", "--data", stdout=out)
    assert "dns.json: published 2026-11-02T18:00:01Z" in out.getvalue()


@pytest.mark.django_db
def test_the_contacts_command_refuses_what_is_not_a_host():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a host name"):
        call_command("contacts", "mailto:someone@example.com", stdout=io.StringIO())


@pytest.mark.django_db
def test_refresh_replaces_the_bootstrap_files_that_parse_and_keeps_the_rest(pinned, settings, tmp_path):
    from takedown.contacts import services

    settings.TAKEDOWN_PROBE_RESOLVE = {
        **settings.TAKEDOWN_PROBE_RESOLVE,
        "iana.test": [SITE],
        "cf.test": [SITE],
    }
    fresh = tmp_path / "fresh"
    write_bootstrap(
        fresh,
        ipv4={"8.0.0.0/8": "https://rdap.arin.net/registry/"},
        dns={"net": "https://rdap.verisign.com/net/v1/"},
    )
    for kind in ("dns", "ipv4", "ipv6"):
        pinned.routes[("iana.test", f"/rdap/{kind}.json")] = Reply(body=(fresh / f"{kind}.json").read_bytes())
    pinned.routes[("iana.test", "/rdap/asn.json")] = Reply(body=b"<html>maintenance</html>")
    pinned.routes[("cf.test", "/ips-v4")] = Reply(body="173.245.48.0/20\n104.16.0.0/13\n")
    pinned.routes[("cf.test", "/ips-v6")] = Reply(body="2606:4700::/32\n")
    target = tmp_path / "refreshed"
    report = services.data_refresh(
        directory=target,
        iana=pinned.base("iana.test", "/rdap/"),
        cloudflare=pinned.base("cf.test", "/"),
    )
    assert report["dns"] == report["ipv4"] == "2026-11-02T18:00:01Z"
    assert report["asn"].startswith("kept (asn.json is not JSON")
    assert report["cdn:cloudflare"] == "3 ranges"
    assert not (target / "asn.json").exists()  # the shipped copy stays in use for it
    data = bootstrap.load(target)
    assert data.rdap_for_domain("clips.example.net") == "https://rdap.verisign.com/net/v1/"
    assert data.cdn_for("173.245.48.1").name == "Cloudflare" and data.cdn_for("172.64.0.1") is None
    assert data.published["asn"] == "2021-12-07T20:00:01Z"  # shipped

    # Half of Cloudflare's list is not a list: the ranges in use are kept.
    pinned.routes[("cf.test", "/ips-v6")] = Reply(503, "down")
    report = services.data_refresh(
        directory=target, iana=pinned.base("iana.test", "/rdap/"), cloudflare=pinned.base("cf.test", "/")
    )
    assert report["cdn:cloudflare"] == "kept (HTTP 503)"
    assert len(bootstrap.load(target).cdns[0].networks) == 3

    # A registry file that parses but lists no services does not replace one that routes.
    empty = json.loads((fresh / "dns.json").read_bytes())
    pinned.routes[("iana.test", "/rdap/dns.json")] = Reply(body={**empty, "services": []})
    report = services.data_refresh(
        directory=target, iana=pinned.base("iana.test", "/rdap/"), cloudflare=pinned.base("cf.test", "/")
    )
    assert report["dns"] == "kept (dns.json lists no services)"
    bootstrap.forget()
    assert bootstrap.load(target).rdap_for_domain("clips.example.net") == "https://rdap.verisign.com/net/v1/"


@pytest.mark.django_db
def test_a_rediscovery_where_a_registry_fails_keeps_the_contacts_it_could_not_check(pinned, settings):
    from takedown.contacts import services
    from takedown.models import AbuseContact

    target = f"https://clips.example.net:{pinned.tls_port}/"
    services.host_discover(target=target)
    before = set(AbuseContact.objects.current().values_list("rung", "email"))
    assert ("host", "abuse@blueharbor-hosting.test") in before and (
        "registrar",
        "abuse@lantern-names.test",
    ) in before

    # The network's registry rate-limits us and the domain registry is down.
    pinned.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(429, b"slow down")
    pinned.routes[("rdap.registry.test", "/domain/example.net")] = Reply(503, b"")
    lookup = services.host_discover(target=target, force=True)
    assert set(AbuseContact.objects.current().values_list("rung", "email")) == before
    assert lookup.expires_at - lookup.looked_up_at == services.UNKNOWN_TTL  # asked again soon

    # The site points its name at a private address when the lookup expires: nothing is retired.
    settings.TAKEDOWN_PROBE_RESOLVE = {**settings.TAKEDOWN_PROBE_RESOLVE, "clips.example.net": ["10.0.0.1"]}
    lookup = services.host_discover(target=target, force=True)
    assert [s["outcome"] for s in lookup.steps] == ["unknown"]
    assert set(AbuseContact.objects.current().values_list("rung", "email")) == before

    # A registry that answers without an abuse contact does retire what it said before.
    settings.TAKEDOWN_PROBE_RESOLVE = {**settings.TAKEDOWN_PROBE_RESOLVE, "clips.example.net": [SITE]}
    pinned.routes[("rdap.registry.test", "/domain/example.net")] = Reply(
        body={"objectClassName": "domain", "ldhName": "example.net", "entities": []}
    )
    services.host_discover(target=target, force=True)
    assert ("registrar", "abuse@lantern-names.test") not in set(
        AbuseContact.objects.current().values_list("rung", "email")
    )


@pytest.mark.parametrize(
    "address",
    ["root@localhost", "x@[127.0.0.1]", "x@[169.254.169.254]", "x@mail.internal", "abuse@intranet",
     "abuse@example.com\r\nBcc: x@example.com", "abuse@co.kr", "ab\x1buse@example.com"],
)  # fmt: skip
def test_an_address_into_the_operators_own_network_is_not_a_contact(address):
    from takedown.contacts import parsing

    body = f"Contact: mailto:{address}\nContact: mailto:abuse@example.co.kr\n".encode()
    if "\n" not in address:  # a line break only ends a security.txt line
        assert parsing.read_security_txt(body)[0] == ["abuse@example.co.kr"]
    network = {
        "objectClassName": "ip network",
        "entities": [{"roles": ["abuse"], "vcardArray": ["vcard", [["email", {}, "text", address]]]}],
    }
    assert parsing.read_network(json.dumps(network).encode()).abuse == ()


def test_the_registrar_is_asked_about_the_domain_it_registered_not_a_private_suffixs_subdomain(
    registry, tmp_path
):
    registry.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(body=arin_network(SITE))
    registry.routes[("rdap.registry.test", "/domain/azurewebsites.net")] = Reply(
        body=registrar_domain("azurewebsites.net")
    )
    config = _config(registry, **{"clips.azurewebsites.net": [SITE]})
    result = _discover(
        f"https://clips.azurewebsites.net:{registry.tls_port}/", config, _data(tmp_path, registry)
    )
    step = next(s for s in result.steps if s.source == "rdap_domain")
    assert step.outcome == "found", step
    assert ("rdap.registry.test", "/domain/azurewebsites.net") in registry.hits


def test_a_registry_name_with_terminal_escapes_is_read_without_them():
    from takedown.contacts import parsing

    network = {
        "objectClassName": "ip network",
        "entities": [
            {
                "roles": ["abuse"],
                "vcardArray": ["vcard", [["fn", {}, "text", "Evil\x1b]0;pwned\x07 Hosting\r\nLtd"],
                                         ["email", {}, "text", "abuse@example.com"]]],
            }
        ],
    }  # fmt: skip
    (party,) = parsing.read_network(json.dumps(network).encode()).abuse
    assert party.name == "Evil ]0;pwned Hosting Ltd"


# ------------------------------------------------------------------ security.txt (RFC 9116)


def _site_step(result):
    return next(s for s in result.steps if s.source == "security_txt")


def test_security_txt_is_read_over_https_only(registry, tmp_path):
    # A plain-http site: its file is asked for on https's own port (nothing listens there), never
    # over the plain port the page was on.
    registry.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(body=SECURITY_TXT)
    result = _discover(
        f"http://clips.example.net:{registry.port}/v/1", _config(registry), _data(tmp_path, registry)
    )
    step = _site_step(result)
    assert step.url == "https://clips.example.net/.well-known/security.txt" and step.outcome == "unknown"
    assert ("clips.example.net", "/.well-known/security.txt") not in registry.hits
    assert not [c for c in result.contacts if c.rung == "site"]

    # Over https, a redirect to plain http is not followed.
    registry.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(
        301, b"", {"Location": f"http://clips.example.net:{registry.port}/plain/security.txt"}
    )
    registry.routes[("clips.example.net", "/plain/security.txt")] = Reply(body=SECURITY_TXT)
    result = _discover(
        registry.site("clips.example.net", "/v/1"), _config(registry), _data(tmp_path, registry)
    )
    step = _site_step(result)
    assert step.outcome == "unknown" and "not https" in step.detail
    assert ("clips.example.net", "/plain/security.txt") not in registry.hits
    assert not [c for c in result.contacts if c.rung == "site"]


@pytest.mark.django_db
def test_an_expired_security_txt_is_not_used_and_the_lookup_says_so(pinned):
    from takedown.contacts import services
    from takedown.models import AbuseContact

    target = pinned.site("clips.example.net", "/v/1")
    services.host_discover(target=target)
    assert AbuseContact.objects.current().filter(source="security_txt").count() == 2
    expired = SECURITY_TXT.replace(f"Expires: {SECURITY_TXT_EXPIRES}", "Expires: 2025-01-31T00:00:00Z")
    pinned.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(body=expired)
    lookup = services.host_discover(target=target, force=True)
    step = next(s for s in lookup.steps if s["source"] == "security_txt")
    assert step["outcome"] == "none"
    assert step["detail"] == "expired on 2025-01-31 00:00 UTC (RFC 9116): its contacts are not used"
    assert not AbuseContact.objects.current().filter(source="security_txt").exists()

    # A file without an Expires: field is read, and the lookup says what it lacks.
    undated = SECURITY_TXT.replace(f"Expires: {SECURITY_TXT_EXPIRES}\n", "")
    pinned.routes[("clips.example.net", "/.well-known/security.txt")] = Reply(body=undated)
    lookup = services.host_discover(target=target, force=True)
    step = next(s for s in lookup.steps if s["source"] == "security_txt")
    assert step["outcome"] == "found" and "no valid Expires: field" in step["detail"]


@pytest.mark.django_db
def test_a_security_txt_expires_in_rfc_5322_form_is_read_and_an_unreadable_one_makes_the_file_unusable(
    pinned,
):
    from takedown.contacts import services
    from takedown.models import AbuseContact

    target = pinned.site("clips.example.net", "/v/1")
    route = ("clips.example.net", "/.well-known/security.txt")

    def served(expires: str):
        body = SECURITY_TXT.replace(f"Expires: {SECURITY_TXT_EXPIRES}", f"Expires: {expires}")
        pinned.routes[route] = Reply(body=body)
        lookup = services.host_discover(target=target, force=True)
        return next(s for s in lookup.steps if s["source"] == "security_txt")

    step = served("Fri, 31 Jan 2025 00:00:00 +0000")  # the drafts' date form, long past
    assert step["outcome"] == "none" and step["detail"].startswith("expired on 2025-01-31 00:00 UTC")
    assert not AbuseContact.objects.current().filter(source="security_txt").exists()

    ahead = timezone.now() + timedelta(days=30)
    step = served(ahead.strftime("%a, %d %b %Y %H:%M:%S +0000"))
    assert step["outcome"] == "found" and "Expires" not in step["detail"]
    assert AbuseContact.objects.current().filter(source="security_txt").count() == 2

    step = served("next spring")
    assert step["outcome"] == "none"
    assert "'next spring' is not a date" in step["detail"] and "its contacts are not used" in step["detail"]
    assert not AbuseContact.objects.current().filter(source="security_txt").exists()
