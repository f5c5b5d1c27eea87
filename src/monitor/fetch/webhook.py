"""POST a JSON body to a webhook, under the same rules as every other request: our user agent, timeouts, the
address guard (a loopback or intranet endpoint must be listed in `http.allow_hosts`) and the host's gate.

A refusal is a value, never an exception: a watch's webhook failing must not fail the run that found the hits."""

from __future__ import annotations

import json
import logging
import time

import httpx

from monitor.config import HttpSettings
from monitor.fetch import TRANSIENT_STATUSES, make_client
from monitor.fetch.guard import BlockedAddress, allowed_hosts, check_target, politeness_key
from monitor.politeness import HostBusy, polite

log = logging.getLogger(__name__)

# Tries per delivery, and the waits between them: a receiver restarting or briefly overloaded gets a few seconds;
# anything longer is left to the next run, which delivers what is still pending (the warehouse is the outbox).
WEBHOOK_WAITS = (0.2, 1.0)


def post_json(http: HttpSettings, url: str, body: dict, waits: tuple[float, ...] = WEBHOOK_WAITS) -> tuple[bool, str]:
    """POST `body` as JSON; (delivered, what happened). Retries a timeout, a connection error, 429 and 5xx."""
    content = json.dumps(body, ensure_ascii=False, default=str).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    outcome = "not tried"
    try:
        check_target(httpx.URL(url), allowed_hosts(http))  # a refused address fails here, before any connection
    except (BlockedAddress, httpx.InvalidURL) as exc:
        return False, f"refused: {exc}"
    with make_client(http) as client:
        for attempt in range(len(waits) + 1):
            if attempt:
                time.sleep(waits[attempt - 1])
            try:
                with polite(url, http, key=politeness_key(url)):
                    response = client.post(url, content=content, headers=headers, follow_redirects=False)
            except (httpx.TransportError, HostBusy) as exc:
                outcome = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code < 300:
                return True, f"HTTP {response.status_code}"
            outcome = f"HTTP {response.status_code}"
            if response.status_code not in TRANSIENT_STATUSES:
                break
    return False, outcome
