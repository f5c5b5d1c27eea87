import pytest

from monitor import config
from monitor.extract import extract
from monitor.tagging import Tagger, find_countries
from tests.conftest import CONFIG


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    cfg = config.load(CONFIG)
    return Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)


@pytest.mark.parametrize("name", ["cgtn-armenia-azerbaijan.html", "wire-armenia-azerbaijan.html", "armenia-ceasefire.html"])
def test_seed_articles_get_the_expected_tags(tagger, seed_html, expected, name):
    want = expected["articles"][name]
    article = extract(seed_html[name], f"http://127.0.0.1:9/{name}")
    tags = tagger.tag(article.article_id, article.title, article.body, tuple(c.text for c in article.captions))
    if "countries_exactly" in want:
        assert list(tags.countries) == want["countries_exactly"]
    for code in want.get("countries_include", []):
        assert code in tags.countries
    for code in want.get("countries_must_not_include", []):
        assert code not in tags.countries
    for region in want.get("regions_include", []):
        assert region in tags.regions
    labels = [t.label for t in tags.topics]
    for label in want.get("topics_include", []):
        assert label in labels
    assert set(tags.about) <= set(tags.countries)


def test_demonyms_metonyms_capitals_and_datelines():
    text = "YEREVAN - Azeri troops fired. The Kremlin said Tbilisi and Downing Street were told. Armenians left."
    assert sorted({m.code for m in find_countries(text)}) == ["AM", "AZ", "GB", "GE", "RU"]


def test_ambiguous_names_need_context():
    assert [m.code for m in find_countries("Michael Jordan scored 40 points.")] == []
    assert [m.code for m in find_countries("Aid reached Jordan on Monday.")] == ["JO"]
    assert {m.code for m in find_countries("In Georgia, the Atlanta county board met with the governor.")} == {"US"}
    assert {m.code for m in find_countries("Georgia's parliament in Tbilisi voted.")} == {"GE"}
    assert find_countries("We ate turkey and chad was there.") == []


def codes(text: str) -> set[str]:
    return {m.code for m in find_countries(text)}


def test_a_town_is_placed_by_its_qualifier_or_its_county():
    assert codes("The fair opened in Paris, Tenn., on Friday.") == {"US"}
    assert codes("Paris police said the Henry County jail was full. Henry County deputies and Henry County "
                 "officials agreed.") == {"US"}
    assert codes("The president flew to Paris after a stop in the United States.") == {"FR", "US"}
    assert codes("A plant in London, Ont., will close.") == {"CA"}
    assert codes("Classes resumed in Athens, Georgia, and in Athens, Tenn.") == {"US"}  # not Greece, not GE


def test_lists_of_countries_are_not_qualifiers():
    assert codes("Cases were found in Slovenia, Croatia and Denmark.") == {"SI", "HR", "DK"}


def test_currency_continents_and_names_are_not_countries():
    assert codes("A grant of US$2.4 million reached South America and the Voice of America.") == set()
    assert codes("George Bush met Mary Smith.") == set()
    assert codes("Congo and the Congolese army") == {"CD"}


def test_captions_are_tagged_and_marked(tagger):
    tags = tagger.tag("d", "Talks resume", "Negotiators met again.", ("Delegates in Yerevan, Armenia.",))
    assert tags.countries == ("AM",) and tags.caption_countries == ("AM",)


def test_about_is_kept_apart_from_mentions(tagger):
    body = "France and Germany signed the deal in Paris. French officials praised it.\nA Japanese envoy attended."
    tags = tagger.tag("d", "France and Germany sign deal", body)
    assert set(tags.countries) == {"FR", "DE", "JP"}
    assert "FR" in tags.about and "JP" not in tags.about


def test_regions_follow_m49_parents_and_groups(tagger):
    tags = tagger.tag("d", "", "Troops massed on the border of Armenia.")
    assert {"Western Asia", "Asia", "South Caucasus"} <= set(tags.regions)


def test_topics_are_iptc_codes_best_first(tagger):
    tags = tagger.tag("d", "Striker scores twice as City win the league title",
                      "The striker scored in the second half and the team won the championship match.")
    assert tags.topics[0].code == "medtop:15000000" and tags.topics[0].label == "sport"
    top = [t.score for t in tags.topics if t.level == 1]
    assert top == sorted(top, reverse=True)


def test_a_second_level_topic_is_named_under_a_confident_parent(tagger):
    tags = tagger.tag("d", "Election campaign enters final week",
                      "Voters head to the polls as the election campaign closes. The election commission said "
                      "turnout in the presidential election could be high; parliament and the government wait.")
    assert tags.topics[0].code == "medtop:11000000"
    (narrower,) = [t for t in tags.topics if t.level == 2]
    assert narrower.code == "medtop:20000574" and narrower.label == "election"
    assert 0 < narrower.score <= tags.topics[0].score


def test_keyword_rules_match_words_prefixes_phrases_and_capitals():
    from monitor.config import Topic, Topics
    from monitor.tagging import KeywordIndex

    topics = Topics(topic=(
        Topic(code="medtop:07000000", label="health", keywords=("WHO", "vaccin*", "mental health")),
        Topic(code="medtop:11000000", label="politics", keywords=("elect*",), weak_keywords=("talks",)),
    ))
    index = KeywordIndex(topics)
    text = "The WHO said who gets vaccines first; mental health and elections. Election talks."
    assert list(index.evidence(text)) == [3.0, 2.25]  # WHO, vaccines, mental health | elections, Election, talks/4
    assert list(index.evidence("who knows")) == [0.0, 0.0]
