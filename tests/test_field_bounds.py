"""Bounds and normal forms of stored fields (issue 16: bounds on every field, dates in a sane window; issue 18
item 8: zone-less dates, HTML entities and site names in titles, one code per language). Pages are hand-written."""

from datetime import datetime, timezone

import pytest

from monitor import fields, warehouse
from monitor.extract import extract
from monitor.extract.metadata import choose_date, clean_title, read_date, site_labels
from monitor.models import Article, LoadBatch, RunRecord

FETCHED = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
URL = "https://news.example.org/world/harbour-strike.html"
PROSE = ("<p>Dock workers at the northern harbour walked out on Friday morning, halting the loading of container "
         "ships for the first time in a decade, union officials said.</p><p>The strike follows months of talks over "
         "night-shift pay and safety rules that broke down on Thursday, when the port authority rejected an offer.</p>")


def page(head: str = "", body: str = PROSE, lang: str = "en", h1: str = "Harbour workers strike") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{h1}</title>{head}</head>'
            f"<body><main><article><h1>{h1}</h1>{body}</article></main></body></html>")


def ld(**values: str) -> str:
    items = ", ".join(f'"{k}": "{v}"' for k, v in values.items())
    return f'<script type="application/ld+json">{{"@type": "NewsArticle", {items}}}</script>'


def article(html: str, url: str = URL, **kwargs) -> Article:
    result = extract(html, url, fetched_at=FETCHED, **kwargs)
    assert isinstance(result, Article), result
    return result


# --- bounds on every field -------------------------------------------------------------------------------------

def test_a_two_megabyte_title_is_cut_and_the_cut_recorded():
    huge = "Harbour " * 250_000  # 2 MB
    got = article(page(f'<meta property="og:title" content="{huge}">'))
    assert len(got.title) <= fields.MAX_TITLE_CHARS and got.title.startswith("Harbour Harbour")
    assert got.title.endswith("…") and got.truncated == ("title",)


def test_author_site_name_captions_credits_and_urls_are_bounded():
    figures = "".join(f'<figure><img src="/p{i}.jpg"><figcaption>Dock workers at gate number {i} of the harbour'
                      f'<span class="credit">Photo: Jens Lund</span></figcaption></figure>' for i in range(250))
    long_caption = ('<figure><img src="/long.jpg"><figcaption>' + "A very long caption about the harbour. " * 200 +
                    '<span class="credit">' + "Agency " * 100 + "</span></figcaption></figure>")
    head = (f'<meta name="author" content="{"Maria Holm " * 200}">'
            f'<meta property="og:site_name" content="{"Example News " * 50}">'
            f'<meta property="og:image" content="https://cdn.example.org/{"x" * 9000}.jpg">'
            f'<link rel="canonical" href="https://news.example.org/{"y" * 9000}">')
    got = article(page(head, body=long_caption + PROSE + figures))
    assert len(got.author) <= fields.MAX_AUTHOR_CHARS and len(got.site_name) <= fields.MAX_SITE_NAME_CHARS
    assert len(got.captions) == fields.MAX_CAPTIONS
    assert all(len(c.text) <= fields.MAX_CAPTION_CHARS for c in got.captions)
    assert all(len(c.credit or "") <= fields.MAX_CREDIT_CHARS for c in got.captions)
    # URLs are never cut (a cut URL is another page): the lead image is dropped, the canonical falls back
    assert got.lead_image is None and got.canonical_url == URL
    assert set(got.truncated) == {"author", "site_name", "canonical_url", "lead_image", "captions", "caption",
                                  "credit"}


def test_an_ordinary_page_is_not_flagged():
    got = article(page(ld(headline="Harbour workers strike", datePublished="2026-11-19T09:30:00+01:00")))
    assert (got.truncated, got.date_flags) == ((), ())
    assert (got.published, got.published_source) == (datetime(2026, 11, 19, 8, 30, tzinfo=timezone.utc), "json-ld")


def test_a_page_url_longer_than_any_server_accepts_is_a_rejection():
    long_url = "https://news.example.org/" + "z" * 9000
    rejected = extract(page(), long_url, fetched_at=FETCHED)
    assert rejected.reason == "url-too-long" and len(rejected.url) == fields.MAX_URL_CHARS


def test_cut_text_cuts_at_a_word_and_leaves_short_text_alone():
    assert fields.cut_text("short", 10) == ("short", False)
    assert fields.cut_text("one two three four", 12) == ("one two…", True)
    assert fields.cut_text(None, 5) == (None, False)


# --- dates in a sane window ------------------------------------------------------------------------------------

