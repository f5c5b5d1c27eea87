"""OPML in and out: a reader's feed list served on 127.0.0.1 is imported (folders as tags, repeats and known feeds
skipped and counted, broken feeds listed, the file written all at once); bad OPML gives one line."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import config
from monitor.cli import cli
from monitor.opml import OpmlError, OpmlFeed, parse_opml
from tests.conftest import SEED, scripted_server, write_config

RSS = "application/rss+xml"


def _feed(title: str) -> bytes:
    return (SEED / "feed.xml").read_bytes().replace(b"Caucasus watch (sample feed)", title.encode(), 1)


def _opml(base: str) -> bytes:
    return f"""<?xml version="1.0"?>
<opml version="1.0"><head><title>my reader</title></head><body>
  <outline text="World" title="World">
    <outline type="rss" text="Alpha" xmlUrl="{base}/alpha.xml" htmlUrl="{base}/alpha/"/>
    <outline text="Caucasus">
      <outline type="rss" text="Beta" xmlUrl="{base}/beta.xml" language="hy"/>
    </outline>
  </outline>
  <outline text="Gone" xmlUrl="{base}/gone.xml"/>
  <outline text="Page" xmlUrl="{base}/page.html"/>
  <outline text="Alpha again" xmlUrl="{base}/alpha.xml"/>
  <outline text="Known" xmlUrl="{base}/known.xml"/>
</body></opml>""".encode()


def test_import_opml_from_a_url_adds_the_working_feeds_once_with_their_folders(tmp_path: Path):
    routes = {"/alpha.xml": (200, RSS, _feed("Alpha")), "/beta.xml": (200, RSS, _feed("Beta")),
              "/known.xml": (200, RSS, _feed("Known")), "/page.html": (200, "text/html", b"<html><p>hi</p></html>")}
    with scripted_server(routes) as base:
        routes["/list.opml"] = (200, "text/x-opml", _opml(base))
        directory = write_config(tmp_path / "c", f'# mine\n[[source]]\nname = "known"\nurl = "{base}/known.xml"\n')
        before = (directory / "sources.toml").read_text()
        result = CliRunner().invoke(cli, ["--config", str(directory), "import-opml", f"{base}/list.opml"])
        again = CliRunner().invoke(cli, ["--config", str(directory), "import-opml", f"{base}/list.opml"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"imported 2 of 6 feeds into {directory / 'sources.toml'}; skipped 1 listed twice, 1 already configured; "
        "2 failed:", f"  {base}/gone.xml: HTTP 404", f"  {base}/page.html: not a feed (not-a-feed)"]
    text = (directory / "sources.toml").read_text()
    assert text.startswith(before)  # appended, the file's own lines kept
    added = config.load(directory).sources.source[1:]
    assert [(s.name, s.url, s.site, s.language, s.tags) for s in added] == [
        ("127-0-0-1", f"{base}/alpha.xml", f"{base}/alpha/", "en", ("World",)),
        ("127-0-0-1-2", f"{base}/beta.xml", "https://example.org/caucasus", "hy", ("World", "Caucasus"))]
    assert again.output.startswith("imported 0 of 6 feeds") and "3 already configured; 2 failed" in again.output
    assert again.exit_code == 1 and (directory / "sources.toml").read_text() == text


def test_export_opml_round_trips_through_import(tmp_path: Path):
    directory = write_config(tmp_path / "c", '[[source]]\nname = "a"\nurl = "https://a.example/rss"\n'
                                             'site = "https://a.example/"\ntags = ["world", "wire"]\n'
                                             '[[source]]\nname = "b"\nurl = "https://b.example/rss"\nlanguage = "multi"\n')
    out = tmp_path / "sources.opml"
    result = CliRunner().invoke(cli, ["--config", str(directory), "export-opml", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert parse_opml(out.read_bytes()) == [OpmlFeed("https://a.example/rss", "a", "https://a.example/", "en",
                                                     ("world", "wire")),
                                            OpmlFeed("https://b.example/rss", "b", "", "multi")]


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"<opml><body><outline xmlUrl='x'", "is not well-formed XML"),
    (b"<rss><channel/></rss>", "is XML but not OPML (its root is <rss>)"),
    (b"<opml version='2.0'><head/></opml>", "has no <body>"),
    (b"<opml><body><outline text='folder'/></body></opml>", "lists no feeds"),
    # entities are never expanded, local files never read
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><opml><body><outline text="&c;"/></body></opml>',
     "lists no feeds"),
])
def test_bad_opml_is_one_line(content: bytes, message: str):
    with pytest.raises(OpmlError) as err:
        parse_opml(content, "list.opml")
    assert message in str(err.value) and "\n" not in str(err.value) and str(err.value).startswith("list.opml ")


def test_an_external_entity_is_not_read(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    content = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]>'
               '<opml><body><outline text="&x;" xmlUrl="https://a.example/rss"/></body></opml>').encode()
    with pytest.raises(OpmlError) as err:  # refused, never read
        parse_opml(content)
    assert "external entity" in str(err.value) and "top secret" not in str(err.value)


def test_import_of_a_bad_file_writes_nothing_and_says_one_line(tmp_path: Path):
    directory = write_config(tmp_path / "c", "")
    bad = tmp_path / "bad.opml"
    bad.write_bytes(b"<opml><body>")
    result = CliRunner().invoke(cli, ["--config", str(directory), "import-opml", str(bad)])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith(f"Error: {bad} is not well-formed XML")
    assert (directory / "sources.toml").read_text() == ""
