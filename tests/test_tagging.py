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


@pytest.mark.parametrize("text", ["", "record-breaking rock'n’roll--twice", "a-b-c d- -e 'f g'h", "x_y İstanbul ΟΔΟΣ",
                                  "covid-19's 2nd wave\nthe WHO’s - plan", "-'’", "ab", "don't\n\nstop—now",
                                  "rock'n'roll 1990's 'quoted' x''y naïve's covid19th é'a"])
def test_topic_words_are_split_once_as_each_reader_splits_them(text):
    import re

    from monitor.tagging.keywords import _WORD, _TextWords
    from monitor.tagging.topicmodel import TOKEN, Lexicon

    words = _TextWords(text)
    assert words.glued == _WORD.findall(text.lower())  # the keyword rules' words
    assert words.words == re.findall(r"\w+", text.lower())  # the narrower topics' words
    assert words.plain in (None, Lexicon.words(text))  # the lexicon's, when they are the same
    assert (words.plain is None) == ("_" in text or "İ" in text)
    # the classifier's words, read stretch by stretch
    assert [w for s in words.quoted for w in TOKEN.findall(s)] == TOKEN.findall(text.lower())


def test_lower_casing_keeps_every_character_a_word_character_or_not():
    # the foreign matcher reads word bounds off the lower-cased text when it is as long as the text
    import re

    word = re.compile(r"\w")
    changed = [hex(i) for i in range(0x110000)
               if len(low := chr(i).lower()) == 1 and bool(word.match(chr(i))) != bool(word.match(low))]
    assert changed == []


@pytest.mark.parametrize("text", ["l'Ukraine-Krieg", "US-Wahlen und Türkiye'de", "x'", "-US", "a--b 'c' d’e-9f",
                                  "rock'n’roll", "İstanbul'da", ""])
def test_words_joined_by_hyphens_and_apostrophes_are_found_from_word_bounds(text):
    from monitor.tagging.foreign import _FOREIGN_PARTS, _IN_A_WORD, _in_a_word
    from monitor.tagging.names import _split

    lowered = text.lower()
    _, bounds = _split(_FOREIGN_PARTS, lowered if len(lowered) == len(text) else text)
    assert _in_a_word(text, bounds) == [m.span() for m in _IN_A_WORD.finditer(text)]


# --- countries in other languages: hand-written sentences, none taken from any corpus ---------------------------

@pytest.mark.parametrize("language, text, want", [
    ("ru", "Переговоры России и Азербайджана прошли в Москве; в Кремле их назвали трудными.", {"RU", "AZ"}),
    ("ru", "Огонь азербайджанской артиллерии не смолкал, заявили в Ереване.", {"AZ", "AM"}),
    ("ru", "Делегация встретилась с Германией, а США и РФ промолчали.", {"DE", "US", "RU"}),
    ("ru", "В Брянской области объявили тревогу.", {"RU"}),
    ("uk", "Україна та Росія обмінялися полоненими.", {"UA", "RU"}),
    ("pl", "Premier Polski pojechał do Niemiec, a w Polsce trwa spór o Rosję.", {"PL", "DE", "RU"}),
    ("cs", "Ministr odletěl do Německa a pak do Ruska.", {"DE", "RU"}),
    ("tr", "Türkiye'de seçimler yapıldı; Rusya'nın tepkisi sert oldu.", {"TR", "RU"}),
    ("tr", "Arjantinli oyuncu kulübe imza attı.", {"AR"}),
    ("az", "Azərbaycanın nümayəndəsi Ermənistana səfər etdi.", {"AZ", "AM"}),
    ("ar", "وصل الوفد بالعراق ثم للسودان، وقال المسؤول الروسي إن المحادثات مستمرة.", {"IQ", "SD", "RU"}),
    ("fa", "وزیر خارجه ایران با همتای روسیه دیدار کرد.", {"IR", "RU"}),
    ("zh", "外交部说，俄罗斯和美国的会谈将继续。", {"RU", "US"}),
    ("ja", "ロシア軍がウクライナ東部を攻撃し、日米の首脳が電話で協議した。", {"RU", "UA", "JP", "US"}),
    ("ko", "러시아는 미국과 협상했다.", {"RU", "US"}),
    ("hy", "Հայաստանի և Ադրբեջանի միջև բանակցություններ են ընթանում։", {"AM", "AZ"}),
    ("ka", "საქართველოს და რუსეთის საზღვარზე ვითარება დაიძაბა.", {"GE", "RU"}),
    ("de", "Die deutsche Regierung kritisierte die russische Armee.", {"DE", "RU"}),
    ("de", "Russlands Außenminister traf den Kollegen in Kiew.", {"RU", "UA"}),
    ("de", "Die US-Wahlen beschäftigen auch die Bundesregierung.", {"US", "DE"}),
    ("fr", "Les troupes azerbaïdjanaises et le gouvernement français; l'Élysée a réagi.", {"AZ", "FR"}),
    ("es", "El alcalde de Córdoba habló en Andalucía sobre el turismo.", {"ES"}),
    ("es", "Córdoba y Rosario, en Argentina, sufrieron inundaciones.", {"AR"}),
])
def test_country_names_in_many_languages_and_their_forms(language, text, want):
    assert {m.code for m in find_countries(text, language)} == want


