"""GET with the probe's safety rules, for RDAP servers and security.txt.

The same pieces as the Prober (takedown.probing): every hop vetted by `safety.vet` before a
socket opens (public addresses only, allowed ports, no credentials), aiohttp given only the
vetted addresses (`VettedResolver`, so DNS rebinding has nothing to slip into), redirects
followed by hand, proxies ignored, no cookies, a timeout per request and a body cap. It never
raises for what a server does: every failure is an `Answer` whose ``error`` says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from dataclasses import dataclass

import aiohttp
from yarl import URL

from takedown.probing.client import REDIRECT_STATUSES, read_capped
from takedown.probing.safety import (
    NameNotFound,
    Refused,
    ResolutionFailed,
    VettedResolver,
    connecting_to,
    resolve_host,
    vet,
)
from takedown.probing.types import ProbeConfig

BODY_LIMIT = 512 * 1024  # RDAP answers for a network are a few kB; a large one is not worth reading


@dataclass(frozen=True)
class Answer:
    url: str  # as asked
    final_url: str
    status: int | None
    body: bytes
    content_type: str
    error: str  # empty when the server answered

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest() if self.status is not None else ""

    @property
    def ok(self) -> bool:
        return not self.error and self.status == 200


class SafeClient:
    """``async with SafeClient(config) as client: await client.get(url)``."""

    def __init__(self, config: ProbeConfig, *, body_limit: int = BODY_LIMIT) -> None:
        self.config = config
        self.body_limit = body_limit
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0

    async def __aenter__(self) -> SafeClient:
        cfg = self.config
        self._session = aiohttp.ClientSession(
            # Certificates checked against the system's trust store, read now (SSL_CERT_FILE and
            # SSL_CERT_DIR are honoured, as by every OpenSSL client).
            connector=aiohttp.TCPConnector(
                resolver=VettedResolver(), use_dns_cache=False, ssl=ssl.create_default_context()
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            timeout=aiohttp.ClientTimeout(
                total=cfg.total_timeout, connect=cfg.connect_timeout, sock_connect=cfg.connect_timeout
            ),
            headers={"User-Agent": cfg.user_agent},
            raise_for_status=False,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _resolve(self, host: str) -> list[str]:
        return await resolve_host(host, self.config.resolver, self.config.connect_timeout)

    async def get(self, url: str, *, accept: str = "*/*", https_only: bool = False) -> Answer:
        assert self._session is not None, "use 'async with SafeClient(config)'"
        try:
            fetch = URL(url)
        except (ValueError, TypeError) as exc:
            return Answer(url, url, None, b"", "", f"not a valid URL ({exc})")
        for hop in range(self.config.max_redirects + 1):
            if https_only and fetch.scheme != "https":
                # security.txt (RFC 9116 §3): a file, or a redirect, over plain http is not read.
                where = "" if hop == 0 else f"redirect to {fetch}: "
                return Answer(url, str(fetch), None, b"", "", f"refused: {where}not https")
            try:
                target = await vet(fetch, self.config, self._resolve)
            except Refused as exc:
                where = "" if hop == 0 else f"redirect to {fetch}: "
                return Answer(url, str(fetch), None, b"", "", f"refused: {where}{exc}")
            except (NameNotFound, ResolutionFailed) as exc:
                return Answer(url, str(fetch), None, b"", "", str(exc))
            try:
                self.requests_sent += 1
                with connecting_to(target):
                    async with asyncio.timeout(self.config.total_timeout):
                        async with self._session.get(
                            target.url, allow_redirects=False, headers={"Accept": accept}
                        ) as response:
                            location = response.headers.get("Location")
                            if response.status in REDIRECT_STATUSES and location:
                                try:
                                    fetch = fetch.join(URL(location)).with_fragment(None)
                                except (ValueError, TypeError):
                                    return Answer(url, str(fetch), None, b"", "", "invalid redirect")
                                continue
                            body, truncated = await read_capped(response, self.body_limit)
                            if truncated:
                                return Answer(
                                    url, str(fetch), response.status, body, "",
                                    f"answer longer than {self.body_limit} bytes",
                                )  # fmt: skip
                            return Answer(
                                url,
                                str(fetch),
                                response.status,
                                body,
                                response.headers.get("Content-Type", ""),
                                "" if response.status == 200 else f"HTTP {response.status}",
                            )
            except TimeoutError:
                return Answer(url, str(fetch), None, b"", "", "timeout")
            except (aiohttp.ClientError, OSError) as exc:
                return Answer(url, str(fetch), None, b"", "", f"connection error: {type(exc).__name__}")
        return Answer(
            url, str(fetch), None, b"", "", f"too many redirects (more than {self.config.max_redirects})"
        )
