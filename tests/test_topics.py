"""IPTC top-level topics beyond English: the multilingual lexicon and how it is blended with the English classifier.

Every example is a sentence written for this test file (no corpus text): a short news item per language and topic,
the way a wire story of that kind opens.
"""

import tomllib

import pytest

from monitor import config
from monitor.tagging import Tagger, topicmodel
from tests.conftest import CONFIG

CONFLICT, CRIME, DISASTER, HEALTH = "medtop:16000000", "medtop:02000000", "medtop:03000000", "medtop:07000000"
ECONOMY, POLITICS, SPORT, RELIGION = "medtop:04000000", "medtop:11000000", "medtop:15000000", "medtop:12000000"
ARTS, SCIENCE, WEATHER = "medtop:01000000", "medtop:13000000", "medtop:17000000"


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    cfg = config.load(CONFIG)
    return Tagger(cfg.regions, cfg.topics, cfg.settings.tagging)


# (language, title, text, expected top-level topic)
EXAMPLES = [
    ("ru", "Армия продолжает наступление", "Войска провели обстрел позиций противника, ракетный удар уничтожил "
     "склад боеприпасов, сообщило министерство обороны.", CONFLICT),
    ("ru", "Суд вынес приговор", "Суд приговорил бывшего чиновника к восьми годам колонии по делу о взятке; "
     "прокуратура требовала более строгого наказания.", CRIME),
    ("ru", "Землетрясение на юге", "Землетрясение магнитудой 6 разрушило дома, спасатели МЧС ищут пострадавших.",
     DISASTER),
    ("uk", "Лікарні переповнені", "Епідемія грипу: лікарі просять пацієнтів вакцинуватися, МОЗ закупило вакцину.",
     HEALTH),
    ("de", "Bundesregierung uneins", "Der Kanzler und die Minister der Koalition streiten über den Haushalt; "
     "die Opposition im Bundestag fordert Neuwahlen.", POLITICS),
    ("de", "Polizei nimmt Verdächtigen fest", "Nach dem Mord in der Altstadt hat die Polizei einen Tatverdächtigen "
     "festgenommen; die Staatsanwaltschaft ermittelt.", CRIME),
    ("de", "Hochwasser im Süden", "Nach tagelangem Starkregen sind Dörfer überschwemmt; die Feuerwehr evakuiert "
     "Anwohner, zwei Menschen kamen ums Leben.", DISASTER),
    ("fr", "Les combats reprennent", "L'armée a repoussé une offensive des rebelles ; des frappes de drones ont "
     "visé les positions des groupes armés malgré le cessez-le-feu.", CONFLICT),
    ("fr", "Épidémie de choléra", "Le ministère de la Santé signale de nouveaux cas de choléra ; les hôpitaux "
     "manquent de médicaments et l'OMS envoie des vaccins.", HEALTH),
    ("fr", "Victoire des Lions", "Les Lions ont battu leurs adversaires en demi-finale de la CAN ; l'attaquant a "
     "marqué deux buts et l'entraîneur salue son équipe.", SPORT),
    ("es", "Inflación récord", "La inflación sube por los precios de la energía y el banco central estudia "
     "subir los tipos de interés; las empresas temen una recesión.", ECONOMY),
    ("it", "Terremoto nel centro Italia", "Una forte scossa di terremoto ha causato il crollo di alcune case; "
     "la protezione civile coordina i soccorsi.", DISASTER),
    ("pl", "Wybory parlamentarne", "Partie opozycji prowadzą w sondażach przed wyborami do Sejmu; premier "
     "zapowiada nową koalicję.", POLITICS),
    ("tr", "Deprem bölgesinde arama kurtarma", "Deprem sonrası enkaz altında kalanlar için AFAD ekipleri "
     "kurtarma çalışması yürütüyor.", DISASTER),
    ("sv", "Polisen griper misstänkt", "En man har gripits misstänkt för mord; åklagaren väntas begära honom "
     "häktad.", CRIME),
    ("ar", "غارات جوية على المدينة", "شنت القوات غارات جوية وقصفا مدفعيا على مواقع المسلحين، وأعلن الجيش مقتل "
     "عدد من المقاتلين.", CONFLICT),
    ("fa", "واکسن آنفلوانزا", "وزارت بهداشت اعلام کرد بیمارستان‌ها آماده پذیرش بیماران هستند و واکسن توزیع شد.",
     HEALTH),
    ("zh", "央行下调利率", "中国人民银行宣布下调利率，股市上涨，经济学家预计投资和消费将回暖。", ECONOMY),
    ("ja", "大雨で避難指示", "気象庁によると大雨と強風が続き、各地で浸水被害が出ている。", WEATHER),
    ("ko", "대통령 국회 연설", "대통령은 국회에서 예산안을 설명했고 야당 의원들은 정부를 비판했다.", POLITICS),
    ("sw", "Simba yashinda mechi", "Timu ilipata ushindi wa mabao mawili katika mechi ya ligi kuu, na kocha "
     "aliwapongeza wachezaji.", SPORT),
    ("ha", "Zaben gwamna", "Jam'iyyar adawa ta ce za ta kalubalanci sakamakon zaben gwamna a kotu, yayin da "
     "gwamnati ta yaba da zaben.", POLITICS),
    ("yo", "Ilera awon omode", "Ijoba ni ajesara wa ni ile iwosan fun awon omode, awon dokita si ro awon obi.",
     HEALTH),
    ("am", "የጤና ሚኒስቴር ክትባት", "የጤና ሚኒስቴር በሆስፒታሎች የኮሮና ክትባት መስጠት መጀመሩን አስታወቀ።", HEALTH),
    ("so", "Kooxda kubadda cagta", "Kooxda ayaa guul ka gaartay ciyaarta horyaalka, tababaraha ayaa ammaanay "
     "ciyaartoyda.", SPORT),
    ("en", "Rebels shell the capital", "Fighting intensified as rebel artillery shelled the capital and troops "
     "launched a counter-offensive, the army said.", CONFLICT),
    ("en", "Cholera outbreak spreads", "Health officials said hospitals were treating hundreds of patients as a "
     "cholera outbreak spread, and the WHO sent vaccines.", HEALTH),
]


