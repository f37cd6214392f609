"""Text normalisation: width, repeated marks, emoji, whitespace, and kana folding.

Every function here is pure and works on any length of text.
"""
from __future__ import annotations

import re
import unicodedata

_REPEATS = [
    (re.compile(r"ー{2,}"), "ー"),
    (re.compile(r"[〜~]{2,}"), "〜"),
    (re.compile(r"!{2,}"), "!"),
    (re.compile(r"\?{2,}"), "?"),
    (re.compile(r"[!?]{2,}"), "!?"),
    (re.compile(r"。{2,}"), "。"),
    (re.compile(r"、{2,}"), "、"),
    (re.compile(r"…+"), "…"),
    (re.compile(r"(?:・|\.){3,}"), "…"),
    (re.compile(r"っ{2,}"), "っ"),
    (re.compile(r"ッ{2,}"), "ッ"),
]
_SPACE = re.compile(r"\s+")

_SMALL = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖ", "あいうえおつやゆよわかけ")
_O_ROW = "おこそとのほもよろをごぞどぼぽょ"


def _is_dropped(ch: str) -> bool:
    """Emoji, pictographs, skin tones, variation selectors, joiners, private use."""
    cp = ord(ch)
    if cp in (0x200D, 0x20E3) or 0xFE00 <= cp <= 0xFE0F or 0xE0020 <= cp <= 0xE007F:
        return True
    if 0x1F000 <= cp <= 0x1FAFF:  # emoji blocks, incl. skin-tone modifiers
        return True
    cat = unicodedata.category(ch)
    return cat in ("So", "Cs", "Co", "Cn") or (cat == "Cc" and ch not in "\t\n\r")


def normalize(text: str) -> str:
    """NFKC (half-width katakana → full width, full-width ASCII → ASCII), emoji removed,
    repeated marks collapsed (ーーー → ー, ！！！ → !, 〜〜 → 〜), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("〜", "〜").replace("～", "〜")
    text = "".join(" " if _is_dropped(ch) else ch for ch in text)
    for pattern, repl in _REPEATS:
        text = pattern.sub(repl, text)
    return _SPACE.sub(" ", text).strip()


def to_hiragana(text: str) -> str:
    """Katakana → hiragana, one character for one character (offsets are preserved)."""
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def is_kana(text: str) -> bool:
    return bool(text) and all(("ぁ" <= ch <= "ゖ") or ("ァ" <= ch <= "ヺ") or ch == "ー" for ch in text)


def squash(text: str) -> str:
    """Remove all spaces (so し に た い reads as しにたい)."""
    return text.replace(" ", "")


def loosen(kana: str, voicing: bool = True) -> str:
    """A forgiving key for typos and dialect: hiragana, no long marks or spaces, small kana
    made large, the う of a long o/yo sound dropped (びょーいん ≈ びょういん), and, with
    ``voicing``, voiced marks removed (たおれだ ≈ たおれた, 東北弁 ゆきかぎ ≈ ゆきかき)."""
    s = to_hiragana(kana).replace("ー", "").replace(" ", "").replace("〜", "")
    out: list[str] = []
    for ch in s:
        if ch == "う" and out and out[-1] in _O_ROW:
            continue
        out.append(ch)
    s = "".join(out).translate(_SMALL)
    if not voicing:
        return s
    s = unicodedata.normalize("NFD", s)
    s = s.replace("\u3099", "").replace("\u309a", "")
    return unicodedata.normalize("NFC", s)
