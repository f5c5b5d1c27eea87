"""The shipped config/sources.toml works offline: its sources are the bundled demo newsroom, which `monitor run`
serves itself on 127.0.0.1."""

from urllib.parse import urlsplit

from monitor import config, feeds, fetch
from monitor.cli.sources import local_newsroom
from tests.conftest import CONFIG


def test_the_shipped_sources_are_the_local_newsroom_and_it_answers_every_one():
    cfg = config.load(CONFIG)
    assert cfg.sources.source, "the shipped config should start with working sources"
    hosts = {urlsplit(s.url).netloc for s in cfg.sources.source}
    # nothing beyond loopback, and exactly what settings.toml allows
    assert hosts == set(cfg.settings.http.allow_hosts) and all(h.startswith("127.0.0.1:") for h in hosts)
    with local_newsroom(list(cfg.sources.source)) as served:
        assert len(served) == len(hosts)
        for source in cfg.sources.source:
            status, final, ctype, body = fetch.fetch_url(cfg.settings.http, source.url)
            parsed = feeds.parse_feed(source.name, final, body, ctype)
            assert status == 200 and len(parsed.entries) >= 10, source.name
            # the articles' links are on the same port, so each outlet's pages are polite to their own host only
            assert {urlsplit(e.link).netloc for e in parsed.entries} == {urlsplit(source.url).netloc}


def test_sources_elsewhere_start_no_newsroom():
    elsewhere = [config.Source(name="x", url="https://news.example.com/feed")]
    with local_newsroom(elsewhere) as served:
        assert served == []
