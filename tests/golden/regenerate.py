"""Golden extraction cases: write every case's HTML and its expected JSON (`python tests/golden/regenerate.py`).

Each case is a page layout written for this project (fundus keeps golden HTML plus expected JSON per publisher;
we keep one per layout we handle). The HTML comes from the builders below; the JSON is what `extract` returns
for it, written by this script and never edited by hand. Before writing, each case's intent is checked (its
`must` list: the captions it must find, text that must or must not be in the body), so a regression cannot be
blessed into the snapshot by regenerating. `tests/test_golden.py` compares `extract` with the JSON.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

CASES_DIR = Path(__file__).parent / "cases"
URL = "https://news.example.org/world/2025/03/14/harbour-strike.html"
FIELDS = ("title", "canonical_url", "published", "published_source", "modified", "language", "language_declared",
          "language_detected", "author", "site_name", "lead_image", "extraction_method", "body", "captions")

PARAGRAPHS = [
    "Dock workers at the northern harbour walked out on Friday morning, halting the loading of container ships "
    "for the first time in a decade, union officials said.",
    "The strike follows months of talks over night-shift pay and safety rules that broke down on Thursday, when "
    "the port authority rejected a final offer from the union.",
    "Shipping companies said at least a dozen vessels were waiting offshore and warned that delays could reach "
    "supermarkets within a week if the dispute was not settled.",
    "The transport minister urged both sides to return to the table and said the government was ready to appoint "
    "a mediator if they asked for one.",
    "Union leaders said the walkout would last at least 48 hours and that further action had not been ruled out, "
    "while the port authority said it remained open to talks.",
]
SPANISH = [
    "Los trabajadores del puerto del norte iniciaron el viernes una huelga que paralizó la carga de los buques "
    "portacontenedores por primera vez en una década, según informaron los sindicatos.",
    "La huelga llega tras meses de negociaciones sobre los salarios del turno de noche y las normas de seguridad, "
    "que se rompieron el jueves cuando la autoridad portuaria rechazó la última oferta.",
    "Las navieras dijeron que al menos una docena de buques esperaban frente a la costa y advirtieron de retrasos "
    "en los supermercados si el conflicto no se resolvía pronto.",
]
TITLE = "Harbour workers strike over night-shift pay"
CAPTION = "Dock workers gather at the main gate of the northern harbour on Friday morning."


@dataclass
class Case:
    name: str
    html: str
    url: str = URL
    captions: list[tuple[str, str | None]] | None = None  # exactly these (text, credit), when given
    body_has: list[str] = field(default_factory=list)
    body_lacks: list[str] = field(default_factory=list)
    expect: dict = field(default_factory=dict)  # other fields that must have these values


def paragraphs(texts: list[str] = PARAGRAPHS) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def page(body: str, head: str = "", lang: str = "en", title: str = TITLE, before: str = "", after: str = "") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Example News</title>'
            f"{head}</head><body><header class='site-header'><nav><a href='/'>Home</a><a href='/world'>World</a>"
            f"<a href='/sport'>Sport</a></nav></header>{before}<main><article><h1>{title}</h1>{body}</article>"
            f"</main>{after}<footer><p>Copyright 2025 Example News. All rights reserved. Privacy policy. "
            "Terms of use.</p></footer></body></html>")


LD = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
      '"headline": "Harbour workers strike over night-shift pay", "datePublished": "2025-03-14T09:30:00+01:00", '
      '"dateModified": "2025-03-14T12:00:00+01:00", "author": {"@type": "Person", "name": "Maria Holm"}, '
      '"publisher": {"@type": "Organization", "name": "Example News"}, '
      '"image": ["https://cdn.example.org/harbour.jpg"]}</script>')


def cases() -> list[Case]:
    p1, rest = paragraphs(PARAGRAPHS[:2]), paragraphs(PARAGRAPHS[2:])
    return [
        Case("figcaption-credit-span", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION} <span class="credit">Photo: Jens Lund</span>'
            f"</figcaption></figure>{paragraphs()}", head=LD),
            captions=[(CAPTION, "Jens Lund")], body_lacks=["Dock workers gather"],
            expect={"published_source": "json-ld", "author": "Maria Holm"}),
        Case("figcaption-ap-parenthesis", page(
            f'{p1}<figure><img src="/h.jpg"><figcaption>{CAPTION} (AP Photo/Lena Dahl)</figcaption></figure>{rest}'),
            captions=[(CAPTION, "AP Photo/Lena Dahl")]),
        Case("figcaption-slash-agency", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION} /Reuters/Aziz Karimov</figcaption></figure>'
            f"{paragraphs()}"), captions=[(CAPTION, "Reuters/Aziz Karimov")]),
        Case("figcaption-copyright", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION} © Getty Images</figcaption></figure>{paragraphs()}'),
            captions=[(CAPTION, "Getty Images")]),
        Case("wordpress-caption", page(
            f'<div class="wp-caption aligncenter"><img src="/h.jpg"><p class="wp-caption-text">{CAPTION} '
            f"Photograph: Ola Berg</p></div>{paragraphs()}"), captions=[(CAPTION, "Ola Berg")],
            body_lacks=["Dock workers gather"]),
        Case("caption-printed-twice", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION}</figcaption></figure>{paragraphs()}'
            f'<div class="lightbox" hidden><div class="lightbox-caption">{CAPTION}</div></div>'),
            captions=[(CAPTION, None)]),
        Case("short-name-caption", page(
            f'{p1}<figure><img src="/m.jpg"><figcaption>Anna-Maria Holm</figcaption></figure>{rest}'),
            captions=[("Anna-Maria Holm", None)]),  # a name is a caption (from 12 characters and 2 words)
        Case("gallery-captions", page(
            f'{paragraphs()}<div class="gallery"><div class="gallery__item"><img src="/1.jpg">'
            f'<div class="gallery__caption">Ships wait offshore as the strike enters its first day.</div></div>'
            f'<div class="gallery__item"><img src="/2.jpg"><div class="gallery__caption">Union leaders address '
            f"workers outside the port authority building.</div></div></div>"),
            captions=[("Ships wait offshore as the strike enters its first day.", None),
                      ("Union leaders address workers outside the port authority building.", None)]),
        Case("teaser-figures-excluded", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION}</figcaption></figure>{paragraphs()}'
            '<section class="more-news"><h2>More news</h2><a href="/world/2025/03/13/ferry.html"><figure>'
            '<img src="/f.jpg"><figcaption>A ferry leaves the southern terminal in heavy fog.</figcaption>'
            "</figure></a></section>"),
            captions=[(CAPTION, None)], body_lacks=["ferry leaves"]),
        Case("sidebar-outside-article", page(
            f'<figure><img src="/h.jpg"><figcaption>{CAPTION}</figcaption></figure>{paragraphs()}',
            before='<aside class="sidebar"><figure><img src="/a.jpg"><figcaption>The mayor opens the spring '
                   "flower market in the old town square.</figcaption></figure></aside>"),
            captions=[(CAPTION, None)]),
        Case("alt-text-is-not-a-caption", page(
            f'<img src="/h.jpg" alt="A crowd of dock workers in orange vests stands at a closed harbour gate.">'
            f"{paragraphs()}"), captions=[]),
        Case("read-more-inline", page(
            f"{p1}<p><strong>READ MORE:</strong> <a href='/a'>Port authority rejects union offer</a></p>{rest}"),
            body_has=[PARAGRAPHS[2]], body_lacks=["READ MORE", "rejects union offer"]),
        Case("related-list", page(
            f'{paragraphs()}<div class="related-stories"><h3>Related stories</h3><ul><li><a href="/x">Ferry '
            'workers vote on pay deal</a></li><li><a href="/y">Ports face record traffic</a></li></ul></div>'),
            body_lacks=["Related stories", "Ferry workers vote"]),
        Case("newsletter-box", page(
            f'{p1}<div class="newsletter-signup"><h3>Sign up for our morning briefing</h3><p>Get the day\'s top '
            f"stories in your inbox every morning.</p><button>Subscribe</button></div>{rest}"),
            body_has=[PARAGRAPHS[4]], body_lacks=["morning briefing", "in your inbox"]),
        Case("cookie-banner", page(
            paragraphs(), after='<div id="cookie-consent"><p>We use cookies to improve your experience on our '
                                "site. By continuing you accept our use of cookies.</p><button>Accept</button></div>"),
            body_lacks=["cookies"]),
        Case("json-ld-graph", page(paragraphs(), head=(
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebPage", '
            '"name": "x"}, {"@type": "NewsArticle", "headline": "Harbour workers strike over night-shift pay", '
            '"datePublished": "2025-03-14T08:00:00Z", "author": [{"@type": "Person", "name": "Maria Holm"}, '
            '{"@type": "Person", "name": "Per Ek"}]}]}</script>')),
            expect={"published": "2025-03-14T08:00:00+00:00", "published_source": "json-ld",
                    "author": "Maria Holm, Per Ek"}),
        Case("meta-dates", page(paragraphs(), head=(
            '<meta property="article:published_time" content="2025-03-14T10:15:00+00:00">'
            '<meta property="article:modified_time" content="2025-03-15T07:00:00+00:00">'
            '<meta property="og:site_name" content="Example News"><meta name="author" content="Maria Holm">'
            '<meta property="og:image" content="/img/harbour.jpg">')),
            expect={"published_source": "meta", "modified": "2025-03-15T07:00:00+00:00",
                    "site_name": "Example News", "lead_image": "https://news.example.org/img/harbour.jpg"}),
        Case("date-in-url-only", page(paragraphs()), expect={"published": "2025-03-14T00:00:00+00:00",
                                                               "published_source": "url"}),
        Case("amp-canonical", page(paragraphs(), head=(
            '<link rel="canonical" href="https://news.example.org/world/2025/03/14/harbour-strike.html">')),
            url="https://news.example.org/amp/world/2025/03/14/harbour-strike.html",
            expect={"canonical_url": URL}),
        Case("declared-english-is-spanish", page(paragraphs(SPANISH), title="Huelga en el puerto del norte"),
             expect={"language": "es", "language_declared": "en", "language_detected": "es"}),
        Case("div-soup-without-article", (
            "<html><head><title>Harbour strike</title></head><body><div class='wrap'><div class='menu'>"
            "<a href='/'>Home</a> <a href='/w'>World</a></div><div class='content'><h2>Harbour workers strike over "
            f"night-shift pay</h2>{paragraphs()}</div><div class='foot'>Contact us</div></div></body></html>"),
            body_has=PARAGRAPHS[:1] + PARAGRAPHS[-1:], body_lacks=["Contact us"]),
        # A data table in the text (results, figures) is part of the article: keeping tables scored higher on
        # trafilatura's evaluation pages and the same on fundus-dev (docs/benchmarks.md).
        Case("data-table-is-body", page(
            f"{paragraphs()}<table><tr><th>Berth</th><th>Ships</th></tr><tr><td>North 1</td><td>4</td></tr></table>"),
            body_has=["Berth", "North 1"]),
        Case("client-rendered-next-data", (
            "<html><head><title>Harbour strike</title></head><body><div id='__next'></div>"
            '<script id="__NEXT_DATA__" type="application/json">'
            + json.dumps({"props": {"pageProps": {"article": {"title": TITLE, "contentHtml": (
                '<div class="caption"><p>' + CAPTION + "</p></div>" + paragraphs())}}}})
            + "</script></body></html>"),
            body_has=PARAGRAPHS, body_lacks=["Dock workers gather"], captions=[(CAPTION, None)],
            expect={"extraction_method": "embedded-json"}),  # the article's own HTML: its caption is the article's
        Case("json-ld-article-body-only", (
            "<html><head><title>Harbour strike</title>"
            + '<script type="application/ld+json">' + json.dumps({
                "@type": "NewsArticle", "headline": TITLE, "articleBody": "\n\n".join(PARAGRAPHS)}) + "</script>"
            + "</head><body><div id='app'>Loading...</div></body></html>"),
            body_has=PARAGRAPHS),  # trafilatura reads articleBody itself; ours is the fallback when it does not
        Case("standfirst-in-header", page(
            paragraphs(),
            head='<meta name="description" content="Dock workers walk out over night-shift pay, halting container '
                 'ships for the first time in a decade.">',
            before="<div class='intro'><p class='standfirst'>Dock workers walk out over night-shift pay, halting "
                   "container ships for the first time in a decade.</p></div>"),
            body_has=["Dock workers walk out over night-shift pay"] + PARAGRAPHS),
        Case("read-also-teasers-in-other-languages", page(
            f"{p1}<p>Lesen Sie auch: Hafenarbeiter streiken in Hamburg</p>{rest}"
            "<p>Les også: Havnearbeidere streiker i Oslo</p><p>À lire aussi : Grève des dockers à Marseille</p>"),
            body_has=PARAGRAPHS, body_lacks=["Lesen Sie auch", "Les også", "lire aussi"]),
        Case("link-list-under-label", page(
            f"{paragraphs()}<p>Mehr zum Thema:</p><ul><li>Streik im Hafen: Was Pendler wissen müssen</li>"
            "<li>Schiffe warten vor der Küste</li></ul>"),
            body_has=PARAGRAPHS, body_lacks=["Mehr zum Thema", "Pendler wissen", "Schiffe warten"]),
        Case("headline-dateline-byline-repeated", page(
            f"<div class='meta'><p>World | {TITLE}</p><p>Stand: 14.03.2025, 09:30 Uhr</p><p>By Maria Holm</p></div>"
            f"{paragraphs()}<p>© Example News 2025</p>"),
            body_has=PARAGRAPHS, body_lacks=["Stand:", "By Maria Holm", "World |", "© Example"]),
        Case("post-inside-noscript", (
            "<!doctype html><html><head><title>Harbour strike</title></head><body><div id='app'></div>"
            f"<noscript><div class='post'><h1>{TITLE}</h1>{paragraphs()}</div></noscript>"
            "<noscript><img src='https://track.example.org/pixel.gif'></noscript></body></html>"),
            body_has=PARAGRAPHS),
        Case("caption-class-span-outside-figure", page(
            f'{p1}<div class="image"><img src="/h.jpg"><span class="image-caption">{CAPTION} Foto: Jens Lund'
            f"</span></div>{rest}"), captions=[(CAPTION, "Jens Lund")]),
    ]


def snapshot(case: Case) -> dict:
    from monitor.extract import extract
    from monitor.models import Article

    result = extract(case.html, case.url)
    if not isinstance(result, Article):
        return {"rejected": result.reason}
    out = {}
    for name in FIELDS:
        value = getattr(result, name)
        if name == "captions":
            value = [{"text": c.text, "credit": c.credit} for c in value]
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[name] = value
    return out


def problems(case: Case, got: dict) -> list[str]:
    """How the extraction misses the case's intent (empty when it meets it)."""
    found: list[str] = []
    if "rejected" in got:
        return [f"rejected: {got['rejected']}"]
    if case.captions is not None and [(c["text"], c["credit"]) for c in got["captions"]] != case.captions:
        found.append(f"captions {got['captions']} != {case.captions}")
    found += [f"body lacks {s!r}" for s in case.body_has if s not in got["body"]]
    found += [f"body has {s!r}" for s in case.body_lacks if s in got["body"]]
    found += [f"{k} = {got.get(k)!r}, wanted {v!r}" for k, v in case.expect.items() if got.get(k) != v]
    return found


def main() -> int:
    CASES_DIR.mkdir(exist_ok=True)
    failed = 0
    for case in cases():
        got = snapshot(case)
        wrong = problems(case, got)
        if wrong:
            failed += 1
            print(f"{case.name}: NOT written: {'; '.join(wrong)}")
            continue
        (CASES_DIR / f"{case.name}.html").write_text(case.html, encoding="utf-8")
        record = {"url": case.url, "expected": got}
        (CASES_DIR / f"{case.name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n",
                                                      encoding="utf-8")
    print(f"{len(cases()) - failed} cases written to {CASES_DIR}, {failed} failing their intent")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    sys.exit(main())
