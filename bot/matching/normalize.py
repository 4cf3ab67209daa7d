"""Text normalisation shared by the matcher and the content checks.

People type on phones: without å/ä/ö, with emoji, in capitals, with odd punctuation. Folding all of that
away first means "Vad ar ASF??" and "vad är asf" are the same question. Letters of every script are kept
(Arabic, Persian, Ethiopic, Cyrillic ...): only marks, punctuation and symbols go, and the spellings that
differ between keyboards (Arabic and Persian yeh and kaf, Arabic-Indic digits) are made one.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer

_NOT_WORD = re.compile(r"[\W_]+")
# Letters that NFKD does not split into a base letter and a mark, and the Arabic-script letters that are
# written differently on Arabic and Persian keyboards (the Arabic stemmer expects the Arabic forms; the
# Persian one maps them back itself). ZWNJ joins Persian word parts: "می‌خواهم" = "میخواهم".
_SPECIAL = str.maketrans(
    {"æ": "ae", "ø": "o", "ß": "ss", "ð": "d", "þ": "th", "ł": "l", "œ": "oe",
     "ی": "ي", "ى": "ي", "ک": "ك", "ـ": "", "\u200c": "", "\u200d": ""}
)  # fmt: skip
# Ge'ez letters that spell the same sound in Tigrinya, written either way depending on the writer and the
# keyboard: the old sz/tz/x series (ሠ ፀ ኀ) and the spirant forms after a vowel (ኸ ቐ, "ብኸመይ" = "ብከመይ").
# Each syllable maps to the same order (vowel) of the other series. ኣ/አ stay apart: they tell Tigrinya from
# Amharic (bot/language.py).
_ETHIOPIC = {
    chr(variant + order): chr(base + order)
    for variant, base in (
        (0x1220, 0x1230),
        (0x1340, 0x1338),
        (0x1280, 0x1210),
        (0x12B8, 0x12A8),
        (0x1250, 0x1240),
    )
    for order in range(7)
}
_SPECIAL.update(str.maketrans(_ETHIOPIC))
_STEMMER_NAMES = ("swedish", "english", "arabic", "persian", "russian")
# A snowball stemmer keeps the word it works on in itself: one used by two threads at once (the web channel
# answers in threads) gets its words mixed and can raise IndexError. So each thread has its own.
_THREAD = threading.local()


def _stemmer(name: str) -> Any:
    stemmers: dict[str, Any] | None = getattr(_THREAD, "stemmers", None)
    if stemmers is None:
        stemmers = _THREAD.stemmers = {n: snowballstemmer.stemmer(n) for n in _STEMMER_NAMES}
    return stemmers[name]


# Words that carry no topic: question words, pronouns, auxiliaries. IDF would weigh them down anyway,
# but dropping them keeps "vad är X" from matching every other "vad är Y" when X is unknown.
# Written as people type them; folded below, like every text the matcher reads.
_STOPWORDS = {
    "en": """
    a an the and or but if of to in on at for from by with about as into is are was were be been being am
    do does did doing have has had i me we you your he she it its they them their this that these
    those there here what which who whom whose when where why how can could would should will shall may
    might must not no yes so than too very just also any some all more most much many get got please
    tell know want wanna need like im ive id dont cant its whats hows thats pls plz hi hey ok okay
    wonder wondering wondered question hmm eh aha um uh well actually really
    """,
    "sv": """
    och eller men om av till i pa vid for fran med som att ar var vara varit blir bli blev har hade ha
    jag mig vi oss var vart vara du dig din ditt dina han hon den det de dem deras sin sitt
    sina denna detta dessa dar har vad vilken vilket vilka vem vems nar hur varfor kan kunna kunde ska
    skall skulle vill ville maste far fick inte ej nej ja sa an mycket manga mer mest bara ocksa nagon
    nagot nagra alla allt hej tja tack snalla typ liksom asså assa ba eller
    man en ett nu da sen efter innan under over upp ut in
    undrar undra undrade fundera funderar fraga fragor
    lite bara ju val nog kanske oj alltsa ehm
    """,
    "ar": """
    في من على إلى الى عن مع هل ما ماذا شو ايش إيش وش كيف شلون ليش لماذا متى وين أين اين مين من هذا هذه
    هاد هاي ذلك تلك هو هي هم انا أنا انت أنت انتي نحن احنا إحنا ال و او أو ثم بس لكن يعني كمان ايضا أيضا
    عند عندي لي لك له كان يكون بدي ابي أبي ابغى اريد أريد ممكن يمكن لازم هناك في فيه فيها كل شي شيء اي أي
    مرحبا السلام عليكم لو اذا إذا حتى عشان مشان الي اللي التي الذي
    """,
    "fa": """
    و در به از که را با این آن است هست هستم هستند بود برای تا یا اما هم چه چی چطور چگونه کجا کی چرا آیا
    من تو او ما شما آنها ایشان یک هر همه می خواهم میخواهم باید شاید نه بله سلام لطفا لطفاً ولی اگر
    چند چقدر کدام دارم داره دارد دارید کنم کنید کند شود میشه میشود است؟ ها های
    """,
    "so": """
    waa ma maxay maxaa sidee sida iyo ka ku la u in aan ayaa ayaan waxaan wax yahay tahay ahay miyaa
    xagee halkee goorma yaa kee kan kani taas tan aniga adiga isaga iyada anaga idinka iyaga mise oo
    haddii laakiin sababtoo sababta noqon karaa karo kara jiraa jira hay haa maya fadlan
    """,
    "ti": """
    እየ እዩ ኢዩ ኣሎ ኣለኹ ኣለዉ ኣብ ናይ ምስ ካብ ናብ እንታይ ከመይ ብኸመይ መን ኣበይ መዓስ ስለምንታይ ክንደይ
    ኣነ ንስኻ ንስኺ ንሱ ንሳ ንሕና ንሳቶም እዚ እዚኣ እቲ እታ ግን ወይ ከኣ እውን ድማ ዶ ሰላም በጃኹም
    """,
    "uk": """
    і й та або але що як де коли чому хто який яка яке які чи в у на з із до від для про по за при
    я ти він вона воно ми ви вони мене мені мій моя моє мої це цей ця ці той та там тут є був була
    не ні так можна треба потрібно хочу можу будь ласка привіт добрий день скільки також теж ще вже
    """,
}


def fold(text: str) -> str:
    """Lower-case words separated by single spaces: å->a, ä->a, ö->o, marks, emoji and punctuation gone."""
    if len(text) > _MEMO_LONGEST:
        return _fold(text)
    return _fold_memo(text)


_MEMO_LONGEST = 2000  # a message's text (the dialog reads at most this much) is folded by several readers


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    if not text.isascii():  # ASCII has no marks and no other digits
        text = text.translate(_MARKS)
    return _NOT_WORD.sub(" ", text).strip()


# The same texts are folded again and again: one message by the crisis check's neighbours, the language
# detector, the matcher's views and the dialog; names and words of the content on every message.
_fold_memo = lru_cache(maxsize=512)(_fold)


def _digit(ch: str) -> str:
    """Arabic-Indic and other decimal digits as 0-9, so "٣ سنين" and "3 سنين" are the same."""
    if ch.isdigit() and not ch.isascii():
        value = unicodedata.decimal(ch, None)
        return str(value) if value is not None else ch
    return ch


class _MarkTable(dict[int, str]):
    """`str.translate`'s table for the second half of folding: combining marks go, other decimal digits become
    0-9, every other character stays. Filled as characters are met (bounded: garbage input cannot grow it)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        value = "" if unicodedata.combining(ch) else _digit(ch)
        if len(self) < 20_000:
            self[code] = value
        return value


