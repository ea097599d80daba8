#!/usr/bin/env python3
"""Generate the embedded default data sets of fastemb (deterministic, stdlib + numpy).

    python data/generate.py            # rewrites every output next to this script
    python data/generate.py --out DIR  # writes them into DIR instead

Outputs (see data/README.md):

* ``corpus.txt.gz``      synthetic English-like corpus with planted analogy structure
* ``analogies.txt``      the planted analogy questions (Google ``questions-words.txt`` layout)
* ``labelled-train.txt`` / ``labelled-test.txt``      single-label topic classification (fastText format)
* ``multilabel-train.txt`` / ``multilabel-test.txt``  1-3 labels per line (one-vs-all)

Every word list below is written here; no third-party text is used.  The
generator is seeded, so a re-run reproduces byte-identical files (the gzip
header carries no file name and mtime 0).

How the analogy structure is planted
------------------------------------
Each relation (country/capital/nationality, male/female, singular/plural,
base/comparative/superlative, base/participle/past) is a table of *entities*
(one row: ``france paris french``) by *sides* (one column: country, capital,
adjective).  A sentence about the word at (entity i, side s) surrounds it with

* context words *specific to entity i*, shared by all its sides: three
  made-up landmark names per country (they occur with france, paris and french
  alike), three real words for the other entities (throne/crown/palace for
  king and queen, garage/engine/parking for car and cars, pool/lake/swimmer
  for swim, swimming and swam, ...);
* context words *specific to side s*, shared by all entities of the relation:
  the side's templates (mayor, downtown, city around every capital; nation,
  government, border around every country; he/his/him vs she/her/herself;
  one/each + is/was/has vs many/several + are/were/have; very vs than vs
  ever; will/can vs are ... now vs yesterday/ago), and
* a few words of filler from a Zipf-distributed background vocabulary.

Every context column then depends on i only or on s only, so the
co-occurrence statistics (and the shifted PMI matrix that skip-gram
factorises) are additive, row(i, s) = X[i] + Y[s], hence vec(b) - vec(a) +
vec(c) ~ vec(d) for a = (i, s), b = (i, t), c = (j, s), d = (j, t).  One
sentence in ten names two sides of the entity together ("tokyo is the
capital of japan", "the king and the queen"), as real text does, so that the
nearest neighbours show the pairs too.

The corpus is a sequence of paragraphs (4-10 lines) about one entity, one
topic (food, animals, sports, ...) or nothing in particular.  Paragraphs keep
the gzip file small (repeats fall inside deflate's 32 KiB window); the word
statistics do not depend on the order of lines.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys

import numpy as np

SEED = 20240611

# ---------------------------------------------------------------------------
# Word lists (all written for this project)
# ---------------------------------------------------------------------------

# Function words, most frequent first (Zipf head of the background).
FUNCTION_WORDS = """
the of and to in a is that for it was on with as at by be this from or an
are not but have they which you were we all their has had there been can would
more will if so what about when also up into out than other some could them only
its our over then may after most such time new just like how where between
because through should before while during about very any now under those here
""".split()

# Common content words of the background (each used in no role or entity).
CONTENT_WORDS = """
year people way day thing world life hand part place case week company system
program question work number night point home water room area money story fact
month lot right study job word business issue side kind head service friend power
hour game line end member law idea body information back face others level
office door health person art war history party result change morning reason
research guy moment air teacher force education order problem group name
make know take see come think look want give use find tell ask seem feel try
leave call keep let begin show hear play run move live believe hold bring happen
write provide sit stand lose pay meet include continue set learn lead understand
watch follow stop create speak read allow add spend grow open walk win offer
remember love consider appear buy wait serve die send expect build stay fall cut
reach kill remain suggest raise pass sell require report decide pull
good little long great old high different large next early young
important few public bad same able last late hard major better best free sure
clear full special easy strong whole certain low real simple human local possible
political social white black red green blue dark recent open final main single
past foreign ready rich common poor natural significant similar dead
central happy serious green available likely short personal current wrong private
""".split()

# --- relation tables -------------------------------------------------------

COUNTRIES = [  # country, capital, nationality adjective
    ("france", "paris", "french"), ("germany", "berlin", "german"),
    ("italy", "rome", "italian"), ("spain", "madrid", "spanish"),
    ("portugal", "lisbon", "portuguese"), ("greece", "athens", "greek"),
    ("russia", "moscow", "russian"), ("poland", "warsaw", "polish"),
    ("sweden", "stockholm", "swedish"), ("norway", "oslo", "norwegian"),
    ("finland", "helsinki", "finnish"), ("denmark", "copenhagen", "danish"),
    ("austria", "vienna", "austrian"), ("hungary", "budapest", "hungarian"),
    ("ireland", "dublin", "irish"), ("egypt", "cairo", "egyptian"),
    ("japan", "tokyo", "japanese"), ("china", "beijing", "chinese"),
    ("thailand", "bangkok", "thai"), ("vietnam", "hanoi", "vietnamese"),
    ("turkey", "ankara", "turkish"), ("iran", "tehran", "iranian"),
    ("cuba", "havana", "cuban"), ("peru", "lima", "peruvian"),
    ("chile", "santiago", "chilean"), ("canada", "ottawa", "canadian"),
    ("australia", "canberra", "australian"), ("kenya", "nairobi", "kenyan"),
    ("ukraine", "kyiv", "ukrainian"), ("netherlands", "amsterdam", "dutch"),
]

GENDER = [  # male, female
    ("king", "queen"), ("man", "woman"), ("boy", "girl"), ("brother", "sister"),
    ("father", "mother"), ("son", "daughter"), ("husband", "wife"),
    ("uncle", "aunt"), ("nephew", "niece"), ("prince", "princess"),
    ("actor", "actress"), ("grandfather", "grandmother"),
    ("grandson", "granddaughter"), ("groom", "bride"), ("waiter", "waitress"),
    ("emperor", "empress"), ("duke", "duchess"), ("god", "goddess"),
    ("hero", "heroine"), ("monk", "nun"), ("boyfriend", "girlfriend"),
    ("dad", "mom"), ("stepfather", "stepmother"), ("stepson", "stepdaughter"),
]

NOUNS = [  # singular, plural
    ("car", "cars"), ("bus", "buses"), ("truck", "trucks"), ("bike", "bikes"),
    ("boat", "boats"), ("ship", "ships"), ("train", "trains"), ("plane", "planes"),
    ("house", "houses"), ("tree", "trees"), ("flower", "flowers"),
    ("river", "rivers"), ("mountain", "mountains"), ("road", "roads"),
    ("bridge", "bridges"), ("window", "windows"), ("table", "tables"),
    ("box", "boxes"), ("key", "keys"), ("shoe", "shoes"),
    ("book", "books"), ("letter", "letters"), ("coin", "coins"),
    ("child", "children"), ("mouse", "mice"), ("foot", "feet"),
    ("tooth", "teeth"), ("knife", "knives"), ("leaf", "leaves"), ("wolf", "wolves"),
]

ADJECTIVES = [  # base, comparative, superlative
    ("big", "bigger", "biggest"), ("small", "smaller", "smallest"),
    ("fast", "faster", "fastest"), ("slow", "slower", "slowest"),
    ("tall", "taller", "tallest"), ("short", "shorter", "shortest"),
    ("old", "older", "oldest"), ("young", "younger", "youngest"),
    ("cheap", "cheaper", "cheapest"), ("warm", "warmer", "warmest"),
    ("cold", "colder", "coldest"), ("hot", "hotter", "hottest"),
    ("bright", "brighter", "brightest"), ("quiet", "quieter", "quietest"),
    ("loud", "louder", "loudest"), ("heavy", "heavier", "heaviest"),
    ("light", "lighter", "lightest"), ("strong", "stronger", "strongest"),
    ("weak", "weaker", "weakest"), ("deep", "deeper", "deepest"),
    ("happy", "happier", "happiest"), ("easy", "easier", "easiest"),
    ("good", "better", "best"), ("bad", "worse", "worst"),
]

VERBS = [  # base, present participle, past tense
    ("walk", "walking", "walked"), ("play", "playing", "played"),
    ("jump", "jumping", "jumped"), ("dance", "dancing", "danced"),
    ("sing", "singing", "sang"), ("swim", "swimming", "swam"),
    ("run", "running", "ran"), ("write", "writing", "wrote"),
    ("bake", "baking", "baked"), ("cook", "cooking", "cooked"),
    ("paint", "painting", "painted"), ("climb", "climbing", "climbed"),
    ("build", "building", "built"), ("drive", "driving", "drove"),
    ("fly", "flying", "flew"), ("eat", "eating", "ate"),
    ("drink", "drinking", "drank"), ("sleep", "sleeping", "slept"),
    ("speak", "speaking", "spoke"), ("sell", "selling", "sold"),
    ("buy", "buying", "bought"), ("teach", "teaching", "taught"),
    ("think", "thinking", "thought"), ("go", "going", "went"),
]

# Context words specific to one entity (shared by all its sides).  Countries get
# made-up landmark names instead (generated below).
SPECIFIC_WORDS = {
    # gender
    "king": "throne crown palace", "man": "adult stranger crowd",
    "boy": "playground schoolyard toys", "brother": "sibling twin childhood",
    "father": "parenting newborn cradle", "son": "firstborn adoption upbringing",
    "husband": "marriage spouse anniversary", "uncle": "relatives reunion cousin",
    "nephew": "babysitter birthday godchild", "prince": "castle fairytale kingdom",
    "actor": "film screenplay audition", "grandfather": "retirement pension grandchildren",
    "grandson": "grandparents heirloom storybook", "groom": "wedding veil altar",
    "waiter": "restaurant tips menu", "emperor": "empire dynasty imperial",
    "duke": "estate manor aristocracy", "god": "temple worship myth",
    "hero": "villain quest legend", "monk": "monastery prayer convent",
    "boyfriend": "dating romance breakup", "dad": "kids chores bedtime",
    "stepfather": "remarriage custody household", "stepson": "blended teenager guardian",
    # nouns
    "car": "garage engine parking", "bus": "passengers route depot",
    "truck": "cargo freight diesel", "bike": "pedal helmet saddle",
    "boat": "harbor paddle dock", "ship": "sailors deck voyage",
    "train": "railway platform tracks", "plane": "airport pilot runway",
    "house": "roof porch neighborhood", "tree": "forest branch bark",
    "flower": "petals garden bouquet", "river": "stream valley delta",
    "mountain": "summit peak slope", "road": "traffic highway asphalt",
    "bridge": "arch crossing span", "window": "glass curtain frame",
    "table": "dining furniture tablecloth", "box": "cardboard package lid",
    "key": "lock keychain locksmith", "shoe": "laces heel sneaker",
    "book": "library chapter author", "letter": "envelope stamp mailbox",
    "coin": "mint copper collector", "child": "kindergarten toddler nursery",
    "mouse": "mousetrap burrow rodent", "foot": "toes ankle sock",
    "tooth": "dentist enamel toothbrush", "knife": "blade cutlery sharpener",
    "leaf": "foliage stem autumn", "wolf": "howl pack wilderness",
    # adjectives
    "big": "size giant volume", "small": "miniature pocket tiny",
    "fast": "speed racer sprint", "slow": "snail delay pace",
    "tall": "tower skyscraper height", "short": "length shortcut brief",
    "old": "ancient ruins antique", "young": "youth juvenile puppy",
    "cheap": "price bargain discount", "warm": "blanket cozy fireplace",
    "cold": "ice winter freezer", "hot": "stove spicy boiling",
    "bright": "glow lamp neon", "quiet": "silence whisper calm",
    "loud": "noise siren shout", "heavy": "weight load boulder",
    "light": "feather balloon airy", "strong": "muscle steel fortress",
    "weak": "fragile frail feeble", "deep": "ocean abyss trench",
    "happy": "smile joy cheerful", "easy": "task puzzle effortless",
    "good": "quality virtue merit", "bad": "mistake damage failure",
    # verbs
    "walk": "sidewalk path steps", "play": "games playtime recess",
    "jump": "trampoline leap hurdle", "dance": "ballroom dancer waltz",
    "sing": "karaoke hymn vocals", "swim": "pool lake swimmer",
    "run": "runner treadmill laps", "write": "essay novel diary",
    "bake": "oven dough baker", "cook": "kitchen recipe chef",
    "paint": "canvas brush easel", "climb": "rope cliff rockface",
    "build": "brick construction builder", "drive": "steering motorway driver",
    "fly": "wings sky airline", "eat": "meal lunch appetite",
    "drink": "beverage thirst sip", "sleep": "bed pillow dream",
    "speak": "speech voice conversation", "sell": "customer shop salesman",
    "buy": "purchase store receipt", "teach": "classroom lesson student",
    "think": "mind brain reasoning", "go": "journey trip destination",
}
SPECIFIC_WORDS = {k: v.split() for k, v in SPECIFIC_WORDS.items()}

# --- topical clusters (corpus neighbours and the labelled data sets) ---------

TOPICS = {
    "food": """bread cheese butter rice pasta soup salad pizza apple banana
        orange grape lemon cherry strawberry potato tomato carrot onion garlic
        pepper chocolate cake cookie honey sugar salt egg milk yogurt""",
    "animals": """lion tiger elephant giraffe zebra monkey fox bear deer rabbit
        squirrel eagle owl parrot snake turtle frog whale dolphin shark salmon
        horse cow sheep goat pig chicken duck camel kangaroo""",
    "sports": """football soccer tennis basketball baseball hockey golf rugby
        cricket volleyball boxing skiing marathon goal referee stadium coach
        tournament league championship match score team players season racket
        trophy medal athlete olympics""",
    "music": """guitar piano violin drums trumpet flute saxophone cello melody
        rhythm chord song album concert band orchestra symphony jazz opera choir
        singer lyrics tempo harmony tune playlist rehearsal composer pianist
        microphone""",
    "tools": """hammer screwdriver wrench pliers saw drill chisel nail screw bolt
        ladder shovel rake axe tape glue sandpaper toolbox workshop clamp
        workbench vise sander crowbar mallet spanner trowel pickaxe plywood lumber""",
    "weather": """rain snow wind storm cloud thunder lightning fog sunshine
        temperature humidity forecast hurricane tornado drought frost hail breeze
        drizzle rainfall blizzard monsoon heatwave umbrella raincoat celsius
        meteorologist barometer flood snowfall""",
    "technology": """computer software laptop internet server database network
        processor keyboard smartphone app algorithm code browser website download
        upload email password chip robot firmware bandwidth startup
        hacker gadget tablet pixel encryption""",
    "medicine": """doctor nurse hospital patient vaccine surgery fever infection
        virus bacteria disease symptom diagnosis clinic pharmacy therapy injury
        pain treatment prescription antibiotic surgeon ambulance vitamin dose
        allergy cough bandage stethoscope""",
}
TOPICS = {k: v.split() for k, v in TOPICS.items()}

# Words shared by two topics (ambiguous evidence for the classifier).
SHARED_TOPIC_WORDS = {
    ("sports", "music"): "performance fans tour stage",
    ("food", "medicine"): "diet healthy nutrition",
    ("technology", "medicine"): "research lab data",
    ("weather", "sports"): "outdoor",
    ("food", "animals"): "farm meat",
    ("tools", "technology"): "device repair",
    ("animals", "weather"): "wild nature",
    ("music", "technology"): "digital",
}

# ---------------------------------------------------------------------------
# Templates.  Tokens: {W} target word, {S} entity-specific word, {F} background
# filler word, [a|b|c] one of the alternatives, anything else is literal.
# Side-role vocabulary is written into the side's templates.
# ---------------------------------------------------------------------------

COUNTRY_SIDES = {
    "country": [
        "the [government|president] of {W} visited the {S} {S} {F}",
        "{W} is a [nation|republic] known for the {S} {S} and the {S}",
        "the {S} {S} border of {W} has a large population",
        "citizens of {W} elected a new [government|parliament] near the {S} {S}",
        "the {S} {S} is the national symbol of {W}",
        "{W} signed a treaty with its neighbours over the {S} {S} {S}",
    ],
    "capital": [
        "the [mayor|council] of {W} opened the {S} {S} downtown",
        "{W} is a [city|metropolis] known for the {S} {S} and the {S}",
        "the {S} {S} district of {W} has crowded streets",
        "residents of {W} took the [metro|tram] to the {S} {S}",
        "the {S} {S} is the main landmark of downtown {W}",
        "{W} city hall opened a museum by the {S} {S} {S}",
    ],
    "adjective": [
        "the {W} [people|speakers] celebrate the {S} {S} {F}",
        "{W} is a language spoken around the {S} {S} and the {S}",
        "the {S} {S} is a traditional {W} [dish|custom|festival]",
        "many {W} [writers|artists] praise the {S} {S}",
        "the {S} {S} is typical of {W} culture",
        "locals talk in {W} with a {S} {S} {S} accent",
    ],
}

_GENDER_TEMPLATES = [
    "the {W} said that {he} would visit the {S} {S}",
    "the {W} and {his} {S} {S} {S}",
    "{he} is the {W} of the {S} {S}",
    "the {S} {S} told {him} that the {W} {F}",
    "{mr} {S} {S} is the {W} and {he} lives near the {S}",
    "the {W} found {himself} in the {S} {S}",
    "{he} became a {W} at the {S} {S} and {his} {F} grew",
]
GENDER_ROLES = {
    "male": {"he": "he", "his": "his", "him": "him", "himself": "himself", "mr": "mr"},
    "female": {"he": "she", "his": "her", "him": "her", "himself": "herself", "mr": "mrs"},
}
GENDER_SIDES = {side: [t.format(W="{W}", S="{S}", F="{F}", **roles) for t in _GENDER_TEMPLATES]
                for side, roles in GENDER_ROLES.items()}

NOUN_SIDES = {
    "singular": [
        "[one|each|this] {W} {is} near the {S} {S}",
        "a single {W} {was} found by the {S} {S} {S}",
        "this {S} {S} {W} {has} one {F}",
        "every {W} of the {S} {S} {is} new",
        "we noticed [one|another] {W} near the {S} {S} and the {S}",
    ],
    "plural": [
        "[many|several|these] {W} {is} near the {S} {S}",
        "hundreds of {W} {was} found by the {S} {S} {S}",
        "these {S} {S} {W} {has} many {F}",
        "all {W} of the {S} {S} {is} new",
        "we noticed [two|several] {W} near the {S} {S} and the {S}",
    ],
}
_AGREE = {"singular": {"is": "is", "was": "was", "has": "has"},
          "plural": {"is": "are", "was": "were", "has": "have"}}
NOUN_SIDES = {side: [t.replace("{is}", _AGREE[side]["is"]).replace("{was}", _AGREE[side]["was"])
                     .replace("{has}", _AGREE[side]["has"]) for t in ts]
              for side, ts in NOUN_SIDES.items()}

ADJECTIVE_SIDES = {
    "base": [
        "the {S} {S} is [very|quite|rather] {W}",
        "a [very|really] {W} {S} {S} {F}",
        "the {S} {S} {S} seemed so {W} today",
        "it is [quite|very] {W} for a {S} {S}",
    ],
    "comparative": [
        "the {S} {S} is [much|even|far] {W} than the {F}",
        "a {W} {S} {S} than before",
        "the {S} {S} {S} seemed {W} than ever",
        "it is [much|even] {W} than a {S} {S}",
    ],
    "superlative": [
        "the {S} {S} is the {W} of all",
        "the {W} {S} {S} ever {F}",
        "the {S} {S} {S} seemed the {W} [ever|of all]",
        "it is by far the {W} {S} {S} ever",
    ],
}

VERB_SIDES = {
    "base": [
        "they [will|can|should] {W} by the {S} {S}",
        "we [want|like|plan] to {W} near the {S} {S} {S}",
        "please {W} at the {S} {S} {F}",
        "will anyone {W} at the {S} {S} tomorrow",
    ],
    "participle": [
        "they are {W} by the {S} {S} [now|today]",
        "we [enjoy|started] {W} near the {S} {S} {S}",
        "people are still {W} at the {S} {S} {F}",
        "{W} at the {S} {S} is fun",
    ],
    "past": [
        "they {W} by the {S} {S} [yesterday|earlier]",
        "we {W} near the {S} {S} {S} last week",
        "people {W} at the {S} {S} years ago {F}",
        "yesterday everyone {W} at the {S} {S}",
    ],
}

# Occasional sentences naming two sides of one entity together (paris and
# france, king and queen), as real text does; {W0} {W1} {W2} are the sides.
LINKS = {
    "countries": [
        "{W1} is the capital of {W0}",
        "the {W2} capital {W1} and the {S} {S}",
        "{W2} is spoken in {W0} and in {W1}",
    ],
    "gender": ["the {W0} and the {W1} of the {S} {S}"],
    "nouns": ["one {W0} or two {W1} near the {S} {S}"],
    "adjectives": ["from {W0} to {W1} to the {W2} {S} {S}"],
    "verbs": ["we {W0} and we are {W1} as we {W2} the {S} {S}"],
}

# relation name -> (table, side names, templates per side, sections)
# sections: (section name, side a, side b) -> questions "a_i b_i a_j b_j"
RELATIONS = [
    ("countries", COUNTRIES, ["country", "capital", "adjective"], COUNTRY_SIDES,
     [("capital-country", "capital", "country"),
      ("country-nationality", "country", "adjective"),
      ("capital-nationality", "capital", "adjective")]),
    ("gender", GENDER, ["male", "female"], GENDER_SIDES,
     [("family-gender", "male", "female")]),
    ("nouns", NOUNS, ["singular", "plural"], NOUN_SIDES,
     [("noun-plural", "singular", "plural")]),
    ("adjectives", ADJECTIVES, ["base", "comparative", "superlative"], ADJECTIVE_SIDES,
     [("adjective-comparative", "base", "comparative"),
      ("adjective-superlative", "base", "superlative")]),
    ("verbs", VERBS, ["base", "participle", "past"], VERB_SIDES,
     [("verb-present-participle", "base", "participle"),
      ("verb-past-tense", "participle", "past")]),
]

# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

N_TOKENS = 500_000            # corpus size (stops after the paragraph that crosses it)
PARAGRAPH = (4, 10)           # lines per paragraph
P_RELATION = 0.88             # share of paragraphs about one entity of a relation
P_TOPIC = 0.09                # share of topic paragraphs (rest: plain filler)
P_LINK = 0.1                  # chance that a relation sentence names two sides together
SPECIFIC_PER_ENTITY = 3       # made-up landmark names per country
N_PSEUDO_BACKGROUND = 300     # made-up background words (Zipf tail)
ZIPF_S = 1.05

LABELLED_TOPICS = ["food", "animals", "sports", "music", "technology", "medicine"]
N_TRAIN, N_TEST = 5000, 1000
SINGLE_DOC = dict(length=(8, 30), p_topic=0.4, p_confuse=0.25)
N_ML_TRAIN, N_ML_TEST = 1500, 300
MULTI_DOC = dict(length=(10, 30), p_topic=0.45, p_confuse=0.1)
MULTI_N_LABELS = (0.4, 0.4, 0.2)   # chance of 1, 2, 3 labels


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_ONSETS = "b c d f g h j k l m n p r s t v z br dr gr kr pl st tr sh ch th".split()
_VOWELS = "a e i o u a e i o ai ou".split()
_CODAS = ["", "", "", "n", "r", "l", "s", "m", "k", "nd", "rt", "st"]


def pseudo_words(rng, n, taken, syllables=(2, 3)):
    out = []
    while len(out) < n:
        k = int(rng.integers(syllables[0], syllables[1] + 1))
        w = "".join(_ONSETS[rng.integers(len(_ONSETS))] + _VOWELS[rng.integers(len(_VOWELS))]
                    + (_CODAS[rng.integers(len(_CODAS))] if i == k - 1 else "")
                    for i in range(k))
        if 5 <= len(w) <= 10 and w not in taken:
            taken.add(w)
            out.append(w)
    return out


class Zipf:
    """Draw words with probability proportional to 1 / (rank + 2.7) ** s."""

    def __init__(self, words, s=ZIPF_S):
        p = 1.0 / (np.arange(len(words)) + 2.7) ** s
        self.cdf = np.cumsum(p / p.sum())
        self.words = list(words)

    def draw(self, rng, n):
        idx = np.searchsorted(self.cdf, rng.random(n) * self.cdf[-1], side="right")
        return [self.words[i] for i in np.minimum(idx, len(self.words) - 1)]


def parse_template(t):
    """Split a template into tokens; an alternative is a tuple of token lists."""
    out = []
    for part in _split_alternatives(t):
        if isinstance(part, tuple):
            out.append(tuple(a.split() for a in part))
        else:
            out.extend(part.split())
    return out


def _split_alternatives(t):
    i = 0
    while i < len(t):
        j = t.find("[", i)
        if j < 0:
            yield t[i:]
            return
        yield t[i:j]
        k = t.index("]", j)
        yield tuple(t[j + 1:k].split("|"))
        i = k + 1


def all_template_literals(templates):
    words = set()
    for t in templates:
        for tok in parse_template(t):
            alts = tok if isinstance(tok, tuple) else ([tok],)
            for a in alts:
                words.update(w for w in a if not w.startswith("{"))
    return words


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------

def build_vocabularies(rng):
    entity_words = set()
    for _, table, *_ in RELATIONS:
        for row in table:
            entity_words.update(row)
    topic_words = set()
    for ws in TOPICS.values():
        assert not (set(ws) & topic_words), set(ws) & topic_words
        topic_words.update(ws)
    shared = {w for ws in SHARED_TOPIC_WORDS.values() for w in ws.split()}
    literals = set()
    for _, _, _, sides, _ in RELATIONS:
        for ts in sides.values():
            literals |= all_template_literals(ts)
    for ts in LINKS.values():
        literals |= all_template_literals(ts)
    clash = entity_words & (topic_words | shared)
    assert not clash, clash
    clash = literals & (entity_words | topic_words | shared)
    assert not clash, clash
    real_specific = [w for ws in SPECIFIC_WORDS.values() for w in ws]
    assert len(set(real_specific)) == len(real_specific), "a specific word is used twice"
    clash = set(real_specific) & (entity_words | topic_words | shared | literals)
    assert not clash, clash
    clash = set(FUNCTION_WORDS) & (entity_words | topic_words | shared | set(real_specific))
    assert not clash, clash
    # background: function words + content words that play no other role
    reserved = entity_words | topic_words | shared | literals | set(real_specific)
    content = [w for w in CONTENT_WORDS if w not in reserved and w not in FUNCTION_WORDS]
    content = list(dict.fromkeys(content))
    taken = reserved | set(FUNCTION_WORDS) | set(content)
    specific = {}
    for name, table, *_ in RELATIONS:
        for row in table:
            specific[(name, row[0])] = (SPECIFIC_WORDS.get(row[0])
                                        or pseudo_words(rng, SPECIFIC_PER_ENTITY, taken))
    background_pseudo = pseudo_words(rng, N_PSEUDO_BACKGROUND, taken)
    functions = list(dict.fromkeys(FUNCTION_WORDS))
    # Zipf ranks: function words, then the real content words shuffled, then made-up words
    order = rng.permutation(len(content))
    background = functions + [content[i] for i in order] + background_pseudo
    return specific, background


def generate_corpus(rng, specific, background):
    """Paragraphs (runs of lines) about one entity, one topic, or nothing in particular."""
    zipf = Zipf(background)
    content_zipf = Zipf(background[len(set(FUNCTION_WORDS)):])
    parsed = {}
    for name, table, sides, templates, _ in RELATIONS:
        parsed[name] = {s: [parse_template(t) for t in templates[s]] for s in sides}
    links = {name: [parse_template(t) for t in ts] for name, ts in LINKS.items()}
    topic_names = list(TOPICS)
    weights = np.array([len(t) * len(s) for _, t, s, _, _ in RELATIONS], float)
    rel_cdf = np.cumsum(weights / weights.sum())
    lines = []

    def pick(seq):
        return seq[int(rng.integers(len(seq)))]

    def relation_sentence(name, table, sides, i, s):
        spec = specific[(name, table[i][0])]
        words = []
        if name in links and rng.random() < P_LINK:
            template = pick(links[name])
        else:
            template = pick(parsed[name][sides[s]])
        for tok in template:
            if isinstance(tok, tuple):
                words.extend(pick(tok))
            elif tok == "{W}":
                words.append(table[i][s])
            elif tok[:2] == "{W" and tok[2:-1].isdigit():
                words.append(table[i][int(tok[2:-1])])
            elif tok == "{S}":  # two specific words in a row differ
                prev = words[-1] if words else None
                words.append(pick([w for w in spec if w != prev]))
            elif tok == "{F}":
                words.append(content_zipf.draw(rng, 1)[0])
            else:
                words.append(tok)
        return words

    n_tokens = 0
    while n_tokens < N_TOKENS:
        u = rng.random()
        k = int(rng.integers(PARAGRAPH[0], PARAGRAPH[1] + 1))
        if u < P_RELATION:
            r = int(np.searchsorted(rel_cdf, rng.random(), side="right"))
            name, table, sides, _, _ = RELATIONS[r]
            i = int(rng.integers(len(table)))
            order = rng.integers(len(sides), size=k)
            para = [relation_sentence(name, table, sides, i, int(s)) for s in order]
        elif u < P_RELATION + P_TOPIC:
            topic = TOPICS[pick(topic_names)]
            para = []
            for _ in range(k):
                n_words = int(rng.integers(7, 13))
                is_topic = rng.random(n_words) < 0.45
                para.append([pick(topic) if t else zipf.draw(rng, 1)[0] for t in is_topic])
        else:
            para = [zipf.draw(rng, int(rng.integers(6, 13))) for _ in range(k)]
        for words in para:
            lines.append(" ".join(words))
            n_tokens += len(words)
    return lines


def analogy_questions():
    out = []
    for name, table, sides, _, sections in RELATIONS:
        for section, a, b in sections:
            ia, ib = sides.index(a), sides.index(b)
            out.append(f": {section}")
            for i, ri in enumerate(table):
                for j, rj in enumerate(table):
                    if i != j:
                        out.append(f"{ri[ia]} {ri[ib]} {rj[ia]} {rj[ib]}")
    return out


# ---------------------------------------------------------------------------
# Labelled data
# ---------------------------------------------------------------------------

def topic_evidence(topics):
    ev = {t: list(TOPICS[t]) for t in topics}
    for (a, b), ws in SHARED_TOPIC_WORDS.items():
        for w in ws.split():
            if a in ev:
                ev[a].append(w)
            if b in ev:
                ev[b].append(w)
    return ev


def labelled_doc(rng, labels, ev, topics, zipf, length, p_topic, p_confuse):
    """Filler with topic words; a topic word is off-label with chance p_confuse.

    On-label topic words cycle through ``labels`` so that every label of a
    multi-label document gets its share of evidence.
    """
    n = int(rng.integers(length[0], length[1] + 1))
    words = []
    k = int(rng.integers(len(labels)))
    for _ in range(n):
        if rng.random() < p_topic:
            if rng.random() < p_confuse:
                t = topics[int(rng.integers(len(topics)))]
            else:
                t = labels[k % len(labels)]
                k += 1
            words.append(ev[t][int(rng.integers(len(ev[t])))])
        else:
            words.append(zipf.draw(rng, 1)[0])
    return words


def generate_labelled(rng, background):
    zipf = Zipf(background)
    topics = LABELLED_TOPICS
    ev = topic_evidence(topics)
    single = []
    for _ in range(N_TRAIN + N_TEST):
        label = topics[int(rng.integers(len(topics)))]
        words = labelled_doc(rng, [label], ev, topics, zipf, **SINGLE_DOC)
        single.append(f"__label__{label} " + " ".join(words))
    multi = []
    n_labels_cdf = np.cumsum(MULTI_N_LABELS)
    for _ in range(N_ML_TRAIN + N_ML_TEST):
        k = 1 + int(np.searchsorted(n_labels_cdf, rng.random() * n_labels_cdf[-1], side="right"))
        labels = sorted(topics[i] for i in rng.permutation(len(topics))[:k])
        words = labelled_doc(rng, labels, ev, topics, zipf, **MULTI_DOC)
        multi.append(" ".join(f"__label__{l}" for l in labels) + " " + " ".join(words))
    return (single[:N_TRAIN], single[N_TRAIN:]), (multi[:N_ML_TRAIN], multi[N_ML_TRAIN:])


# ---------------------------------------------------------------------------

def write_text(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def write_gzip(path, lines):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(data)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(SEED))
    specific, background = build_vocabularies(rng)
    corpus = generate_corpus(rng, specific, background)
    write_gzip(os.path.join(args.out, "corpus.txt.gz"), corpus)
    write_text(os.path.join(args.out, "analogies.txt"), analogy_questions())
    lrng = np.random.Generator(np.random.PCG64(SEED + 1))
    (train, test), (mtrain, mtest) = generate_labelled(lrng, background)
    write_text(os.path.join(args.out, "labelled-train.txt"), train)
    write_text(os.path.join(args.out, "labelled-test.txt"), test)
    write_text(os.path.join(args.out, "multilabel-train.txt"), mtrain)
    write_text(os.path.join(args.out, "multilabel-test.txt"), mtest)
    tokens = sum(len(l.split()) for l in corpus)
    vocab = len({w for l in corpus for w in l.split()})
    print(f"corpus: {len(corpus)} lines, {tokens} tokens, {vocab} distinct words", file=sys.stderr)


if __name__ == "__main__":
    main()
