"""Shared fixtures: a real HTTP server on 127.0.0.1, the seed newsroom, and a Prefect test harness.

Prefect's environment is set before anything imports it: offline, no telemetry, PREFECT_HOME in a temp dir.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="monitor-test-prefect-")
os.environ.update({
    "PREFECT_HOME": _PREFECT_HOME,
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
})
os.environ.pop("PREFECT_API_URL", None)
# Requests to our loopback servers go direct: a proxy set in the developer's shell must not carry them
# (tests/test_proxy.py sets its own).
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
    os.environ.pop(_name, None)
    os.environ.pop(_name.lower(), None)
os.environ.pop("MONITOR_CONFIG_DIR", None)
os.environ.pop("MONITOR_WAREHOUSE", None)

from monitor.config import HttpSettings  # noqa: E402
from monitor.demo.server import serve_directory, serve_handler  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "fixtures" / "seed"
CONFIG = ROOT / "config"


@pytest.fixture(scope="session")
def expected() -> dict:
    """The seed newsroom's acceptance expectations."""
    return json.loads((SEED / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def seed_html() -> dict[str, str]:
    """The seed pages by file name."""
    return {p.name: p.read_text(encoding="utf-8") for p in SEED.glob("*.html")}


@contextmanager
def serve_seed(directory: Path):
    """Serve a copy of the seed newsroom on 127.0.0.1 with {BASE} replaced; yields (base_url, feed_url)."""
    site = directory / "site"
    shutil.copytree(SEED, site)
    with serve_directory(site) as base:
        feed = site / "feed.xml"
        feed.write_text(feed.read_text(encoding="utf-8").replace("{BASE}", base), encoding="utf-8")
        yield base, f"{base}/feed.xml"


@pytest.fixture()
def seed_site(tmp_path: Path):
    """The seed newsroom served over HTTP for one test."""
    with serve_seed(tmp_path) as urls:
        yield urls


@pytest.fixture(scope="session")
def seed_warehouse(tmp_path_factory, prefect_harness) -> Path:
    """A warehouse made by one real ingest run over the served seed newsroom (shared by read-only tests)."""
    from flows.ingest import ingest

    directory = tmp_path_factory.mktemp("seed-warehouse")
    with serve_seed(directory) as (_, feed):
        config_dir = write_config(directory / "config", f'[[source]]\nname = "seed"\nurl = "{feed}"\n')
        path = directory / "seed.duckdb"
        ingest(warehouse_path=str(path), config_dir=str(config_dir))
    return path


class _Scripted(BaseHTTPRequestHandler):
    """Answers each path with a scripted (status, content type, body)."""

    routes: dict[str, tuple[int, str, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.answer(*self.routes.get(self.path, (404, "text/plain", b"not found")))

    def answer(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def scripted_server(routes: dict[str, tuple[int, str, bytes]]):
    """A real HTTP server on 127.0.0.1 that answers the given routes; a context manager yielding its base URL."""
    return serve_handler(type("Routes", (_Scripted,), {"routes": routes}))


# Every test server is ours on 127.0.0.1: no pause between requests to it unless a test asks for one.
LOCAL_HTTP = "min_host_interval = 0\n"
# The loopback servers a sources.toml names: the only non-public hosts a test's config allows.
_LOOPBACK = re.compile(r"https?://(127\.0\.0\.1|localhost|\[::1\]):(\d+)")


def loopback_allowance(text: str, extra: tuple[str, ...] = ()) -> str:
    """An `allow_hosts` line listing exactly the loopback host:ports of the URLs in `text`, plus `extra` (URLs or
    "127.0.0.1:PORT")."""
    found = [f"{host}:{port}" for host, port in _LOOPBACK.findall(" ".join((text, *extra)))]
    entries = dict.fromkeys([*found, *(e for e in extra if "://" not in e)])
    return f"allow_hosts = {json.dumps(list(entries))}\n"


def allowing(http: HttpSettings, *bases: str) -> HttpSettings:
    """`http` allowing exactly the loopback servers at `bases` (their host:port), as a test's own config would."""
    return http.model_copy(update={"allow_hosts": (*http.allow_hosts, *(urlsplit(b).netloc for b in bases))})


def write_config(directory: Path, sources_toml: str, settings_toml: str = "", allow: tuple[str, ...] = ()) -> Path:
    """A config dir with the project's regions and topics plus the given sources and settings.

    `http.allow_hosts` lists exactly the loopback servers named in `sources_toml`, plus `allow` (URLs or
    "127.0.0.1:PORT") for servers a test reaches otherwise (pages on another server, a redirect target)."""
    local = ("" if "min_host_interval" in settings_toml else LOCAL_HTTP) + (
        "" if "allow_hosts" in settings_toml else loopback_allowance(sources_toml, allow))
    settings_toml = (settings_toml.replace("[http]\n", "[http]\n" + local, 1) if "[http]\n" in settings_toml
                     else f"[http]\n{local}{settings_toml}")
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("regions.toml", "topics.toml"):
        shutil.copyfile(CONFIG / name, directory / name)
    (directory / "sources.toml").write_text(sources_toml, encoding="utf-8")
    (directory / "settings.toml").write_text(settings_toml, encoding="utf-8")
    return directory


def prefect_servers_under(roots: tuple[str, ...]) -> dict[int, str]:
    """Live Prefect server processes (other than this one) whose PREFECT_HOME is under one of `roots`, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "prefect.server.api.server:create_app" not in cmdline and "prefect server start" not in cmdline:
                continue
            if (entry / "stat").read_text().rpartition(")")[2].split()[0] == "Z":
                continue
            homes = [v.partition(b"=")[2].decode() for v in (entry / "environ").read_bytes().split(b"\0")
                     if v.startswith(b"PREFECT_HOME=")]
        except (OSError, ValueError):
            continue  # gone meanwhile, or not ours to read
        if any(home.startswith(roots) for home in homes):
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(scope="session", autouse=True)
def no_server_left_behind(tmp_path_factory):
    """The suite leaves no Prefect server running: every one its tests started, in process or in a `monitor`
    subprocess (even a SIGKILLed one), is gone at the end (issue 18: `make test` left two behind)."""
    yield
    if not Path("/proc/self/environ").exists():
        return
    roots = (os.path.join(tmp_path_factory.getbasetemp(), ""), os.path.join(_PREFECT_HOME, ""))  # not pytest-660
    deadline = time.monotonic() + 15  # a tethered server notices its parent's end within a second, then stops
    while (left := prefect_servers_under(roots)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == {}, "Prefect servers outlived the tests that started them"


@pytest.fixture(scope="session")
def prefect_harness():
    """A real, temporary Prefect API for the flow tests (started once per session)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