_MARKS = _MarkTable()


STOPWORDS = frozenset(word for words in _STOPWORDS.values() for word in fold(words).split())


def script(word: str) -> str:
    """'arabic', 'cyrillic', 'ethiopic' or 'latin' (everything else) for a folded word."""
    for ch in word:
        code = ord(ch)
        if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF:
            return "arabic"
        if 0x0400 <= code <= 0x052F:
            return "cyrillic"
        if 0x1200 <= code <= 0x139F or 0x2D80 <= code <= 0x2DDF or 0xAB00 <= code <= 0xAB2F:
            return "ethiopic"
    return "latin"


# Snowball stemmers for each script's languages. Ukrainian has none: the Russian one removes the endings
# the two share; Ethiopic (Tigrinya) has none at all and is matched on character n-grams only.
_SCRIPT_STEMMERS = {
    "latin": ("swedish", "english"),
    "arabic": ("arabic", "persian"),
    "cyrillic": ("russian",),
    "ethiopic": (),
}


@lru_cache(maxsize=16384)  # the content's vocabulary and the words people use most; some 200 bytes a word
def stems(word: str) -> tuple[str, ...]:
    """The stems of a folded word in the languages written in its script (one when they agree).

    Several, because a Swedish chat gets English questions and the other way round (and Arabic and Persian
    share a script): a word is matched on whichever stem the examples share with it.
    """
    found: list[str] = []
    for name in _SCRIPT_STEMMERS[script(word)]:
        stem = _stemmer(name).stemWord(word)
        if stem not in found:
            found.append(stem)
    return tuple(found) or (word,)
