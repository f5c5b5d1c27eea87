"""The visual report: rendered from a real warehouse by the CLI and by the Prefect flow, drawn by headless Chromium."""

import re
import shutil
import struct
import subprocess
import zlib
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.models import ReportData
from monitor.report_page import ABOUT, MENTIONED, PALETTE, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def small_data(title: str = "Talks resume") -> ReportData:
    days = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    return ReportData(
        days[0], days[-1], days, {"articles": 6, "stories": 4, "outlets": 2, "countries": 3},
        regions={"Europe": [1, 3, 2], "Asia": [0, 1, 1]}, topics={"politics": [1, 2, 1], "sport": [0, 1, 1]},
        countries=[("FR", 4, 2), ("DE", 2, 0)],
        stories=[{"title": title, "outlets": 2, "articles": 3, "outlet_names": ["a", "b"], "countries": ["FR"],
                  "url": "https://news.example/talks?a=1&b=2", "new": True}],
        spikes=[{"day": days[2], "dimension": "country", "value": "FR", "articles": 3, "mean_28d": 0.5, "z": 4.1}],
        sources=[{"source": "a", "health": "ok", "last_success": None, "items_per_day": 2.0, "articles": 3,
                  "success_rate": 1.0, "fallbacks": 0, "missing_date": 0, "last_error": None}])


def test_the_page_is_self_contained_and_escapes_text():
    html = render(small_data("<script>alert(1)</script> & more"), datetime(2026, 11, 4, tzinfo=timezone.utc))
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert not re.search(r"""(src\s*=|<link[^>]+href\s*=)\s*["']?(https?:)?//""", html)  # nothing fetched
    assert "<a href='https://news.example/talks?a=1&amp;b=2'>" in html  # links are followed only when clicked
    assert ">France</text>" in html and ">FR</text>" not in html  # countries by name
    assert {"region-chart", "topic-chart", "country-chart"} <= set(re.findall(r"<svg id=([\w-]+)", html))
    assert html.count("<polyline class=series") == 2 and html.count("<rect class=bar") == 5 + 3


def test_an_empty_warehouse_still_gives_a_page():
    html = render(ReportData(None, None), datetime(2026, 11, 4, tzinfo=timezone.utc))
    assert "no articles yet" in html and "<svg" not in html


def test_cli_and_flow_write_the_report_from_a_real_warehouse(seed_warehouse, tmp_path, prefect_harness):
    from flows.report import report

    seed_warehouse = _own_copy(seed_warehouse, tmp_path)  # each report records its run in the warehouse
    out = tmp_path / "cli.html"
    result = CliRunner().invoke(cli, ["report", "--out", str(out), "--warehouse", str(seed_warehouse)])
    assert result.exit_code == 0 and result.output.startswith(f"wrote {out}: 3 articles, ")
    flow_out = tmp_path / "flow" / "report.html"
    assert report(out=str(flow_out), warehouse_path=str(seed_warehouse)) == str(flow_out)
    for page in (out.read_text(), flow_out.read_text()):
        assert "Armenia" in page and page.count("<svg id=") == 3


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes): (width, height, rows of RGB)."""
    data = path.read_bytes()
    pos, idat, width, height, channels = 8, b"", 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(v for k, v in enumerate(line) if k % channels < 3))
        previous = line
    return width, height, rows


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)")
def test_chromium_draws_the_charts(seed_warehouse, tmp_path):
    seed_warehouse = _own_copy(seed_warehouse, tmp_path)
    out = tmp_path / "report.html"
    assert CliRunner().invoke(cli, ["report", "--out", str(out), "--warehouse", str(seed_warehouse)]).exit_code == 0
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1000,1600", f"--screenshot={shot}", out.as_uri()],
                   check=True, capture_output=True, timeout=120, cwd=tmp_path)
    width, height, rows = png_pixels(shot)
    assert (width, height) == (1000, 1600)
    counts: dict[str, int] = {}
    for colour in (*PALETTE[:3], ABOUT, MENTIONED):
        rgb = bytes.fromhex(colour[1:])
        counts[colour] = sum(row[x : x + 3] == rgb for row in rows for x in range(0, len(row), 3))
    # the seed's three articles: topic bars and region lines in the first colours, country bars in both blues
    assert counts[PALETTE[0]] > 500 and counts[MENTIONED] > 200, counts
    assert sum(counts.values()) > 2_000, counts


def _own_copy(seed_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the shared seed warehouse: reports record their runs in it."""
    path = tmp_path / "seed.duckdb"
    shutil.copyfile(seed_warehouse, path)
    return path


