"""Understanding a resident's free text: need category, safety level, and when.

Tokenizer choice: Sudachi (sudachipy with sudachidict_small) gives every morpheme its reading,
dictionary form and normalized form, so a message typed all in hiragana or katakana (かいもの,
ビョウイン) can be compared with the kanji keywords of the lexicon (買い物, 病院), and spelling
variants fold together (買物 → 買い物). Because a tokenizer can split unusual hiragana oddly,
keywords are also matched as plain substrings of the hiragana-folded text, and, for longer
words, of a typo-tolerant "loose" form.

Beside the rules, a learned reader (model.py, trained by train.py from corpus/train with
scikit-learn; `sasaeai understand train`) scores every message; core.py joins the two: safety
is the rules OR the model (recall first), with a ``signal`` family and a certainty (sure or
suspected); the category is the model's. At run time only the standard library, sudachipy and
numpy are imported. Only classification lives here: the words the bot shows to residents
belong to the bot layer.

    >>> from datetime import date
    >>> u = understand("らいしゅうのかようび びょういんにつれてってほしい", date(2026, 11, 25))
    >>> u.category, u.safety, u.when.date.isoformat()
    ('outing', 'none', '2026-12-01')
"""
from __future__ import annotations

from ..categories import CATEGORY_CODES
from .core import Understanding, understand, warm_up
from .rules import SAFETY_LEVELS
from .normalize import normalize
from .when import When, extract_when

__all__ = [
    "CATEGORY_CODES",
    "SAFETY_LEVELS",
    "Understanding",
    "When",
    "extract_when",
    "normalize",
    "understand",
    "warm_up",
]
