"""IPv6 addresses that only wrap an IPv4 address (IPv4-mapped ::ffff:a.b.c.d, NAT64
64:ff9b::/96) are judged by that IPv4 address: for the refusal of private addresses, for the
CDN ranges, and for the network's RDAP server and query."""

from __future__ import annotations

import asyncio
from ipaddress import ip_address

import pytest

from takedown.contacts import discovery, parsing
from takedown.urltools import embedded_ipv4, is_public_ip
from tests.rdap_servers import Reply, arin_network
from tests.test_contacts import SITE, _by_rung, _config, _data, registry  # noqa: F401  (fixture)
from tests.test_probing import canary


@pytest.mark.parametrize(
    "wrapped, inside",
    [
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("::ffff:a00:1", "10.0.0.1"),
        ("64:ff9b::a00:1", "10.0.0.1"),
        ("64:ff9b::169.254.169.254", "169.254.169.254"),
        ("::ffff:0:104.16.0.1", "104.16.0.1"),
        ("64:ff9b::6810:1", "104.16.0.1"),
    ],
)
def test_it_reads_the_ipv4_address_inside_a_mapped_or_nat64_address(wrapped, inside):
    assert str(embedded_ipv4(ip_address(wrapped))) == inside
    assert is_public_ip(ip_address(wrapped)) == is_public_ip(ip_address(inside))


def test_a_plain_ipv6_address_is_its_own(registry, tmp_path):  # noqa: F811
    assert str(embedded_ipv4(ip_address("2606:4700::1"))) == "2606:4700::1"


def test_a_wrapped_cloudflare_address_is_cloudflares_and_a_wrapped_one_is_asked_of_its_ipv4_registry(
    registry,  # noqa: F811
    tmp_path,
):
    data = _data(tmp_path, registry)
    for address in ("::ffff:104.16.0.1", "64:ff9b::6810:1"):
        assert data.cdn_for(address) is not None and data.cdn_for(address).name == "Cloudflare"
    assert data.cdn_for("::ffff:8.8.8.8") is None
    # The IPv4 bootstrap's server, not the IPv6 one (which has none for these).
    assert data.rdap_for_address(f"::ffff:{SITE}") == data.rdap_for_address(SITE) is not None
    assert data.rdap_for_address("64:ff9b::7f00:2") == data.rdap_for_address(SITE)


def test_discovery_behind_a_wrapped_address_finds_the_cdn_and_asks_rdap_about_the_ipv4_address(
    registry,  # noqa: F811
    tmp_path,
):
    registry.routes[("rdap.arin.test", f"/registry/ip/{SITE}")] = Reply(body=arin_network(SITE))
    mapped = str(ip_address(f"::ffff:{SITE}"))  # as the resolver spells it: ::ffff:7f00:2
    config = _config(registry, **{"clips.example.net": [mapped], "edge.example.net": ["64:ff9b::6810:1"]})
    config = type(config)(**{**config.__dict__, "treat_as_public": frozenset({SITE, mapped})})
    data = _data(tmp_path, registry)
    result = asyncio.run(
        discovery.discover(f"https://clips.example.net:{registry.tls_port}/", config=config, data=data)
    )
    host = _by_rung(result)[("host", "rdap_network")]
    assert host.email == "abuse@blueharbor-hosting.test"
    assert ("rdap.arin.test", f"/registry/ip/{SITE}") in registry.hits
    edge = asyncio.run(discovery.discover("https://edge.example.net/", config=config, data=data))
    assert _by_rung(edge)[("cdn", "cdn_ranges")].name == "Cloudflare"


@pytest.mark.parametrize(
    "wrapped", ["::ffff:127.0.0.1", "64:ff9b::7f00:1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe"]
)
def test_a_host_resolving_to_a_wrapped_private_address_is_never_contacted(registry, tmp_path, wrapped):  # noqa: F811
    async def scenario():
        async with canary(("127.0.0.1",)) as trap:
            config = _config(registry, trap.port, **{"inside.example": [wrapped]})
            found = await discovery.discover(
                f"http://inside.example:{trap.port}/", config=config, data=_data(tmp_path, registry)
            )
            return found, trap.accepted

    result, accepted = asyncio.run(scenario())
    assert [s.outcome for s in result.steps] == ["unknown"]
    assert result.steps[0].detail.startswith("refused:")
    assert accepted == 0 and registry.hits == []


@pytest.mark.parametrize(
    "link, kept",
    [
        ("https://abuse.example.com/report", True),
        ("https://[2606:4700::1]/report", True),
        ("https://[::ffff:10.0.0.1]/report", False),
        ("https://[64:ff9b::a00:1]:8443/report", False),
        ("https://169.254.169.254/latest", False),
        ("https://0x0a000001/report", False),
        # The host ends at the first of / ? # and \ (a browser reads a backslash as a slash).
        ("https://10.0.0.1?x", False),
        ("https://10.0.0.1#x", False),
        ("https://10.0.0.1\\@example.com/", False),
        ("https://user@10.0.0.1/form", False),
        ("https://%31%30.0.0.1/report", False),
        ("https://abuse.example.com?lang=en", True),
        ("https://8.8.8.8:443/report", True),
    ],
)
def test_a_form_link_into_a_private_address_is_not_a_contact(link, kept):
    network = {
        "objectClassName": "ip network",
        "entities": [{"roles": ["abuse"], "vcardArray": ["vcard", [["url", {}, "uri", link]]]}],
    }
    import json

    (party,) = parsing.read_network(json.dumps(network).encode()).abuse or [None]
    assert (party is not None and link in party.links) is kept
