"""Where the crawler may connect, and through what.

A feed is untrusted input: one entry could make the crawler read a router's admin page or a cloud metadata service.
So only http(s) is fetched, and only public addresses, unless `http.allow_hosts` lists the address (or network, or
name) AND the port. Link-local addresses and cloud metadata services pass only when listed one by one (a single
address, or the name). The check runs where the connection opens, on the address the name resolved to (so a name
cannot resolve to a public address for the check and a private one for the connection), for every redirect hop.

Proxies (`http.proxy`, else HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, with NO_PROXY bypassing them) may be on private
addresses: the guard applies to the target, checked as this machine resolves it before the request is handed to
the proxy. A name this machine cannot resolve is the proxy's to resolve.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor.config import AllowedHost, HttpSettings, parse_allowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
# Names of cloud metadata services (GCP, AWS): refused by name, whatever they resolve to, unless listed by name.
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal"})
# Metadata and host-agent addresses, refused unless listed one by one even where a listed network covers them:
# AWS/GCP/Azure/Oracle/DigitalOcean (169.254.169.254), AWS ECS (169.254.170.2), Alibaba (100.100.100.200), AWS IPv6
# (fd00:ec2::254) and Azure's WireServer (168.63.129.16, a public address).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "168.63.129.16"))
# IPv6 forms that carry an IPv4 address: judged as that address (::ffff:10.0.0.1 is 10.0.0.1; the NAT64 prefix
# routes to the embedded address too).
NAT64 = ipaddress.ip_network("64:ff9b::/96")
# How long a name's politeness unit (see `politeness_key`) is remembered.
UNIT_TTL_SECONDS = 300


class BlockedAddress(httpx.UnsupportedProtocol):
    """A URL we will not fetch: a scheme other than http(s), or a host on a non-public address that
    `http.allow_hosts` does not list with its port."""


def allowed_hosts(http: HttpSettings) -> tuple[AllowedHost, ...]:
    """The parsed `http.allow_hosts` entries (validated when the settings were loaded)."""
    return tuple(parse_allowed(entry) for entry in http.allow_hosts)


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _shown(address: IPAddress) -> str:
    return f"[{address}]" if address.version == 6 else str(address)


def _listed(address: IPAddress, port: int, allowed: Sequence[AllowedHost], single: bool) -> bool:
    return any(a.network is not None and a.port == port and a.network.version == address.version
               and address in a.network and (not single or a.network.num_addresses == 1) for a in allowed)


def _by_name(host: str, port: int, allowed: Sequence[AllowedHost]) -> bool:
    name = host.lower().rstrip(".")
    return any(a.name == name and a.port == port for a in allowed)


def refusal(host: str, port: int, address: IPAddress, allowed: Sequence[AllowedHost] = ()) -> str | None:
    """Why connecting to `address` (what `host` resolved to) on `port` is refused, or None when it is allowed."""
    if _by_name(host, port, allowed):
        return None
    address = _plain(address)
    if address in METADATA_ADDRESSES or address.is_link_local:
        if _listed(address, port, allowed, single=True):
            return None
        return (f"{host} is {address}, a link-local or cloud metadata address; list exactly "
                f'"{_shown(address)}:{port}" in http.allow_hosts to fetch from it')
    if address.is_global or _listed(address, port, allowed, single=False):
        return None
    return (f"{host} is {address}, not a public address; add \"{_shown(address)}:{port}\" to http.allow_hosts "
            "to fetch from it")


def check_name(host: str, port: int, allowed: Sequence[AllowedHost] = ()) -> None:
    """Refuse cloud metadata names before they are resolved, unless listed by name."""
    if host.lower().rstrip(".") in METADATA_NAMES and not _by_name(host, port, allowed):
        raise BlockedAddress(f"{host} is a cloud metadata service; list \"{host}:{port}\" in http.allow_hosts to "
                             "fetch from it")


def _resolve(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


def check_target(url: httpx.URL, allowed: Sequence[AllowedHost] = ()) -> None:
    """Raise BlockedAddress unless `url` is http(s) on a public address or a listed host:port. A name that does not
    resolve here passes (a direct connection then fails and says so; a proxy resolves it itself)."""
    if url.scheme not in DEFAULT_PORTS:
        raise BlockedAddress(f"scheme {url.scheme!r} is not http or https")
    port = url.port or DEFAULT_PORTS[url.scheme]
    check_name(url.host, port, allowed)
    try:
        addresses = _resolve(url.host, port)
    except (socket.gaierror, UnicodeError, ValueError):
        return
    for address in addresses:
        reason = refusal(url.host, port, address, allowed)
        if reason:
            raise BlockedAddress(reason)


class _GuardedBackend(httpcore.SyncBackend):
    """Opens TCP connections only to vetted addresses: resolves once, checks every address, connects to those."""

    def __init__(self, allowed: Sequence[AllowedHost]) -> None:
        self.allowed = allowed

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        check_name(host, port, self.allowed)
        try:
            addresses = _resolve(host, port)
        except (socket.gaierror, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        for address in addresses:
            reason = refusal(host, port, address, self.allowed)
            if reason:
                raise BlockedAddress(reason)
        failure: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure


def proxy_for(url: httpx.URL, setting: str, environ: dict[str, str]) -> str | None:
    """The proxy a request to `url` goes through, or None for a direct connection.

    `setting` is `http.proxy` ("" uses the environment, "direct" none); `environ` is
    urllib.request.getproxies_environment() (lower-case scheme keys, "all" and "no"). NO_PROXY is matched as curl
    and Python's urllib match it: "*", a host, or a domain suffix, each optionally with a port."""
    if setting == "direct":
        return None
    if environ.get("no"):
        netloc = f"{url.host}:{url.port}" if url.port else url.host
        if urllib.request.proxy_bypass_environment(netloc, environ):
            return None
    proxy = setting or environ.get(url.scheme) or environ.get("all")
    if not proxy:
        return None
    return proxy if "://" in proxy else f"http://{proxy}"  # "proxy:3128" means http://, as httpx and curl read it


