"""A loopback server standing in for RDAP registries and sites, and answers shaped like theirs.

One threaded HTTP server answers by (Host header, path), so that several pinned names (an RIR,
a registrar's registry, a site) share one loopback address and port. The answers follow the
registries' published shapes (ARIN nests the abuse POC under the org; APNIC and KRNIC list an
IRT with the abuse role at the top; gTLD registries name the registrar and its abuse contact
under it, ICANN's RDAP profile). Every organisation, address and name here is fictional.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Registry:
    """``routes[(host, path)] = Reply``; unknown routes answer 404. Counts requests per route."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.routes: dict[tuple[str, str], Reply] = {}
        self.hits: list[tuple[str, str]] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
                registry.hits.append((host, self.path))
                reply = registry.routes.get(
                    (host, self.path), Reply(404, {"errorCode": 404, "title": "Not Found"})
                )
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body
                if isinstance(body, dict):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.headers.pop("Content-Type", "application/rdap+json"))
                self.send_header("Content-Length", str(len(body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.address = address
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        # The same routes over TLS (security.txt is read over https only), with a certificate
        # of the test authority (loopback_ca) for every name the tests pin.
        self.tls_server = ThreadingHTTPServer((address, 0), Handler)
        self.tls_server.daemon_threads = True
        self.tls_server.socket = (
            loopback_ca().server_context().wrap_socket(self.tls_server.socket, server_side=True)
        )
        self.tls_port = self.tls_server.server_address[1]
        self.tls_thread = threading.Thread(target=self.tls_server.serve_forever, daemon=True)

    def base(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def site(self, host: str, path: str = "/") -> str:
        """A site's URL on the TLS port."""
        return f"https://{host}:{self.tls_port}{path}"

    def __enter__(self) -> Registry:
        self.thread.start()
        self.tls_thread.start()
        return self

    def __exit__(self, *exc) -> None:
        for server in (self.server, self.tls_server):
            server.shutdown()
            server.server_close()


class LoopbackCA:
    """A certificate authority for the loopback sites: its certificate goes into a bundle that
    SSL_CERT_FILE points at (the client trusts it as it trusts the system's store)."""

    NAMES = ("clips.example.net", "files.example.net", "edge.example.net", "*.example.net", "*.test",
             "clips.azurewebsites.net")  # fmt: skip

    def __init__(self) -> None:
        import datetime
        import ipaddress
        import tempfile

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "takedown test CA")])
        ca = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        key = ec.generate_private_key(ec.SECP256R1())
        sans = [x509.DNSName(n) for n in self.NAMES] + [x509.IPAddress(ipaddress.ip_address("127.0.0.2"))]
        leaf = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clips.example.net")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        self.directory = Path(tempfile.mkdtemp(prefix="takedown-ca-"))
        self.bundle = self.directory / "ca.pem"
        self.bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.chain = self.directory / "site.pem"
        self.chain.write_bytes(
            leaf.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        )  # fmt: skip

    def server_context(self):
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.chain)
        return context


@functools.cache
def loopback_ca() -> LoopbackCA:
    return LoopbackCA()


def write_bootstrap(directory: Path, *, ipv4: dict[str, str], dns: dict[str, str], cdn_ranges=()) -> Path:
    """RFC 9224 files mapping the given prefixes and TLDs to base URLs, and a cdn.json."""
    directory.mkdir(parents=True, exist_ok=True)

    def registry(description: str, entries: dict[str, str]) -> dict:
        return {
            "description": description,
            "publication": "2026-11-02T18:00:01Z",
            "version": "1.0",
            "services": [[[k], [v]] for k, v in entries.items()],
        }

    files = {
        "ipv4.json": registry("RDAP bootstrap file for IPv4 address allocations", ipv4),
        "ipv6.json": registry("RDAP bootstrap file for IPv6 address allocations", {}),
        "asn.json": registry("RDAP bootstrap file for Autonomous System Number allocations", {}),
        "dns.json": registry("RDAP bootstrap file for Domain Name System registrations", dns),
        "cdn.json": {
            "cloudflare": {
                "name": "Cloudflare",
                "platform": "cloudflare",
                "abuse_form": "https://www.cloudflare.com/abuse/",
                "source": "https://www.cloudflare.com/ips/",
                "published": "2026-09-29",
                "ranges": ["104.16.0.0/13", *cdn_ranges],
            }
        },
    }
    for name, data in files.items():
        (directory / name).write_text(json.dumps(data))
    return directory


def _vcard(*props: list) -> list:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


