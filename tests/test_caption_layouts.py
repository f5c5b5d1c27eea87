"""Captions on layouts without caption markup (issue 21): a short text block around one article image is its
caption, a credit printed as its own element is split off, and teaser cards and author boxes stay out."""

from monitor.extract.captions import harvest_captions
from monitor.extract.htmltext import parse_html
from monitor.models import Caption

BODY = "".join(f"<p>Paragraph {k} of the article about the harbour works, long enough to be the body text of the "
               f"page and to anchor the article container.</p>" for k in range(4))


def captions(inner: str) -> tuple[Caption, ...]:
    html = f"<html><body><article><h1>Harbour works begin</h1>{inner}{BODY}</article></body></html>"
    return harvest_captions(parse_html(html), "https://paper.example/news/harbour")


def test_an_unmarked_block_around_an_image_is_its_caption_with_the_credit_split_off():
    found = captions("<div class='sc-x1'><picture><img src='/a.jpg'></picture><div class='sc-y2'>"
                     "Cranes lift the first caisson into place<span>Getty Images</span></div></div>")
    assert found == (Caption("Cranes lift the first caisson into place", "Getty Images"),)


def test_teaser_cards_author_boxes_and_widgets_are_not_captions():
    found = captions(
        "<div><img src='/b.jpg'><div><a href='/other-story'>Mayor resigns after the budget vote in the council</a>"
        "</div></div>"                                                                   # a teaser card
        "<div><img src='/c.jpg'><span>By Jane Doe, harbour correspondent</span></div>"   # an author box
        "<div><img src='/d.jpg'><span>Share this article</span></div>"                   # a widget label
        "<div><img src='/e.jpg'><h3>More from the harbour this week</h3><span>Five stories</span></div>")
    assert found == ()


def test_captions_of_article_html_held_in_script_json_are_taken_when_that_html_is_the_body():
    import json

    from monitor.extract import extract

    caption = "Cranes lift the first caisson into place on Monday (Photo: Ana Reis)"
    article = (f"<div class='img-box'><img src='/a.jpg'><div class='caption'><p>{caption}</p></div></div>"
               + BODY.replace("harbour works", "harbour works in the client-rendered page"))
    teaser = "<div class='caption'><p>A teaser elsewhere on the site, never shown</p></div>"
    data = json.dumps({"contentHtml": article, "related": teaser})
    page = (f"<html><head><title>Harbour works begin</title></head><body><div id='app'></div>"
            f"<script>window.__DATA__ = {data};</script></body></html>")
    found = extract(page, "https://paper.example/news/harbour")
    assert found.extraction_method == "embedded-json" and "client-rendered page" in found.body
    assert found.captions == (Caption("Cranes lift the first caisson into place on Monday", "Photo: Ana Reis"),)
    assert "caisson" not in found.body  # the caption is not body text
