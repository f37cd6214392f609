"""Morphological analysis with Sudachi, and the several views of one message that the
matchers use.

The Sudachi dictionary takes a while to load, so it is created once per process, lazily,
under a lock. A Sudachi tokenizer object is not safe to share between threads, so each
thread gets its own (cheap) tokenizer from the shared dictionary.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from .normalize import loosen, squash, to_hiragana

_lock = threading.Lock()
_dictionary = None
_local = threading.local()

# Sudachi refuses very long input; analyse long text in pieces cut at sentence ends.
_CHUNK = 1000
_SENTENCE_END = re.compile(r"(?<=[。!?\n])")


def get_dictionary():
    """The process-wide Sudachi dictionary, loaded on first use.

    sudachidict_small, not core: the file is memory-mapped and a worker that has read a few
    thousand messages has most of it in its RSS (core: +196 MB, small: +113 MB over the
    corpus). Small lacks mostly proper nouns; the test split and the story tests read the same
    with either (issue 10)."""
    global _dictionary
    if _dictionary is None:
        with _lock:
            if _dictionary is None:
                from sudachipy import Dictionary

                _dictionary = Dictionary(dict="small")
    return _dictionary


def _tokenizer():
    tok = getattr(_local, "tokenizer", None)
    if tok is None:
        from sudachipy import SplitMode

        tok = get_dictionary().tokenizer(mode=SplitMode.A)
        _local.tokenizer = tok
    return tok


def _chunks(text: str):
    if len(text) <= _CHUNK:
        yield text
        return
    buf = ""
    for piece in _SENTENCE_END.split(text):
        while len(piece) > _CHUNK:
            if buf:
                yield buf
                buf = ""
            yield piece[:_CHUNK]
            piece = piece[_CHUNK:]
        if len(buf) + len(piece) > _CHUNK:
            yield buf
            buf = ""
        buf += piece
    if buf:
        yield buf


@dataclass(frozen=True)
class Morpheme:
    surface: str
    reading: str  # hiragana
    dictionary_form: str
    normalized_form: str


def tokenize(text: str) -> list[Morpheme]:
    tok = _tokenizer()
    out: list[Morpheme] = []
    for chunk in _chunks(text):
        if not chunk:
            continue
        for m in tok.tokenize(chunk):
            surface = m.surface()
            pos = m.part_of_speech()
            if m.is_oov() or pos[0] in ("補助記号", "空白", "記号") or pos[1] == "数詞":
                reading = surface  # Sudachi reads a space as キゴウ and 10 as イチレイ
            else:
                reading = m.reading_form() or surface
            out.append(Morpheme(surface, to_hiragana(reading), m.dictionary_form(), m.normalized_form()))
    return out


def _in_word(ch: str) -> bool:
    """Hiragana or kanji: a kana keyword right after one may be the tail of another word."""
    return ("ぁ" <= ch <= "ゖ") or ("\u4e00" <= ch <= "\u9fff") or ch in "々〆"


@dataclass(frozen=True)
class Analysed:
    """One normalised message seen in the ways the matchers need.

    - ``norm``: the normalised text, spaces removed (kanji as written);
    - ``hira``: ``norm`` with katakana turned into hiragana (kanji stay);
    - ``reading``: the text read aloud in hiragana, token by token (kanji become kana), with
      token boundary offsets so a match can be required to start and end on a boundary;
    - ``loose``: ``loosen(hira)``, for typos, long marks and dialect voicing;
    - ``lemmas``: surface (and its hiragana), dictionary and normalized forms of every
      morpheme (買物, かいもの → 買い物), for lemma and whole-word matching.
    """

    norm: str
    hira: str
    reading: str
    loose: str  # long marks and small kana folded, voicing removed (for safety words)
    folded: str  # long marks and small kana folded, voicing kept (for category words)
    starts: frozenset[int]
    ends: frozenset[int]
    hira_starts: frozenset[int]
    loose_starts: frozenset[int]
    folded_starts: frozenset[int]
    lemmas: frozenset[str]
    words: tuple[str, ...] = ()  # normalized form of every morpheme, in order (for the model)

    def in_loose(self, key: str, voicing: bool) -> bool:
        """True when ``key`` occurs in the loose (or folded) text starting at a token start."""
        text, starts = (self.loose, self.loose_starts) if voicing else (self.folded, self.folded_starts)
        i = text.find(key)
        while i >= 0:
            if i in starts:
                return True
            i = text.find(key, i + 1)
        return False

    def in_hira(self, kana: str) -> bool:
        """True when ``kana`` occurs in ``hira`` where a word can begin: at a token start or
        after a character that is neither hiragana nor kanji. Sudachi may cut unusual hiragana badly, so
        the end is not checked; the start stops かってきて matching inside かかってきて."""
        i = self.hira.find(kana)
        while i >= 0:
            if i == 0 or i in self.hira_starts or not _in_word(self.hira[i - 1]):
                return True
            i = self.hira.find(kana, i + 1)
        return False

    def in_reading(self, kana: str) -> bool:
        """True when ``kana`` occurs in the reading starting and ending on token boundaries."""
        i = self.reading.find(kana)
        while i >= 0:
            if i in self.starts and (i + len(kana)) in self.ends:
                return True
            i = self.reading.find(kana, i + 1)
        return False


def analyse(normalised: str) -> Analysed:
    norm = squash(normalised)
    morphemes = tokenize(norm)
    parts: list[str] = []
    starts: set[int] = set()
    ends: set[int] = set()
    pos = 0
    surface_pos = 0
    hira_starts: set[int] = set()
    loose_parts: list[str] = []
    loose_starts: set[int] = set()
    folded_parts: list[str] = []
    folded_starts: set[int] = set()
    loose_pos = folded_pos = 0
    lemmas: set[str] = set()
    words: list[str] = []
    for m in morphemes:
        words.append(m.normalized_form)
        hira_starts.add(surface_pos)
        surface_pos += len(m.surface)
        for piece_parts, piece_starts, voicing in ((loose_parts, loose_starts, True),
                                                   (folded_parts, folded_starts, False)):
            piece = loosen(m.surface, voicing=voicing)
            piece_starts.add(loose_pos if voicing else folded_pos)
            piece_parts.append(piece)
            if voicing:
                loose_pos += len(piece)
            else:
                folded_pos += len(piece)
        starts.add(pos)
        parts.append(m.reading)
        pos += len(m.reading)
        ends.add(pos)
        lemmas.add(m.dictionary_form)
        lemmas.add(m.normalized_form)
        lemmas.add(m.surface)
        lemmas.add(to_hiragana(m.surface))
    hira = to_hiragana(norm)
    return Analysed(
        norm=norm,
        hira=hira,
        reading="".join(parts),
        loose="".join(loose_parts),
        folded="".join(folded_parts),
        starts=frozenset(starts),
        ends=frozenset(ends),
        hira_starts=frozenset(hira_starts),
        loose_starts=frozenset(loose_starts),
        folded_starts=frozenset(folded_starts),
        lemmas=frozenset(lemmas),
        words=tuple(words),
    )


def reading_of(phrase: str) -> tuple[str, str | None]:
    """(hiragana reading, lemma) of a lexicon phrase. The lemma is the normalized form when
    the phrase is a single morpheme, else None."""
    morphemes = tokenize(squash(phrase))
    reading = "".join(m.reading for m in morphemes)
    lemma = morphemes[0].normalized_form if len(morphemes) == 1 else None
    return reading, lemma