def arin_network(address: str) -> dict:
    """ARIN: the network's registrant org, with the abuse POC nested under it."""
    return {
        "rdapConformance": ["nro_rdap_profile_0", "rdap_level_0", "cidr0", "arin_originas0"],
        "objectClassName": "ip network",
        "handle": "NET-198-51-100-0-1",
        "startAddress": address,
        "endAddress": address,
        "ipVersion": "v4",
        "name": "BLUEHARBOR-HOSTING",
        "type": "DIRECT ALLOCATION",
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "BHH-12",
                "roles": ["registrant"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Blue Harbor Hosting LLC"], ["kind", {}, "text", "org"]
                ),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "handle": "ABUSE5150-ARIN",
                        "roles": ["abuse"],
                        "vcardArray": _vcard(
                            ["fn", {}, "text", "Abuse Department"],
                            ["kind", {}, "text", "group"],
                            ["email", {}, "text", "abuse@blueharbor-hosting.test"],
                            ["tel", {"type": ["work", "voice"]}, "text", "+1-555-0100"],
                        ),
                        "links": [
                            {
                                "rel": "self",
                                "type": "application/rdap+json",
                                "href": "https://rdap.arin.net/registry/entity/ABUSE5150-ARIN",
                            }
                        ],
                    },
                    {
                        "objectClassName": "entity",
                        "handle": "NOC5150-ARIN",
                        "roles": ["technical"],
                        "vcardArray": _vcard(
                            ["fn", {}, "text", "NOC"], ["email", {}, "text", "noc@blueharbor-hosting.test"]
                        ),
                    },
                ],
            }
        ],
    }


def apnic_network(address: str) -> dict:
    """APNIC: an IRT with the abuse role at the top level, beside admin and tech contacts."""
    return {
        "rdapConformance": ["history_version_0", "nro_rdap_profile_0", "cidr0", "rdap_level_0"],
        "objectClassName": "ip network",
        "handle": "203.0.113.0 - 203.0.113.255",
        "name": "SUNRISE-AP",
        "country": "SG",
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "IRT-SUNRISE-AP",
                "roles": ["abuse"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "IRT-SUNRISE-AP"],
                    ["kind", {}, "text", "group"],
                    ["email", {"pref": "1"}, "text", "abuse@sunrise-net.test"],
                ),
                "remarks": [{"title": "remarks", "description": ["abuse reports: abuse@sunrise-net.test"]}],
            },
            {
                "objectClassName": "entity",
                "handle": "ORG-SN1-AP",
                "roles": ["registrant"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Sunrise Networks Pte Ltd"], ["kind", {}, "text", "org"]
                ),
            },
            {
                "objectClassName": "entity",
                "handle": "SN12-AP",
                "roles": ["administrative", "technical"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "Network Admin"], ["email", {}, "text", "noc@sunrise-net.test"]
                ),
            },
        ],
    }


def krnic_network(address: str) -> dict:
    """KRNIC (for Korean space, reached from APNIC): Korean names, an IRT with the abuse role."""
    return {
        "rdapConformance": ["rdap_level_0", "nro_rdap_profile_0"],
        "objectClassName": "ip network",
        "handle": "KRNIC-HANBIT-NET",
        "name": "HANBIT-NET",
        "country": "KR",
        "lang": "ko",
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "ORG-HANBIT-KR",
                "roles": ["registrant"],
                "vcardArray": _vcard(["fn", {}, "text", "한빛통신 주식회사"], ["kind", {}, "text", "org"]),
            },
            {
                "objectClassName": "entity",
                "handle": "IRT-HANBIT-KR",
                "roles": ["abuse"],
                "vcardArray": _vcard(
                    ["fn", {}, "text", "한빛통신 침해사고대응팀"],
                    ["email", {}, "text", "abuse@hanbit-telecom.test"],
                    ["tel", {}, "text", "+82-2-555-0100"],
                ),
            },
        ],
    }


def registrar_domain(domain: str) -> dict:
    """A gTLD registry's domain answer: the registrar (IANA ID) and its abuse contact under it."""
    return {
        "rdapConformance": [
            "rdap_level_0",
            "icann_rdap_response_profile_1",
            "icann_rdap_technical_implementation_guide_1",
        ],
        "objectClassName": "domain",
        "handle": "2336799_DOMAIN_EXAMPLE-VRSN",
        "ldhName": domain.upper(),
        "status": ["client transfer prohibited"],
        "entities": [
            {
                "objectClassName": "entity",
                "handle": "9999",
                "roles": ["registrar"],
                "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
                "vcardArray": _vcard(["fn", {}, "text", "Lantern Names, Inc."]),
                "entities": [
                    {
                        "objectClassName": "entity",
                        "roles": ["abuse"],
                        "vcardArray": _vcard(
                            ["fn", {}, "text", ""],
                            ["tel", {"type": "voice"}, "uri", "tel:+1.5555550123"],
                            ["email", {}, "text", "abuse@lantern-names.test"],
                        ),
                    }
                ],
            }
        ],
        "events": [{"eventAction": "registration", "eventDate": "2024-02-01T00:00:00Z"}],
    }


# Half a year ahead of whenever the tests run: the file is current (RFC 9116 §2.5.5).
SECURITY_TXT_EXPIRES = (datetime.now(UTC) + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
SECURITY_TXT = f"""# Our security contacts
Contact: mailto:takedown@clips.example.net
Contact: https://clips.example.net/report
Expires: {SECURITY_TXT_EXPIRES}
Preferred-Languages: en, ko
"""
