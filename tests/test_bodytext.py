"""Line-level body cleaning (pure functions)."""

import pytest

from monitor.extract.bodytext import clean_body, is_byline, is_dateline, is_leadin_line, is_title_line

TEXT = "The strike follows months of talks over night-shift pay that broke down on Thursday."


@pytest.mark.parametrize("line", [
    "Read also: Port strike spreads to the south", "Lesen Sie auch: Hafenarbeiter streiken",
    "Les også: Havnearbeidere streiker i Oslo", "À lire aussi : Grève des dockers", "Related:", "Ähnliche:",
    "Mehr zum Thema finden Sie hier:", "Czytaj także: Strajk w porcie",
])
def test_teasers_and_link_labels_are_leadins(line):
    assert is_leadin_line(line)


@pytest.mark.parametrize("line", [
    "Related to this, the minister said talks would resume.", "Recommended doses were exceeded, the report says.",
    TEXT, "Mehr als 300 Menschen protestierten am Freitag.",
])
def test_prose_is_not_a_leadin(line):
    assert not is_leadin_line(line)


def test_datelines_bylines_and_titles():
    assert is_dateline("Stand: 22.04.2024, 06:00 Uhr")
    assert is_dateline("17:41 JST, October 13, 2024")
    assert is_dateline("03.05.2024, 16:24 Uhr • Lesezeit: 5 Minuten")
    assert not is_dateline("On 12 May 300 people marched in Tbilisi.")
    assert is_byline("Von Nina Magoley") and is_byline("By Jane Doe and John Roe")
    assert not is_byline("By the end of the week the port was closed.")
    assert not is_byline("By the end of May")
    title = "Harbour workers strike over night-shift pay"
    assert is_title_line(f"World | {title}", title)
    assert is_title_line(f"{title} | wdr aktuell", title)
    assert not is_title_line(f"{title}, and the government says it is ready to appoint a mediator", "Strike")


def test_clean_body_keeps_prose_and_drops_furniture():
    title = "Harbour workers strike over night-shift pay"
    body = "\n".join([
        f"{title} | Example News", "Stand: 14.03.2025, 09:30 Uhr", "By Maria Holm", TEXT,
        "Lesen Sie auch: Hafenarbeiter streiken", "Related to this, the minister said talks would resume.",
        "Auch interessant", "- Streik im Hafen: Was Pendler wissen müssen", "- Schiffe warten vor der Küste",
        "Embed", "- A list item that belongs to the article", "© Example News 2025",
    ])
    assert clean_body(body, title).split("\n") == [
        TEXT, "Related to this, the minister said talks would resume.",
        "- A list item that belongs to the article",
    ]