FEED_TIME = datetime(2026, 11, 19, 7, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("published, modified", [
    ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
    ("1970-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00"),  # a zero timestamp; an offset that overflows
    ("2026-12-25T08:00:00Z", "1989-12-31T23:00:00Z"),  # a month ahead of the fetch; before the web
])
def test_page_dates_outside_the_window_give_way_to_the_feed_date_and_are_flagged(published, modified):
    html = page(ld(headline="Harbour workers strike", datePublished=published, dateModified=modified))
    got = article(html, fallback_published=FEED_TIME)
    assert (got.published, got.published_source) == (FEED_TIME, "feed")
    assert got.modified is None
    assert got.date_flags == ("published-out-of-window:json-ld", "modified-out-of-window:json-ld")


def test_without_a_believable_date_the_article_has_none_so_first_seen_stands():
    html = page(ld(headline="Harbour workers strike", datePublished="9999-12-31T00:00:00Z"))
    bad_feed = datetime(9999, 12, 31, tzinfo=timezone.utc)  # a pending entry stored before feeds were bounded
    got = article(html, fallback_published=bad_feed)
    assert (got.published, got.published_source) == (None, None)
    assert got.date_flags == ("published-out-of-window:json-ld", "published-out-of-window:feed")


def test_two_days_ahead_of_the_fetch_is_still_believable():
    ahead = "2026-11-22T11:00:00Z"  # 47 hours after the fetch: tomorrow somewhere, or an embargo
    got = article(page(ld(headline="Harbour workers strike", datePublished=ahead)))
    assert got.published_source == "json-ld" and got.date_flags == ()


# --- a date without a zone does not beat the feed's (issue 18 item 8) ------------------------------------------

def test_a_zoneless_json_ld_date_gives_way_to_the_feeds_zone_aware_date():
    # The CMS writes local time (UTC+2) without saying so; the feed's pubDate has the zone.
    html = page(ld(headline="Harbour workers strike", datePublished="2024-08-05 20:59:59.0"))
    feed = datetime(2024, 8, 5, 18, 59, 59, tzinfo=timezone.utc)
    got = extract(html, URL, fallback_published=feed, fetched_at=FETCHED)
    assert (got.published, got.published_source) == (feed, "feed")
    # Without a feed date, the page's is read as UTC, as before.
    alone = extract(html, URL, fetched_at=FETCHED)
    assert (alone.published, alone.published_source) == (datetime(2024, 8, 5, 20, 59, 59, tzinfo=timezone.utc),
                                                          "json-ld")


def test_a_zoneless_date_stands_when_the_feed_disagrees_by_more_than_a_time_zone():
    html = page(ld(headline="Harbour workers strike", datePublished="2024-08-05 20:59:59"))
    updated_later = datetime(2024, 8, 7, 9, 0, tzinfo=timezone.utc)  # the feed re-dated the item on an update
    got = extract(html, URL, fallback_published=updated_later, fetched_at=FETCHED)
    assert got.published_source == "json-ld" and got.published.day == 5


def test_a_zone_aware_page_date_is_preferred_to_a_zoneless_one_and_to_the_feed():
    head = ld(headline="Harbour workers strike", datePublished="2024-08-05 20:59:59") + \
        '<meta property="article:published_time" content="2024-08-05T20:59:59+02:00">'
    got = extract(page(head), URL, fallback_published=datetime(2024, 8, 5, 19, 5, tzinfo=timezone.utc),
                  fetched_at=FETCHED)
    assert (got.published, got.published_source) == (datetime(2024, 8, 5, 18, 59, 59, tzinfo=timezone.utc), "meta")


def test_choose_date_rule_for_a_bare_day():
    day, kind = read_date("2024-08-05")
    assert kind == "date"
    late_that_day = datetime(2024, 8, 5, 23, 40, tzinfo=timezone.utc)
    assert choose_date("published", [(day, "json-ld", kind), (late_that_day, "feed", "aware")], FETCHED)[:2] == \
        (late_that_day, "feed")
    two_days_on = datetime(2024, 8, 7, 14, 0, tzinfo=timezone.utc)
    assert choose_date("published", [(day, "json-ld", kind), (two_days_on, "feed", "aware")], FETCHED)[:2] == \
        (day, "json-ld")


# --- titles: no entities, no site names ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, url, names, expected", [
    ("Donna Kelce Calls Taylor Swift&#8217;s Album Her &#8216;Best Work&#8217;", URL, [],
     "Donna Kelce Calls Taylor Swift’s Album Her ‘Best Work’"),
    ("Türkiye&#039;de orman yangınları", URL, [], "Türkiye'de orman yangınları"),
    ("Türkiye&amp;#039;de orman yangınları", URL, [], "Türkiye'de orman yangınları"),  # escaped twice
    ("AT&T buys Smith&nothing Ltd", URL, [], "AT&T buys Smith&nothing Ltd"),  # not entities
    ("Green hydrogen pipeline flagged - The Namibian", "https://www.namibian.com.na/x", [],
     "Green hydrogen pipeline flagged"),
    ("Ukrainische Gegenoffensive: Ziele, Chancen, Risiken | DW | 28.04.2023", "https://www.dw.com/de/x", [],
     "Ukrainische Gegenoffensive: Ziele, Chancen, Risiken"),
    ("Oil prices climb on supply worries – Reuters", "https://www.reuters.com/markets/x", [],
     "Oil prices climb on supply worries"),
    ("Einsatz am Brenner - Die Neue Südtiroler Tageszeitung", "https://www.tageszeitung.it/x",
     ["Neue Südtiroler Tageszeitung"], "Einsatz am Brenner"),
    ("Harbour Gazette | Strike ends after two days", URL, ["Harbour Gazette"], "Strike ends after two days"),
    # a dash inside a real headline is never a site suffix
    ("Storm hits coast - BBC reporter injured", "https://www.bbc.co.uk/news/x", ["BBC"],
     "Storm hits coast - BBC reporter injured"),
    ("Biden wins | New York", "https://www.nytimes.com/x", ["The New York Times"], "Biden wins | New York"),
    ("Ceasefire talks - what we know so far", URL, ["Example News"], "Ceasefire talks - what we know so far"),
    ("Reuters", "https://www.reuters.com/x", [], "Reuters"),
])
def test_titles_lose_entities_and_site_affixes_only(raw, url, names, expected):
    assert clean_title(raw, names, site_labels(url)) == expected


