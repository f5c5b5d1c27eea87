"""The fetch client and one GET: the httpx client (user agent, timeouts, proxies, the address guard), redirects
followed hop by hop, each hop at its own host's gate, and a body read under the size cap and the time budget."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from monitor.config import HttpSettings
from monitor.fetch.decode import TooLarge, read_bounded
from monitor.fetch.guard import GuardedTransport, allowed_hosts, check_target, politeness_key
from monitor.once import once
from monitor.politeness import HostGate, polite

# brotli is a dependency, so "br" is always decodable; zstd is left out (it needs another package).
ACCEPT_ENCODING = "gzip, deflate, br"


@once
def _tls() -> ssl.SSLContext:
    """The certificate store, loaded once per process: httpx loads it for every new client by default, 18 ms each,
    which was most of what a 25-page fetch task cost beyond its requests."""
    return httpx.create_ssl_context()


def make_client(http: HttpSettings) -> httpx.Client:
    """An httpx client with our user agent, timeouts, redirect cap, connection limits, proxies and address guard.

    The client itself follows redirects (each hop guarded); `open_hops` below follows them hop by hop."""
    return httpx.Client(
        headers={"User-Agent": http.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        follow_redirects=True,
        max_redirects=http.max_redirects,
        transport=GuardedTransport(http, _tls(), httpx.Limits(max_connections=http.max_connections)),
    )


@contextmanager
def open_hops(client: httpx.Client, http: HttpSettings, url: str, headers: dict[str, str] | None = None,
              interval_for: Callable[[str], float | None] = lambda url: None
              ) -> Iterator[tuple[HostGate, httpx.Response]]:
    """GET `url`, following redirects one hop at a time, each hop taking its turn at its host's gate (spacing,
    concurrency, Retry-After); yields the final hop's gate and streamed response, its slot held until the body is
    read. `interval_for(hop)` gives the hop's spacing (or raises `robots.Refused`). The transport checks each
    connection's address again as it opens (the address actually used)."""
    request = client.build_request("GET", url, headers=headers)
    allowed = allowed_hosts(http)
    for _ in range(http.max_redirects + 1):
        hop = str(request.url)
        check_target(request.url, allowed)  # refused hops fail here, before waiting at a gate or reading robots.txt
        with polite(hop, http, interval_for(hop), key=politeness_key(hop)) as gate:
            response = client.send(request, stream=True, follow_redirects=False)
            try:
                if response.next_request is None:
                    yield gate, response
                    return
            finally:
                response.close()
        request = response.next_request
    raise httpx.TooManyRedirects(f"more than {http.max_redirects} redirects from {url}", request=request)


def read_capped(response: httpx.Response, http: HttpSettings, started: float, cap: int | None = None) -> bytes:
    """Read a streamed body, decoding its Content-Encoding step by step under the size cap and the time budget.

    The cap applies to the decoded bytes, and no step decodes more than `decode.DECODE_STEP`, so a gzip, deflate or
    brotli bomb stops at the cap, not after a whole network chunk is inflated.
    """
    cap = cap or http.max_bytes
    declared = response.headers.get("content-length")
    encoding = response.headers.get("content-encoding", "")
    if declared and declared.isdigit() and int(declared) > cap and encoding.lower() in ("", "identity"):
        raise TooLarge(f"content-length {declared} > {cap}")

    def tick() -> None:
        if time.monotonic() - started > http.total_timeout:
            raise httpx.ReadTimeout(f"total time over {http.total_timeout}s")

    return read_bounded(response.iter_raw(), encoding, cap, tick)