@pytest.mark.parametrize("language, text", [
    ("ja", "インドアスポーツが人気だ。"),  # "indoor" holds the katakana for India: not a name inside a longer word
    ("fr", "La réunion des ministres a duré trois heures."),  # a meeting, not the island
    ("de", "Die Aktie der Deutsche Bank fiel am Montag."),  # a company's name
    ("ru", "Он свободно говорит на русском языке."),  # a language
    ("fr", "Elle écrit en français et en allemand."),
    ("en", "She served Brussels sprouts and French fries."),
    ("en", "Real Madrid won; the New York Times and Air France reported it."),
])
def test_words_languages_and_organisations_are_not_places(language, text):
    assert find_countries(text, language) == []


def test_the_democratic_republic_of_the_congo_is_not_the_republic_of_the_congo():
    assert {m.code for m in find_countries("Fighting in the Democratic Republic of the Congo went on.", "en")} == {"CD"}


def test_a_passing_capital_does_not_make_the_focus(tagger):
    body = ("The central bank in Ankara raised interest rates again.\nTurkey's lira fell. Turkish exporters "
            "welcomed it, and one analyst who had flown in from Paris said more was to come.")
    tags = tagger.tag("d", "Turkey raises rates", body, language="en")
    assert "FR" in tags.countries and tags.about == ("TR",)


def test_language_status_and_regions_of_the_focus(tagger):
    tags = tagger.tag("d", "Переговоры в Ереване", "Армения и Азербайджан договорились о границе.\nРоссия "
                      "предложила посредничество.", language="ru")
    assert tags.language == "ru" and tags.status == "ok"
    assert {"AM", "AZ"} <= set(tags.about)
    assert "South Caucasus" in tags.regions_about and set(tags.regions_about) <= set(tags.regions)


def test_the_language_is_detected_when_none_is_given(tagger):
    tags = tagger.tag("d", "Wahl in Polen", "Die polnische Regierung hat am Sonntag die Wahl gewonnen, "
                      "berichteten Beobachter aus Warschau und Berlin.")
    assert tags.language == "de" and tags.status == "ok" and {"PL", "DE"} <= set(tags.countries)


def test_an_unsupported_language_is_marked_and_still_tagged(tagger):
    tags = tagger.tag("d", "Habari", "Rais wa Kenya alikutana na viongozi wa Tanzania jijini Nairobi.",
                      language="sw")
    assert tags.status == "unsupported-language" and tags.language == "sw"
    assert {"KE", "TZ"} <= set(tags.countries)


def test_mixed_language_text_finds_names_of_both(tagger):
    tags = tagger.tag("d", "Talks", "The minister said: «Россия и Германия договорились». Then he left for Paris.",
                      language="en")
    assert {"RU", "DE", "FR"} <= set(tags.countries)


def test_tag_articles_reads_each_articles_language():
    from datetime import datetime, timezone

    from monitor.models import Article
    from monitor.tagging import tag_articles

    cfg = config.load(CONFIG)
    article = Article("a1", "http://127.0.0.1:9/a", "http://127.0.0.1:9/a", "Wybory w Polsce",
                      "Premier Polski spotkał się z prezydentem Niemiec.",
                      published=datetime(2026, 1, 1, tzinfo=timezone.utc), language="pl")
    (tags,) = tag_articles([article], cfg.regions, cfg.topics, cfg.settings.tagging)
    assert tags.language == "pl" and {"PL", "DE"} <= set(tags.countries)