def test_an_extracted_title_is_unescaped_and_loses_the_site_suffix():
    head = ('<meta property="og:site_name" content="The Namibian">'
            '<meta property="og:title" content="Nam&amp;#039;s hydrogen pipeline flagged - The Namibian">')
    got = article(page(head, h1="Nam's hydrogen pipeline flagged"), "https://www.namibian.com.na/story/1")
    assert got.title == "Nam's hydrogen pipeline flagged"


# --- one code per language -------------------------------------------------------------------------------------

NORWEGIAN = ("<p>Bystyret i Bergen vedtok tirsdag å forlenge bybanen til de nordlige bydelene innen 2030. Ordføreren "
             "sa at arbeidet skal starte neste år, og at prosjektet vil gi tusenvis av innbyggere et bedre "
             "kollektivtilbud.</p>") * 2
NYNORSK = ("<p>Bystyret i Bergen vedtok tysdag å forlengja bybana til dei nordlege bydelane innan 2030. Ordføraren "
           "sa at arbeidet skal starta neste år, og at prosjektet vil gje tusenvis av innbyggjarar eit betre "
           "kollektivtilbod.</p>") * 2


@pytest.mark.parametrize("lang, body", [("nb", NORWEGIAN), ("no", NORWEGIAN), ("nb-NO", NORWEGIAN),
                                        ("nn", NYNORSK), ("nn-NO", NYNORSK), ("no", NYNORSK)])
def test_norwegian_is_stored_as_one_code(lang, body):
    got = article(page(body=body, lang=lang, h1="Bybanen blir forlenget"))
    assert (got.language, got.language_declared) == ("no", "no")
    assert got.language_detected in ("no", None)


@pytest.mark.parametrize("code, expected", [("en-GB", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("NB", "no"),
                                            ("iw", "he"), ("fil", "tl"), ("arz", "ar"), ("", None), ("x-klingon", None),
                                            ("english", None)])
def test_language_codes_are_normalised(code, expected):
    assert fields.normalize_language(code) == expected


def test_region_subtags_are_dropped_from_declared_languages():
    got = article(page(lang="en-GB"))
    assert got.language_declared == "en" and got.language == "en"


# --- stored ----------------------------------------------------------------------------------------------------

def test_the_cut_and_the_rejected_dates_reach_the_warehouse(tmp_path):
    html = page(f'<meta property="og:title" content="{"Harbour " * 1000}">' +
                ld(datePublished="0001-01-01T00:00:00Z"))
    got = article(html, fallback_published=FEED_TIME)
    path = tmp_path / "w.duckdb"
    warehouse.init(path)
    run = RunRecord("r1", None, FETCHED, FETCHED, "completed", ())
    warehouse.load(path, LoadBatch(run=run, articles=(got,)))
    _, rows = warehouse.query(path, "SELECT truncated, date_flags, published_source, length(title) FROM articles")
    assert rows == [(["title"], ["published-out-of-window:json-ld"], "feed", len(got.title))]
