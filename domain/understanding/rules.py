"""Keyword and safety matching over an :class:`Analysed` message."""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from ..categories import CATEGORY_CODES
from . import lexicon
from .analysis import Analysed, analyse, reading_of
from .normalize import is_kana, loosen, normalize, squash, to_hiragana

MIN_KANA = 3  # shorter readings are too ambiguous (家事/火事 = かじ)
# Matching a kanji keyword against the reading of kanji text finds homophones (読んで/呼んで,
# 書けない/見かけない), so for categories only long readings are compared that way; safety
# words use it from three kana (氏にたい, an input-method slip, still reads しにたい).
MIN_READING_CATEGORY = 5
MIN_READING_SAFETY = 3
MIN_LOOSE = 4  # typo-tolerant matching only for longer words

SAFETY_LEVELS = ("none", "emergency", "crisis")


@dataclass(frozen=True)
class Keyword:
    text: str
    weight: int
    hira: str  # as written, katakana folded to hiragana
    kana: str | None  # hiragana reading, when long enough to be safe
    kana_in_reading: bool
    loose: str | None
    lemma: str | None
    voicing_tolerant: bool
    whole_word: bool = False

    @classmethod
    def build(cls, text: str, weight: int = 1, safety: bool = False) -> "Keyword":
        """A category keyword, or with ``safety`` a safety word: no lemma (keep it literal)
        and tolerant of voicing typos (たおれだ), since a miss costs more than an alarm."""
        use_lemma = not safety
        if text.startswith("="):
            word = squash(normalize(text[1:]))
            return cls(text[1:], weight, to_hiragana(word), None, False, None, None, safety, True)
        surface = squash(normalize(text))
        hira = to_hiragana(surface)
        min_reading = MIN_READING_SAFETY if safety else MIN_READING_CATEGORY
        if is_kana(surface):
            kana: str | None = hira
            lemma = None
        else:
            reading, lemma = reading_of(surface)
            kana = reading if len(reading) >= MIN_KANA and is_kana(reading) else None
            if lemma is not None and (is_kana(lemma) or not use_lemma):
                lemma = None
        in_reading = kana is not None and len(kana) >= min_reading
        loose = loosen(kana, voicing=safety) if kana and len(kana) >= MIN_LOOSE else None
        return cls(text, weight, hira, kana, in_reading, loose, lemma, safety)

    def matches(self, a: Analysed) -> bool:
        if self.whole_word:
            return self.hira in a.lemmas or self.text in a.lemmas
        if self.hira in a.hira:
            return True
        # Plain substring tests first (most keywords are in no message): the boundary checks
        # only where the keyword occurs at all.
        kana = self.kana
        if kana is not None:
            if kana in a.hira and a.in_hira(kana):
                return True
            if self.kana_in_reading and kana in a.reading and a.in_reading(kana):
                return True
        loose = self.loose
        if loose is not None and loose in (a.loose if self.voicing_tolerant else a.folded) \
                and a.in_loose(loose, self.voicing_tolerant):
            return True
        return self.lemma is not None and self.lemma in a.lemmas

    @property
    def key(self) -> str:
        """What the keyword sounds like; two keywords with one key count once."""
        return self.kana or self.hira


@dataclass(frozen=True)
class Lexicon:
    categories: dict[str, tuple[Keyword, ...]]
    emergency: tuple[Keyword, ...]
    emergency_patterns: tuple[re.Pattern[str], ...]
    crisis: tuple[Keyword, ...]
    crisis_patterns: tuple[re.Pattern[str], ...]
    benign: tuple[re.Pattern[str], ...]
    soft_context: tuple[re.Pattern[str], ...] = ()
    soft_negation: tuple[re.Pattern[str], ...] = ()


_lock = threading.Lock()
_compiled: Lexicon | None = None


def _words(spec: str) -> list[str]:
    return [w for w in spec.split() if w]


def get_lexicon() -> Lexicon:
    """The compiled lexicon (built once; needs the Sudachi dictionary for readings)."""
    global _compiled
    if _compiled is None:
        with _lock:
            if _compiled is None:
                categories: dict[str, tuple[Keyword, ...]] = {}
                for code in CATEGORY_CODES:
                    by_weight = lexicon.KEYWORDS.get(code, {})
                    kws: dict[str, Keyword] = {}
                    for weight, spec in by_weight.items():
                        for w in _words(spec):
                            kws.setdefault(w, Keyword.build(w, weight))
                    # longest first, so a longer keyword hides the shorter ones inside it
                    categories[code] = tuple(sorted(kws.values(), key=lambda k: -len(k.key)))
                _compiled = Lexicon(
                    categories=categories,
                    emergency=tuple(Keyword.build(w, safety=True) for w in _words(lexicon.EMERGENCY_WORDS)),
                    emergency_patterns=tuple(re.compile(p) for p in lexicon.EMERGENCY_PATTERNS),
                    crisis=tuple(Keyword.build(w, safety=True) for w in _words(lexicon.CRISIS_WORDS)),
                    crisis_patterns=tuple(re.compile(p) for p in lexicon.CRISIS_PATTERNS),
                    benign=tuple(re.compile(p) for p in lexicon.BENIGN_PATTERNS),
                    soft_context=tuple(re.compile(p) for p in lexicon.SOFT_CONTEXT_PATTERNS),
                    soft_negation=tuple(re.compile(p) for p in lexicon.SOFT_NEGATION_PATTERNS),
                )
    return _compiled


@dataclass(frozen=True)
class CategoryResult:
    category: str
    confidence: float
    scores: dict[str, int]
    matched: tuple[str, ...]


