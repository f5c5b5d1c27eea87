"""URL normalisation shared by every stage (a leaf utility like `models`, so stages need not import each other)."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only track the click, never select content. Sources: Google Analytics (utm_*),
# Facebook (fbclid), Google Ads (gclid, dclid, gbraid, wbraid), Microsoft (msclkid), Mailchimp (mc_*),
# HubSpot (_hs*), Yandex (yclid), Instagram (igshid), and common share/referrer tags.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mkt_tok",
        "ocid", "cmpid", "smid", "sr_share", "ref_src", "ref_url", "spm", "_ga", "icid", "s_cid",
        "xtor", "guccounter",
    }
)
# Generic names like "ref", "share" or "cid" are left alone on purpose: some sites select content with them.
TRACKING_PREFIXES = ("utm_", "mc_", "_hs", "pk_", "mtm_", "ns_", "oly_", "vero_")
DEFAULT_PORTS = {"http": 80, "https": 443}
_MULTI_SLASH = re.compile(r"/{2,}")


def is_tracking_param(name: str) -> bool:
    """True when a query parameter only tracks the click."""
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def normalize_url(url: str, base: str | None = None) -> str:
    """Resolve `url` against `base` and normalise it for identity.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters, the remaining query
    parameters sorted, duplicate slashes in the path collapsed. Idempotent.
    """
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # an IPv6 literal: urlsplit drops its brackets, a URL needs them
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = _MULTI_SLASH.sub("/", parts.path) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def site_of(url: str) -> str:
    """The site a page belongs to: its host without "www." (news.example and www.news.example are one site)."""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")
