"""understand(): one resident message in, one :class:`Understanding` out."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .analysis import analyse
from .matching import classify, detect_safety
from .normalize import normalize
from .when import When, extract_when


@dataclass(frozen=True)
class Understanding:
    """What the bot understood. ``text`` is the message exactly as received."""

    text: str
    category: str
    safety: str  # "none" | "emergency" | "crisis"
    when: When | None
    confidence: float  # 0..1, for the category
    normalized: str = ""
    matched_keywords: tuple[str, ...] = ()  # explain the category
    safety_signals: tuple[str, ...] = ()  # explain the safety level

    def to_json_dict(self) -> dict:
        """The contract other tools read: exactly these five keys."""
        return {
            "text": self.text,
            "category": self.category,
            "safety": self.safety,
            "when": self.when.to_json_dict() if self.when else None,
            "confidence": self.confidence,
        }


def understand(text: str, today: date) -> Understanding:
    """Normalise, classify into a need category, check safety, and find the time said.

    ``today`` is the resident's local date (Asia/Tokyo); relative expressions such as 明日 or
    来週の火曜 are resolved against it."""
    normalised = normalize(text)
    analysed = analyse(normalised)
    category = classify(analysed)
    safety = detect_safety(normalised, analysed)
    return Understanding(
        text=text,
        category=category.category,
        safety=safety.level,
        when=extract_when(normalised, today),
        confidence=category.confidence,
        normalized=normalised,
        matched_keywords=category.matched,
        safety_signals=safety.matched,
    )


def warm_up() -> None:
    """Load the dictionary and compile the lexicon now rather than on the first message."""
    understand("買い物", date(2000, 1, 1))