@pytest.mark.parametrize("language,title,text,want", EXAMPLES, ids=[f"{e[0]}-{i}" for i, e in enumerate(EXAMPLES)])
def test_the_top_topic_is_right_in_each_language(tagger, language, title, text, want):
    topics = tagger.score_topics(title, text)
    assert topics[0].code == want, [(t.code, t.score) for t in topics]


def test_a_declared_language_gives_the_same_top_topic(tagger):
    for language, title, text, want in EXAMPLES:
        assert tagger.score_topics(title, text, language=language)[0].code == want, language


def test_scores_are_top_level_codes_best_first(tagger):
    topics = [t for t in tagger.score_topics(*EXAMPLES[0][1:3]) if t.level == 1]
    assert all(t.code.startswith("medtop:") and t.code.endswith("000000") for t in topics)
    assert [t.score for t in topics] == sorted((t.score for t in topics), reverse=True)
    assert 0 < topics[0].score <= 1


def test_mixed_language_text_reads_both_parts(tagger):
    text = ("Die Polizei hat den Verdächtigen festgenommen. Le tribunal a condamné l'accusé à dix ans de prison. "
            "Суд вынес приговор.")
    assert tagger.score_topics("", text)[0].code == CRIME


def test_english_function_words_decide_how_english_a_text_is():
    assert topicmodel.english_share("The minister said that the talks would resume in the spring.") == 1.0
    assert topicmodel.english_share("Le ministre a déclaré que les négociations reprendraient.") == 0.0
    assert topicmodel.english_share("") == 0.0


def test_french_article_is_not_read_by_the_english_classifier(tagger):
    # "de", "la" and "film" once made the English classifier call every French text arts and culture
    topics = tagger.score_topics("Les députés adoptent la loi", "L'Assemblée nationale a voté le projet de loi du "
                                 "gouvernement ; l'opposition dénonce un passage en force du Premier ministre.")
    assert topics[0].code == POLITICS