def test_the_report_links_names_heads_and_marks_what_is_new_since_the_previous(seed_warehouse, tmp_path):
    from monitor import warehouse

    path = _own_copy(seed_warehouse, tmp_path)
    config_dir = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", config_dir)
    (config_dir / "watches.toml").write_text('[watch.ceasefire]\nquery = "ceasefire"\n', encoding="utf-8")

    def report(out: Path, *args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config_dir), "report", "--out", str(out), "--warehouse",
                                          str(path), *args])
        assert result.exit_code == 0, result.output
        return out.read_text(encoding="utf-8")

    first = report(tmp_path / "first.html")
    urls = {u for (u,) in warehouse.query(path, "SELECT url FROM articles")[1]}
    links = re.findall(r"<a href='([^']+)'", first)
    assert set(links) <= urls and len(set(links)) == 2  # the two stories, each by its first member's URL
    assert "First report of this warehouse" in first and first.count("<span class=new>new</span>") > 2
    assert "<h2>Watches</h2>" in first and "<h3>ceasefire</h3>" in first and "Headlines by country" in first
    assert "<h3>Armenia</h3>" in first and ">Azerbaijan</text>" in first and ">AM</text>" not in first
    second = report(tmp_path / "second.html")
    assert "0 of these stories are new since the previous report (" in second
    assert second.count("<span class=new>new</span>") == 1  # the legend's only
    digest = report(tmp_path / "digest.html", "--digest")  # digests count from their own last run
    assert "<svg" not in digest and "<style" not in digest and "class=new" in digest
    assert warehouse.query(path, "SELECT kind, count(*) FROM report_runs GROUP BY 1 ORDER BY 1")[1] == \
        [("digest", 1), ("report", 2)]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)")
def test_chromium_finds_the_links_and_draws_the_digest(seed_warehouse, tmp_path):
    from monitor import warehouse

    path = _own_copy(seed_warehouse, tmp_path)
    titles = dict(warehouse.query(path, "SELECT url, title FROM articles")[1])
    for name, args in (("report.html", []), ("digest.html", ["--digest"])):
        out = tmp_path / name
        assert CliRunner().invoke(cli, ["report", "--out", str(out), "--warehouse", str(path), *args]).exit_code == 0
        dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", out.as_uri()],
                             check=True, capture_output=True, text=True, timeout=120, cwd=tmp_path).stdout
        anchors = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', dom)  # as Chromium parsed the page
        assert anchors and all(titles[url] == text for url, text in anchors), anchors
        assert {url for url, _ in anchors} == {u for u in titles if "#" not in u and "wire" not in u}
    shot = tmp_path / "digest.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=800,900", f"--screenshot={shot}", (tmp_path / "digest.html").as_uri()],
                   check=True, capture_output=True, timeout=120, cwd=tmp_path)
    _, _, rows = png_pixels(shot)
    badge, link = bytes.fromhex("D55E00"), bytes.fromhex("0b57d0")
    counts = [sum(row[x:x + 3] == colour for row in rows for x in range(0, len(row), 3)) for colour in (badge, link)]
    assert counts[0] > 300 and counts[1] > 300, counts  # the "new" badges and the blue links, from inline styles
