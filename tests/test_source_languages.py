"""A source's language may be one code, a list, or "multi"; `add-source` records the site's home page."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import config, planning
from monitor.cli import cli
from monitor.models import Entry
from tests.conftest import SEED, scripted_server, write_config


def _sources(tmp_path: Path, language_line: str) -> Path:
    return write_config(tmp_path / "c", f'[[source]]\nname = "a"\nurl = "https://a.example/feed"\n{language_line}\n')


def test_language_accepts_a_code_a_list_or_multi_and_refuses_the_rest_in_one_line(tmp_path: Path):
    assert config.load(_sources(tmp_path, 'language = "fr"')).sources.source[0].languages == ("fr",)
    both = config.load(_sources(tmp_path, 'language = ["en", "fr"]')).sources.source[0]
    assert (both.languages, both.fallback_language, both.language_label) == (("en", "fr"), None, "en,fr")
    many = config.load(_sources(tmp_path, 'language = "multi"')).sources.source[0]
    assert (many.languages, many.fallback_language, many.language_label) == ((), None, "multi")
    for bad in ('language = "english"', "language = []", 'language = ["en", "EN-GB"]'):
        with pytest.raises(config.ConfigError) as err:
            config.load(_sources(tmp_path, bad))
        assert "\n" not in str(err.value) and "bad value for 'source.0.language'" in str(err.value)
        assert '"multi"' in str(err.value)


def test_a_page_falls_back_on_the_sources_language_only_when_it_has_one():
    entry = Entry("e1", "one", "g", "https://x.example/a", None, "t", None)
    sources = [config.Source(name="one", url="https://x.example/f", language=["de"]),
               config.Source(name="two", url="https://y.example/f", language="multi")]
    other = Entry("e2", "two", "g", "https://y.example/b", None, "t", None)
    requests = {r.source: r.language for r in planning.plan_pages([entry, other], [], set(), sources)}
    assert requests == {"one": "de", "two": None}


def test_add_source_writes_the_home_page_into_site_and_takes_a_language_list(tmp_path: Path):
    feed = (SEED / "feed.xml").read_bytes()  # its <link> is https://example.org/caucasus
    home = b'<html><head><link rel="alternate" type="application/rss+xml" href="/news/rss.xml"></head></html>'
    routes = {"/": (200, "text/html", home), "/news/rss.xml": (200, "application/rss+xml", feed),
              "/other/rss.xml": (200, "application/rss+xml", feed.replace(b"<link>https://example.org/caucasus</link>",
                                                                            b"", 1))}
    with scripted_server(routes) as base:
        directory = write_config(tmp_path / "c", "", allow=(base,))
        by_home = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/",
                                           "--language", "en,hy"])
        by_feed = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/news/rss.xml",
                                           "--name", "feed", "--language", "multi"])
    assert by_home.exit_code == 0, by_home.output
    assert by_feed.exit_code == 1  # the same feed twice
    sources = config.load(directory).sources.source
    assert [(s.site, s.language) for s in sources] == [(f"{base}/", ("en", "hy"))]
    with scripted_server(routes) as base:
        directory = write_config(tmp_path / "d", "", allow=(base,))
        from_link = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/news/rss.xml",
                                             "--language", "multi"])
        from_host = CliRunner().invoke(cli, ["--config", str(directory), "add-source", f"{base}/other/rss.xml"])
    assert from_link.exit_code == 0 and from_host.exit_code == 0, from_link.output + from_host.output
    sources = config.load(directory).sources.source
    # a feed URL: the feed's own <link> to its site, else its host's root page, never the feed's title
    assert [(s.site, s.language) for s in sources] == [("https://example.org/caucasus", "multi"), (f"{base}/", "en")]
