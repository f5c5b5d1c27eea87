"""The bundled demo newsroom: rendered pages and feeds, a local server, and a config that points at it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

from monitor.config import resource_path
from monitor.demo.site import demo_sources_toml, render_site

# Files the demo takes from the bundled config unchanged; sources.toml is written for the local server.
SHARED_CONFIG = ("settings.toml", "regions.toml", "topics.toml")
# The demo server is ours, on loopback: the politeness pause between requests to one host would only slow it.
LOCAL_INTERVAL = re.compile(r"^min_host_interval\s*=.*$", re.M)
# The one non-public server the demo may fetch from is its own (127.0.0.1 and the port it was given).
ALLOW_HOSTS = re.compile(r"^allow_hosts\s*=.*$", re.M)


def prepare(workdir: Path, base_url: str) -> Path:
    """Render the newsroom into `workdir/site` and write `workdir/config`; returns the config directory."""
    feeds = render_site(workdir / "site", base_url)
    config_dir = workdir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in SHARED_CONFIG:
        shutil.copyfile(resource_path(f"config/{name}"), config_dir / name)
    settings = config_dir / "settings.toml"
    text, replaced = LOCAL_INTERVAL.subn(
        "min_host_interval = 0.0  # the demo newsroom is our own server on 127.0.0.1", settings.read_text("utf-8"))
    text = text if replaced else text.replace("[http]\n", "[http]\nmin_host_interval = 0.0\n", 1)
    own = f'allow_hosts = ["{urlsplit(base_url).netloc}"]  # our own server on loopback, and nothing else'
    text, replaced = ALLOW_HOSTS.subn(own, text)
    text = text if replaced else text.replace("[http]\n", f"[http]\n{own}\n", 1)
    settings.write_text(text, encoding="utf-8")
    (config_dir / "sources.toml").write_text(demo_sources_toml(feeds, base_url), encoding="utf-8")
    return config_dir