def classify(a: Analysed) -> CategoryResult:
    lex = get_lexicon()
    scores: dict[str, int] = {}
    strong: dict[str, int] = {}
    matched: dict[str, list[str]] = {}
    for code, keywords in lex.categories.items():
        # keywords are longest first; one inside another already found (体操 in 体操教室)
        # does not count twice, but lends its weight when that is higher
        hits: list[list] = []  # [keyword, counted weight]
        for kw in keywords:
            if not kw.matches(a):
                continue
            outer = next((h for h in hits if kw.key in h[0].key), None)
            if outer is None:
                hits.append([kw, kw.weight])
            elif kw.weight > outer[1]:
                outer[1] = kw.weight
        if hits:
            strong[code] = sum(w for _kw, w in hits if w >= 2)
            scores[code] = sum(w for _kw, w in hits)
            matched[code] = [h[0].text for h in hits]
    if any(strong.values()):
        # weak hints (weight 1) only tip the balance between categories with real evidence
        scores = {code: total for code, total in scores.items() if strong[code]}
    if not scores:
        return CategoryResult("other", 0.0, {}, ())
    order = {code: i for i, code in enumerate(CATEGORY_CODES)}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
    best, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0
    strength = 1.0 - math.pow(0.5, top / 2.0)
    margin = top / (top + second)
    return CategoryResult(best, round(strength * margin, 2), scores, tuple(matched[best]))


def _remove_benign(normalised: str, benign: tuple[re.Pattern[str], ...]) -> str:
    text = squash(normalised)
    hira = to_hiragana(text)  # same length as text
    spans: list[tuple[int, int]] = []
    for pattern in benign:
        spans.extend(m.span() for m in pattern.finditer(hira))
    if not spans:
        return text
    keep = [True] * len(text)
    for start, end in spans:
        for i in range(start, end):
            keep[i] = False
    # leave a separator so the two sides do not join into a new word
    out = []
    for i, ch in enumerate(text):
        if keep[i]:
            out.append(ch)
        elif not out or out[-1] != _CUT:
            out.append(_CUT)
    return "".join(out)


_CUT = "|"
# Dots and commas typed between letters (し・に・た・い, し、に、た、い) are dropped for the
# safety check only.
_SEPARATORS = re.compile(r"[・､、,.．_\-/]")


@dataclass(frozen=True)
class SafetyResult:
    level: str
    matched: tuple[str, ...]
    # the words were found in a context that may make them harmless (past, TV, a lesson,
    # prevention, an object, a negation): not an alarm on their own, the model decides
    soft: bool = False
    # the message has such a context at all (even without a rule word): the model then needs
    # a surer margin to alarm on its own
    context: bool = False
    # a call for rescue (lexicon.RESCUE_PATTERNS) was found: the model may not veto it
    rescue: bool = False


_RESCUE = frozenset(lexicon.RESCUE_PATTERNS)


def detect_safety(normalised: str, a: Analysed) -> SafetyResult:
    """Emergency beats crisis (the 119 guidance comes first); anything found beats none."""
    lex = get_lexicon()
    unbenign = _remove_benign(normalised, lex.benign)
    benign = _CUT in unbenign  # a harmless use of an alarm word was taken out (胸がいっぱい)
    cleaned = _SEPARATORS.sub("", unbenign)
    if cleaned != a.norm:
        a = analyse(cleaned)
    for level, words, patterns in (
        ("emergency", lex.emergency, lex.emergency_patterns),
        ("crisis", lex.crisis, lex.crisis_patterns),
    ):
        hits = _hits(a, words, patterns)
        if hits:
            soft = _soft(level, a, lex, words, patterns)
            return SafetyResult(level, tuple(hits), soft, soft or benign or _has_context(a.hira, lex),
                                rescue=not soft and bool(_RESCUE.intersection(hits)))
    return SafetyResult("none", (), False, benign or _has_context(a.hira, lex))


def _hits(a: Analysed, words, patterns) -> list[str]:
    hits = [kw.text for kw in words if kw.matches(a)]
    return hits + [p.pattern for p in patterns if p.search(a.hira)]


def _has_context(hira: str, lex: Lexicon) -> bool:
    return any(p.search(hira) for p in lex.soft_context) or any(p.search(hira) for p in lex.soft_negation)


def _soft(level: str, a: Analysed, lex: Lexicon, words, patterns) -> bool:
    """True when the message has a context that can make its alarm words harmless: the past,
    TV, a lesson, prevention, an object anywhere in it; or a negation right after every alarm
    word (「救急車を呼ぶほどじゃない」 negates 救急車, not 「胸がずっと痛い」 after it). Despair is
    not softened by a negation (「死にたいなんて思ってないけど」 is still said)."""
    if any(p.search(a.hira) for p in lex.soft_context):
        return True
    if level != "emergency":
        return False
    spans = [(max(0, m.start() - 12), m.end()) for p in lex.soft_negation for m in p.finditer(a.hira)]
    if not spans:
        return False
    keep = [True] * len(a.norm)
    for start, end in spans:
        for i in range(start, min(end, len(keep))):
            keep[i] = False
    rest = "".join(ch if k else _CUT for ch, k in zip(a.norm, keep))
    return not _hits(analyse(rest), words, patterns)


_IDIOMS = tuple(re.compile(p) for p in lexicon.MODEL_IDIOM_PATTERNS)


def for_the_model(normalised: str, analysed: Analysed) -> Analysed:
    """The analysis the learned reader sees: the same, unless the text holds a figure of speech
    (lexicon.MODEL_IDIOM_PATTERNS), which is masked and the text analysed again."""
    masked = normalised
    for pattern in _IDIOMS:
        masked = pattern.sub("〇", masked)
    return analysed if masked == normalised else analyse(masked)
