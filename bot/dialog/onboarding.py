"""Onboarding: the language and the municipality (region), asked once and changeable at any time,
by button or by writing ("english please", "jag bor i Västervik", "byt kommun")."""

from __future__ import annotations

from bot.dialog import texts
from bot.dialog.flow import Step
from bot.dialog.model import Choice, FlowData
from bot.dialog.turn import Turn
from bot.matching.normalize import STOPWORDS, fold

# Written wishes to change the language ("english please", "byt till engelska", "kan du skriva på arabiska") are
# content: each language's name as every language says it (words.yaml `language_<code>`), and the words around it
# (`switch_language`).
MAX_WISH_WORDS = 6
CHANGE_REGION = frozenset(fold(w) for w in ("byt kommun", "byta kommun", "annan kommun", "change municipality",
                                            "change region", "other municipality", "byt region", "fel kommun",
                                            "wrong municipality"))  # fmt: skip
_LIVE = frozenset(fold(w) for w in ("bor i", "bor nu i", "live in", "living in", "from", "från", "fran",
                                    "flyttat till", "moved to", "kommer från", "i am in", "jag är i"))  # fmt: skip


def welcome(turn: Turn) -> None:
    turn.set(open=())
    content = turn.ctx.content
    turn.say(content.text("welcome", "sv") + "\n\n" + content.text("welcome", "en"), turn.language_choices(),
             lang="sv")  # fmt: skip


def ask_language(turn: Turn) -> None:
    turn.say("Välj språk / Choose language", turn.language_choices(), lang="sv")


def ask_region(turn: Turn, pending: str | None = None, wish: str | None = None, pending_lang: str | None = None) -> None:
    """The municipality; `pending` is what the person wanted meanwhile ("book", "topic:<id>"), with the time
    wished for and the language it was asked in: carried out as asked once the municipality is chosen."""
    kept = {"pending": pending, "wish": wish, "pending_lang": pending_lang}
    turn.go("choose_region", FlowData(**{k: v for k, v in kept.items() if v and pending}))  # type: ignore[typeddict-item]
    choices = [Choice(r.name[turn.lang], f"region:{r.id}") for r in turn.ctx.content.regions.values()]
    turn.say(turn.t("choose_region"), choices)


def prompt_region(turn: Turn) -> None:
    ask_region(turn, turn.data.get("pending"), turn.data.get("wish"), turn.data.get("pending_lang"))


def choose_language(turn: Turn, lang: str) -> None:
    first_time = turn.state.lang is None
    turn.set(lang=lang)
    if turn.state.region is None:
        prompt_region(turn)
    elif not first_time:
        turn.say(turn.t("language_set"), turn.menu_choices())
    else:
        turn.main_menu()


def choose_region(turn: Turn, region_id: str) -> None:
    asked = turn.state.flow == "choose_region"
    kept = turn.data if asked else FlowData()
    pending = kept.get("pending")
    turn.set(region=region_id)
    if asked:
        turn.leave_flow()
    name = turn.region.name[turn.lang]
    if pending:
        turn.say(turn.t("region_set", region=name))
        turn.speaking = kept.get("pending_lang") or turn.speaking  # answered in the language it was asked in
        turn.resume(pending, kept.get("wish"))
    else:
        turn.say(turn.t("region_set", region=name), turn.menu_choices())


def region_named(turn: Turn, folded: str) -> str | None:
    """The region a text names: "sundsvall", "jag bor i Västervik", "I live in Sundsvall now"."""
    words = folded.split()
    for region in turn.ctx.content.regions.values():
        # Its name in every language as the buttons show it ("ሱንድስቫል (Sundsvall)"): the whole, and each part.
        names = {fold(region.id)} | {fold(part) for name in region.name.values() for part in name.split("(")}
        if folded in names or any(n in words or _inflected(n, words) for n in names):
            return region.id
    return None


def _inflected(name: str, words: list[str]) -> bool:
    """A non-Latin name with a short ending, as Ukrainian and Arabic write it ("у Вестервіку", "بسوندسفال")."""
    if " " in name or name.isascii() or len(name) < 4:
        return False
    return any(name in word and len(word) - len(name) <= 2 for word in words)


def text_region(turn: Turn, text: str, folded: str) -> bool:
    region_id = region_named(turn, folded)
    if region_id is None:
        return False
    pending = turn.data.get("pending")
    choose_region(turn, region_id)
    if not pending and ("?" in text or len(folded.split()) > 5):
        turn.question(text, folded)  # "jag bor i Västervik, hur funkar lönebidrag?": answered as well
    return True


def says_where_they_live(folded: str) -> bool:
    """"jag bor i Västervik", "I live in Sundsvall now": a statement of place, not a question about it."""
    joined = f" {folded} "
    return any(f" {phrase} " in joined for phrase in _LIVE)


def language_wish(folded: str) -> str | None:
    """'english please' -> 'en', 'byt till engelska' -> 'en', 'kan du skriva på arabiska' -> 'ar': a short message
    naming one of our languages with nothing else than words asking for it (one other word is forgiven). Never
    "I don't speak Swedish" (a negation) nor "i want to learn swedish" (the language as a subject)."""
    words = folded.split()
    if not words or len(words) > MAX_WISH_WORDS or any(texts.has_phrase(kind, folded)
                                                       for kind in ("negation", "learn_language")):  # fmt: skip
        return None
    said = f" {folded} "
    named: dict[str, set[str]] = {}
    for kind in texts.kinds("language_"):
        found = {w for phrase in texts.word_set(kind) if f" {phrase} " in said for w in phrase.split()}
        if found:
            named[kind.removeprefix("language_")] = found
    for code, found in list(named.items()):  # "lätt svenska" names Lätt svenska, not also Swedish
        if any(code != other and found < more for other, more in named.items()):
            del named[code]
    if len(named) != 1:
        return None
    (code, found), = named.items()
    asking = texts.word_set("switch_language", split=True) | STOPWORDS | {
        w for kind in texts.SMALL_TALK_KINDS for w in texts.word_set(kind, split=True)}  # fmt: skip
    rest = [w for w in words if w not in found and w not in asking]
    return code if len(rest) <= 1 else None


STEPS = (Step("choose_region", "region", prompt_region, text_region),)
