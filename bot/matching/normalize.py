"""Text normalisation shared by the matcher and the content checks.

People type on phones: without å/ä/ö, with emoji, in capitals, with odd punctuation. Folding all of that
away first means "Vad ar ASF??" and "vad är asf" are the same question.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Letters that NFKD does not split into a base letter and a mark.
_SPECIAL = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "ð": "d", "þ": "th", "ł": "l", "œ": "oe"})
_SV_STEMMER = snowballstemmer.stemmer("swedish")
_EN_STEMMER = snowballstemmer.stemmer("english")

# Words that carry no topic: question words, pronouns, auxiliaries. IDF would weigh them down anyway,
# but dropping them keeps "vad är X" from matching every other "vad är Y" when X is unknown.
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at for from by with about as into is are was were be been being am
    do does did doing have has had i me we you your he she it its they them their this that these
    those there here what which who whom whose when where why how can could would should will shall may
    might must not no yes so than too very just also any some all more most much many get got please
    tell know want wanna need like im ive id dont cant its whats hows thats pls plz hi hey ok okay
    och eller men om av till i pa vid for fran med som att ar var vara varit blir bli blev har hade ha
    jag mig vi oss var vart vara du dig din ditt dina han hon den det de dem deras sin sitt
    sina denna detta dessa dar har vad vilken vilket vilka vem vems nar hur varfor kan kunna kunde ska
    skall skulle vill ville maste far fick inte ej nej ja sa an mycket manga mer mest bara ocksa nagon
    nagot nagra alla allt hej tja tack snalla typ liksom asså assa ba eller
    man en ett nu da sen efter innan under over upp ut in
    undrar undra undrade fundera funderar wonder wondering wondered question fraga fragor
    lite bara ju val nog kanske hmm eh oj aha alltsa ehm um uh well actually really just
    """.split()
)


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: å->a, ä->a, ö->o, emoji and punctuation gone."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", text).strip()


@lru_cache(maxsize=65536)
def stems(word: str) -> tuple[str, ...]:
    """The Swedish and the English stem of a folded word (one when they agree).

    Both, because a Swedish chat gets English questions and the other way round: a word is matched on
    whichever stem the examples share with it.
    """
    sv = _SV_STEMMER.stemWord(word)
    en = _EN_STEMMER.stemWord(word)
    return (sv,) if sv == en else (sv, en)
