"""Site furniture learned from a site's own pages (issue 21): a hand-written site of ten article pages whose frame
carries a standards line, a sign-in prompt, a newsletter pitch and an author headshot caption inside the article;
two of its articles quote the same sentence. The furniture goes, the quote and the articles' text stay."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from monitor.extract import boilerplate
from monitor.cli import cli
from monitor.extract import extract_pages
from monitor.models import Article, Caption, Page

SUBJECTS = ["the harbour bridge", "the new tram line", "the river festival", "the city budget", "the school strike",
            "the museum reopening", "the stadium vote", "the flood barrier", "the airport expansion", "the book fair"]
FURNITURE = ["Our Standards: The Example Gazette Trust Principles.",
             "Log in or create an account to continue reading our journalism",
             "Get the morning briefing delivered to your inbox every weekday"]
HEADSHOT = "Maria Keller is the Gazette's city reporter"
QUOTE = "We will not stop until every family on this street has a safe home again, the mayor said."


def site_page(n: int) -> str:
    subject = SUBJECTS[n]
    body = "".join(f"<p>Reporting on {subject}: part {k} of the story, with details that only this article has, "
                   f"such as the figure {n * 17 + k} and the street number {n + 3 * k}.</p>" for k in range(5))
    quoted = f"<p>{QUOTE}</p>" if n in (2, 7) else ""
    return (f"<html lang='en'><head><title>{subject.title()} | Example Gazette</title>"
            f"<meta property='og:title' content='{subject.title()}'>"
            "<meta property='article:published_time' content='2026-11-10T09:00:00Z'></head><body>"
            f"<article><h1>{subject.title()}</h1>"
            f"<div class='author'><figure><img src='/staff/keller.jpg'><figcaption>{HEADSHOT}</figcaption>"
            f"</figure></div>"
            f"<figure><img src='/img/{n}.jpg'><figcaption>A view of {subject} on Tuesday morning</figcaption></figure>"
            f"<p>{FURNITURE[1]}</p>{body}{quoted}<p>{FURNITURE[2]}</p><p>{FURNITURE[0]}</p>"
            "</article></body></html>")


def site_pages() -> list[Page]:
    return [Page(f"https://www.gazette.example/city/{n}", f"https://www.gazette.example/city/{n}", site_page(n))
            for n in range(10)]


def test_furniture_of_a_ten_page_site_is_removed_and_a_shared_quote_kept():
    plain = [a for a in extract_pages(site_pages()) if isinstance(a, Article)]
    assert len(plain) == 10
    # without learning, the frame's lines are in the bodies (the test would prove nothing otherwise)
    assert all(any(line in a.body for line in FURNITURE) for a in plain)
    cleaned = [a for a in extract_pages(site_pages(), learn_furniture=True) if isinstance(a, Article)]
    for before, after in zip(plain, cleaned):
        assert not any(line in after.body for line in FURNITURE)
        assert HEADSHOT not in [c.text for c in after.captions]
        assert [c.text for c in after.captions if "A view of" in c.text]  # the article's own caption stays
        kept = [line for line in before.body.split("\n") if not any(f in line for f in FURNITURE)]
        assert after.body.split("\n") == kept  # nothing but furniture removed
    assert sum(QUOTE in a.body for a in cleaned) == 2  # quoted by two articles: news, not furniture


def test_a_line_on_few_of_many_pages_is_kept_and_hosts_are_learned_apart():
    line = "The ceasefire took effect at midnight local time."
    articles = [Article(f"a{n}", f"https://one.example/{n}", f"https://one.example/{n}", "t",
                        f"Story {n} with its own words.\n" + (line if n < 4 else f"Other text number {n} here."),
                        captions=(Caption("Staff photographer at work"),))
                for n in range(20)]
    other = [Article(f"b{n}", f"https://two.example/{n}", f"https://two.example/{n}", "t", "Only text here today.")
             for n in range(3)]
    furniture = boilerplate.learn(articles + other)
    # four of twenty pages share the line: under the share a site's frame has; the caption is on all twenty
    assert furniture == {"one.example": frozenset({"staff photographer at work"}),
                         "two.example": frozenset({"only text here today"})}


def test_monitor_extract_learns_furniture_from_its_batch_by_host(tmp_path: Path):
    lines = []
    for n, page in enumerate(site_pages()):
        html = tmp_path / f"{n}.html"
        html.write_text(page.html, encoding="utf-8")
        lines.append(json.dumps({"id": n, "url": page.url, "html_path": str(html)}))
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n{not json}\n", encoding="utf-8")
    for flag, furnished in (([], False), (["--no-site-furniture"], True)):
        result = CliRunner().invoke(cli, ["extract", "--jsonl", str(tmp_path / "in.jsonl"), *flag])
        assert result.exit_code == 0, result.output
        out = [json.loads(line) for line in result.output.splitlines()]
        assert len(out) == 11 and "error" in out[-1]
        assert all((FURNITURE[0] in o["body"]) == furnished for o in out[:10])
        assert sum(QUOTE in o["body"] for o in out[:10]) == 2
