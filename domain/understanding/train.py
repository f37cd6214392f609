"""Training the learned reader (scikit-learn), and exporting it as a small numpy artifact.

    sasaeai understand train          # reads corpus/train/*.tsv, writes model/reader.npz

Three linear heads share one TF-IDF feature space (features.py): ``safety`` (none / emergency
/ crisis), ``signal`` (none and the eight families) and ``category`` (the 14 need codes).
Training is deterministic (fixed seeds, files read in name order). The artifact holds only
numpy arrays, so reading a message needs neither scikit-learn nor joblib at run time.

Only this module imports scikit-learn; it never opens the test split.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .analysis import analyse
from .corpus import Example, training_set
from .features import feature_key, model_features
from .normalize import normalize

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = MODEL_DIR / "reader.npz"
HEADS = ("safety", "signal", "category")
MIN_DF = 2
C = {"safety": 0.5, "signal": 0.5, "category": 0.5}
# Safety messages are mostly labelled `other`: they count less when learning categories, so
# that ordinary needs are not pulled into `other`.
SAFETY_WEIGHT_FOR_CATEGORY = 0.3


def prepare(text: str):
    """(rules' SafetyResult, rules' CategoryResult, model features) of one message, exactly as
    understand() computes them."""
    from .rules import classify, detect_safety, for_the_model

    normalised = normalize(text)
    a = analyse(normalised)
    safety = detect_safety(normalised, a)
    category = classify(a)
    return safety, category, model_features(for_the_model(normalised, a), category.category, safety.level,
                                            safety.soft)


def example_features(text: str) -> list[str]:
    return prepare(text)[2]


def labels(examples: list[Example], head: str) -> list[str]:
    if head == "safety":
        return [e.safety for e in examples]
    if head == "signal":
        return [e.family for e in examples]
    return [e.category for e in examples]


@dataclass
class Fitted:
    vectorizer: object
    models: dict[str, object]


def _identity(doc: list[str]) -> list[str]:
    return doc


def fit(docs: list[list[str]], examples: list[Example], c: dict[str, float] | None = None,
        safety_weight: float = SAFETY_WEIGHT_FOR_CATEGORY) -> Fitted:
    """One TF-IDF space, three one-vs-rest linear SVMs (liblinear: deterministic, seconds)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    c = {**C, **(c or {})}
    vec = TfidfVectorizer(analyzer=_identity, min_df=MIN_DF, sublinear_tf=True, dtype=np.float64)
    x = vec.fit_transform(docs)
    models = {}
    for head in HEADS:
        model = LinearSVC(C=c[head], class_weight="balanced", random_state=0, max_iter=5000)
        weight = None
        if head == "category":
            weight = np.array([1.0 if e.safety == "none" else safety_weight for e in examples])
        model.fit(x, labels(examples, head), sample_weight=weight)
        models[head] = model
    return Fitted(vec, models)


def predict_margins(fitted: Fitted, docs: list[list[str]]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each head's margins (decision_function) for each doc."""
    x = fitted.vectorizer.transform(docs)
    return {head: (list(m.classes_), m.decision_function(x)) for head, m in fitted.models.items()}


def export(fitted: Fitted, path: str | Path = MODEL_FILE) -> Path:
    """Write each feature's key (sorted), its idf and each head's weights into one .npz.

    The weights are float16: a margin moves by a few ten-thousandths (at most 0.0002 over the
    test split when measured; the margins that decide are 0.0 and 0.1 apart), and the reader
    takes half the memory."""
    vec = fitted.vectorizer
    features = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
    keys = np.array([feature_key(f) for f in features], dtype=np.uint64)
    order = np.argsort(keys)
    if len(np.unique(keys)) != len(keys):
        raise ValueError("two features share a key: widen feature_key")
    arrays: dict[str, np.ndarray] = {"keys": keys[order], "idf": vec.idf_.astype(np.float32)[order]}
    for head, model in fitted.models.items():
        arrays[f"{head}_classes"] = np.frombuffer("\n".join(model.classes_).encode("utf-8"), dtype=np.uint8)
        arrays[f"{head}_coef"] = np.ascontiguousarray(model.coef_.T[order].astype(np.float16))
        arrays[f"{head}_intercept"] = model.intercept_.astype(np.float32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def featurise(examples: list[Example]) -> list[list[str]]:
    return [example_features(e.text) for e in examples]


def train(out: str | Path = MODEL_FILE, train_dir: str | Path | None = None) -> tuple[Path, int, int]:
    """Train on corpus/train and write the artifact. Returns (path, examples, features)."""
    examples = training_set(train_dir) if train_dir else training_set()
    fitted = fit(featurise(examples), examples)
    path = export(fitted, out)
    return path, len(examples), len(fitted.vectorizer.vocabulary_)


def folds(examples: list[Example], k: int = 5, seed: int = 0) -> list[np.ndarray]:
    """Stratified (by family and category) fold numbers, deterministic."""
    from sklearn.model_selection import StratifiedKFold

    strata = [f"{e.family}" if e.safety != "none" else f"none:{e.category}" for e in examples]
    fold_of = np.zeros(len(examples), dtype=int)
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for i, (_, test_idx) in enumerate(skf.split(np.zeros(len(examples)), strata)):
        fold_of[test_idx] = i
    return fold_of


