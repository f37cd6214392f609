"""The learned reader at run time: the artifact written by train.py, read with numpy only.

The artifact (model/reader.npz) holds the vocabulary's feature keys (features.feature_key,
sorted), the idf weights and, for each head (safety, signal, category), the weights of a
linear model. It is loaded once per process, lazily, under a lock; scoring a message is a
sparse dot product (well under a millisecond).

If the artifact is missing the reader is simply absent (:func:`get_reader` returns None) and
understanding falls back to the rules alone.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

from .features import feature_key

MODEL_FILE = Path(__file__).resolve().parent / "model" / "reader.npz"

_lock = threading.Lock()
_reader: "Reader | None" = None
_loaded = False


@dataclass(frozen=True)
class Head:
    classes: tuple[str, ...]
    coef: object  # numpy array, (features, classes)
    intercept: object  # numpy array, (classes,)


@dataclass(frozen=True)
class Scores:
    """Margins of each head's classes (one-vs-rest linear scores; > 0 means "this one")."""

    safety: dict[str, float]
    signal: dict[str, float]
    category: dict[str, float]

    @property
    def alarm(self) -> float:
        """How much more the message looks like an emergency or a crisis than like nothing: the
        mean of two heads' verdicts, the safety head's (emergency or crisis against none) and
        the signal head's (any family against none). Read by writer (evaluate --by-writer), the
        two together miss fewer at the same false alarms than the safety head alone."""
        s, g = self.safety, self.signal
        by_level = max(s.get("emergency", -9.0), s.get("crisis", -9.0)) - s.get("none", 0.0)
        families = [v for k, v in g.items() if k != "none"]
        by_family = (max(families) if families else -9.0) - g.get("none", 0.0)
        return (by_level + by_family) / 2

    def level(self) -> str:
        s = self.safety
        return "emergency" if s.get("emergency", -9.0) >= s.get("crisis", -9.0) else "crisis"

    def best_signal(self, families: tuple[str, ...]) -> str:
        return max(families, key=lambda f: self.signal.get(f, -9.0))

    def best_category(self) -> tuple[str, float]:
        """The category and a 0..1 confidence (a softmax over the margins)."""
        ranked = sorted(self.category.items(), key=lambda kv: -kv[1])
        top = ranked[0][1]
        total = sum(math.exp(3.0 * (v - top)) for _k, v in ranked)
        return ranked[0][0], round(1.0 / total, 2)


class Reader:
    def __init__(self, path: Path):
        import numpy as np

        self._np = np
        with np.load(path) as data:
            self.keys = data["keys"]
            self.idf = data["idf"]
            self.heads: dict[str, Head] = {}
            for head in ("safety", "signal", "category"):
                classes = tuple(bytes(data[f"{head}_classes"]).decode("utf-8").split("\n"))
                self.heads[head] = Head(classes, data[f"{head}_coef"], data[f"{head}_intercept"])
        self.size = len(self.keys)

    def scores(self, feats: list[str]) -> Scores:
        np = self._np
        counts: dict[int, int] = {}
        for f in feats:
            key = feature_key(f)
            counts[key] = counts.get(key, 0) + 1
        out: dict[str, dict[str, float]] = {}
        asked = np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts))
        at = np.searchsorted(self.keys, asked)
        at[at == len(self.keys)] = 0
        known = self.keys[at] == asked
        idx = at[known]
        if len(idx):
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))[known]
            val = (1.0 + np.log(tf)) * self.idf[idx]  # sublinear tf × idf, then l2 norm
            val /= np.sqrt(float(val @ val)) or 1.0
        for name, head in self.heads.items():
            margins = head.intercept.copy()
            if len(idx):
                margins += val @ head.coef[idx].astype(np.float32)
            out[name] = dict(zip(head.classes, (float(v) for v in margins)))
        return Scores(out["safety"], out["signal"], out["category"])


def get_reader(path: Path | None = None) -> Reader | None:
    """The process-wide reader, loaded on first use (None when there is no artifact)."""
    global _reader, _loaded
    if path is not None:
        return Reader(path)
    if not _loaded:
        with _lock:
            if not _loaded:
                _reader = Reader(MODEL_FILE) if MODEL_FILE.exists() else None
                _loaded = True
    return _reader


def reset() -> None:
    """Forget the loaded reader (after training a new artifact in this process)."""
    global _reader, _loaded
    with _lock:
        _reader, _loaded = None, False