def test_stems_match_inflections_and_arabic_prefixes():
    lexicon = topicmodel.lexicon()
    column = {code: i for i, code in enumerate(lexicon.codes)}
    assert lexicon.evidence("войнами")[column[CONFLICT]] == 1  # "войн*"
    assert lexicon.evidence("والحرب")[column[CONFLICT]] == 1  # "and the war": و + ال + حرب
    assert lexicon.evidence("大地震")[column[DISASTER]] == 1  # substring, counted once for its longest entry
    assert lexicon.evidence("경찰이")[column[CRIME]] == 1  # Korean particle after the noun


def test_yoruba_is_read_with_or_without_tone_marks():
    lexicon = topicmodel.lexicon()
    health = lexicon.codes.index(HEALTH)
    assert lexicon.evidence("ilé ìwòsàn")[health] == lexicon.evidence("ile iwosan")[health] >= 1
    assert lexicon.evidence("ilé ìwòsàn la santé")[health] >= 2  # the French accent still counts beside them


def test_the_lexicon_file_names_only_known_topics():
    data = tomllib.loads(topicmodel.LEXICON.read_text(encoding="utf-8"))
    bad = {(lang, key) for lang, table in data.items() for key in table if key not in topicmodel.TOPIC_KEYS}
    assert not bad
    assert len(data) >= 30  # languages


def test_an_unknown_topic_key_is_a_clear_error():
    with pytest.raises(ValueError, match=r"\[xx\] has an unknown topic 'wars'"):
        topicmodel.build_lexicon({"xx": {"wars": ["war"]}})


def test_english_keyword_rules_are_silent_in_french(tagger):
    # the rules' "coup*" (a coup d'etat) matches "coupe" (a cup) and "pet*" matches "petit": not in French
    title, text = "La coupe au village", "Un petit village a fêté la finale de la coupe : l'équipe a gagné le match."
    rules = tagger.rule_evidence(title, text)
    silent = tagger.rule_evidence(title, text, rules_weight=0.0)
    conflict = tagger.topic_codes.index(CONFLICT)
    assert rules[conflict] > silent[conflict] == 0  # the rules would have fired; the French lexicon does not
    assert tagger.score_topics(title, text, language="fr")[0].code == SPORT
    assert "fr" in topicmodel.RULES_SILENT_LANGUAGES and "pcm" not in topicmodel.RULES_SILENT_LANGUAGES


def test_the_classifier_alone_knows_the_topics_the_bbc_set_lacks():
    # Balanced classes and hand-written articles: unbalanced, the classifier never predicted health at all
    model = topicmodel.load()
    for text, want in [
        ("Doctors at the hospital treated patients with measles and the clinic ran out of vaccines and medicines.",
         HEALTH),
        ("Troops and rebels fought for the town; air strikes and shelling killed soldiers and civilians.", CONFLICT),
        ("Police arrested the suspect and prosecutors charged him with murder; the trial opens in court next month.",
         CRIME),
    ]:
        scores = model.log_probabilities(text)
        assert model.classes[int(scores.argmax())] == want, text


def test_english_lexicon_covers_current_technology_words():
    lexicon = topicmodel.lexicon()
    science = lexicon.codes.index(SCIENCE)
    assert lexicon.evidence("The fintech start-up's chatbot runs on mobile money and social media")[science] >= 3


def test_the_classifier_reads_the_shared_word_split_as_it_reads_the_text():
    # the stretches between word gaps (a lone "'" joins them) give the same words, so the same scores, to the bit
    from monitor.tagging.keywords import _TextWords

    model = topicmodel.load()
    for text in ["Rock'n'roll won't save the economy's 2nd-quarter covid19th-century naïve shares' rally bank2rates",
                 "Prices rose; the central bank's rates rose too.", "１２３ ΟΔΟΣ", ""]:
        assert model.log_probabilities(text, _TextWords(text).quoted).tolist() == \
            model.log_probabilities(text).tolist(), text