class GuardedTransport(httpx.BaseTransport):
    """Direct connections through the guarded backend; proxied requests checked on their target first."""

    def __init__(self, http: HttpSettings, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self.allowed = allowed_hosts(http)
        self.setting = http.proxy
        self.environ = {k: v for k, v in urllib.request.getproxies_environment().items() if v}
        self.verify, self.limits = verify, limits
        self.direct = httpx.HTTPTransport(verify=verify, limits=limits)
        # httpx has no public way to give its pool a network backend; the pool is what handle_request uses.
        self.direct._pool = httpcore.ConnectionPool(
            ssl_context=verify, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(self.allowed))
        self.proxied: dict[str, httpx.HTTPTransport] = {}
        self.lock = threading.Lock()

    def _via(self, proxy: str) -> httpx.HTTPTransport:
        with self.lock:
            if proxy not in self.proxied:
                try:
                    self.proxied[proxy] = httpx.HTTPTransport(verify=self.verify, limits=self.limits, proxy=proxy)
                except (ImportError, ValueError) as exc:  # socks5:// without socksio, an unknown scheme
                    raise httpx.ProxyError(f"proxy {proxy} is not usable: {exc}") from exc
            return self.proxied[proxy]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in DEFAULT_PORTS:
            raise BlockedAddress(f"scheme {request.url.scheme!r} is not http or https")
        proxy = proxy_for(request.url, self.setting, self.environ)
        if proxy is None:
            return self.direct.handle_request(request)
        check_target(request.url, self.allowed)
        return self._via(proxy).handle_request(request)

    def close(self) -> None:
        self.direct.close()
        for transport in self.proxied.values():
            transport.close()


# --- the unit of politeness ---------------------------------------------------------------------------

_UNITS: dict[tuple[str, int | None], tuple[float, str]] = {}
_UNITS_LOCK = threading.Lock()


def politeness_key(url: str) -> str:
    """The host a URL's requests count against: "address[:port]" for an IP literal or a name that resolves only to
    non-public addresses (so `localhost` and `127.0.0.1` are one host), else the lower-case name. Public names are
    not merged by address: a CDN address serves many unrelated sites."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    suffix = f":{port}" if port and port != DEFAULT_PORTS.get(parts.scheme.lower()) else ""
    try:
        return f"{_shown(ipaddress.ip_address(host))}{suffix}"
    except ValueError:
        pass
    with _UNITS_LOCK:
        cached = _UNITS.get((host, port))
    if cached and cached[0] > time.monotonic():
        return cached[1] + suffix
    try:
        addresses = _resolve(host, port or 80) if host else []
    except (socket.gaierror, UnicodeError, ValueError):
        addresses = []
    private = addresses and not any(_plain(a).is_global for a in addresses)
    unit = _shown(min(addresses, key=lambda a: (a.version, int(a)))) if private else host
    with _UNITS_LOCK:
        _UNITS[(host, port)] = (time.monotonic() + UNIT_TTL_SECONDS, unit)
    return unit + suffix
