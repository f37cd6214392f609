"""The features the learned reader sees: one function, used alike in training and at run time.

A message becomes a bag of strings:

- character 1- to 3-grams of the normalised text with katakana folded to hiragana (``c:``),
  with ``^``/``$`` marking the start and the end, so いたい, 痛い and ｲﾀｲ share grams;
- character 2- and 3-grams of the Sudachi reading (``r:``), so a message typed all in
  hiragana meets the same grams as its kanji spelling;
- the Sudachi normalized form of every word (``w:``) and of every pair of neighbouring words
  (``b:``), so 買物/買い物/かいもの and 倒れた/倒れてる fold together.

Pure Python over an :class:`~domain.understanding.analysis.Analysed`; no numpy, no sklearn.
"""
from __future__ import annotations

from hashlib import blake2b

from .analysis import Analysed

CHAR_MAX = 3
READING_MIN, READING_MAX = 2, 3
_SKIP_WORDS = frozenset({"", " ", "、", "。", "!", "?", "…", "〜", "ー", "・", "|"})


def _grams(text: str, prefix: str, low: int, high: int, out: list[str]) -> None:
    padded = "^" + text + "$"
    n = len(padded)
    for size in range(low, high + 1):
        for i in range(0, n - size + 1):
            out.append(prefix + padded[i:i + size])


def features(a: Analysed) -> list[str]:
    """The feature strings of one analysed message (repeats count: tf is kept)."""
    out: list[str] = []
    _grams(a.hira, "c:", 1, CHAR_MAX, out)
    _grams(a.reading, "r:", READING_MIN, READING_MAX, out)
    words = [w for w in a.words if w not in _SKIP_WORDS]
    out.extend("w:" + w for w in words)
    out.extend("b:" + x + "_" + y for x, y in zip(words, words[1:]))
    return out


def model_features(a: Analysed, rule_category: str, rule_safety: str, soft: bool) -> list[str]:
    """:func:`features` plus the rules' own verdicts (the model learns how far to trust them)."""
    out = features(a)
    # No "the rules found no category" feature: most emergencies have none, so it taught the
    # model that a message without content (an emoji, 「👍」) looks like an emergency.
    if rule_category != "other":
        out.append("R:cat:" + rule_category)
    out.append("R:safety:" + rule_safety + (":soft" if soft else ""))
    return out


def feature_key(feature: str) -> int:
    """A feature's 64-bit key. The artifact keeps these sorted instead of the feature strings:
    a dict of 140,000 strings held 20 MB of a worker's memory, the keys hold 1 MB. Training
    checks that no two features of the vocabulary share a key; a message's unknown feature
    meets a known key with a chance of about 1 in 10^14."""
    return int.from_bytes(blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
