"""The learned reader: training is reproducible and never sees the test split, the numpy reader
scores as scikit-learn does, rules and model join as documented."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from domain.understanding import core, train, understand
from domain.understanding.analysis import analyse
from domain.understanding import corpus
from domain.understanding.corpus import CORPUS_DIR, LEVEL_OF_SIGNAL, SIGNALS, TEST_FILE, read_tsv, training_set
from domain.understanding.rules import classify, detect_safety
from domain.understanding.model import MODEL_FILE, Reader, get_reader
from domain.understanding.normalize import normalize

TODAY = date(2026, 11, 25)
REPO = Path(__file__).resolve().parents[2]


def _small():
    examples = training_set()
    # every label present: a slice of each file
    return [e for i, e in enumerate(examples) if i % 12 == 0]


def test_the_corpus_is_big_enough_and_the_test_split_is_apart():
    train_rows, test_rows = training_set(), corpus.test_set()
    assert len(train_rows) >= 3000
    assert sum(e.safety != "none" for e in train_rows) >= 1200
    assert {e.signal for e in train_rows if e.safety != "none"} == set(SIGNALS)
    assert all(LEVEL_OF_SIGNAL[e.signal] == e.safety for e in train_rows if e.safety != "none")
    assert not {e.text for e in train_rows} & {e.text for e in test_rows}
    assert all("test.tsv" not in e.source for e in train_rows)
    assert TEST_FILE.parent == CORPUS_DIR and not (CORPUS_DIR / "train" / TEST_FILE.name).exists()


def test_training_is_reproducible(tmp_path):
    examples = _small()
    docs = train.featurise(examples)
    a = train.export(train.fit(docs, examples), tmp_path / "a.npz")
    b = train.export(train.fit(docs, examples), tmp_path / "b.npz")
    with np.load(a) as x, np.load(b) as y:
        assert sorted(x.files) == sorted(y.files)
        for name in x.files:
            assert np.array_equal(x[name], y[name]), name


def test_the_numpy_reader_scores_as_scikit_learn(tmp_path):
    examples = _small()
    docs = train.featurise(examples)
    fitted = train.fit(docs, examples)
    reader = Reader(train.export(fitted, tmp_path / "r.npz"))
    probe = ["植木鉢が倒れた", "息子を名乗る電話があってATMに行くところ", "もうつかれた", "ｶｲﾓﾉ ﾃﾂﾀﾞｯﾃ"]
    probe_docs = [train.example_features(t) for t in probe]
    margins = train.predict_margins(fitted, probe_docs)
    for row, doc in enumerate(probe_docs):
        scores = reader.scores(doc)
        for head in ("safety", "signal", "category"):
            classes, m = margins[head]
            got = getattr(scores, head)
            # float16 weights (train.export): a margin may move by a few 0.0001
            assert [got[c] for c in classes] == pytest.approx(list(m[row]), abs=1e-3)


def test_the_artifact_ships_in_the_package_and_is_small():
    assert MODEL_FILE.exists() and MODEL_FILE.stat().st_size < 20_000_000
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["domain"]
    assert "understanding/model/*" in data
    assert get_reader() is get_reader()  # loaded once per process


@pytest.mark.parametrize("text", [
    "植木鉢が倒れた",
    "自転車が風で倒れてしまった。起こしてほしい",
    "倒れてはいないけど、足が弱って買い物がつらい",
    "去年脳梗塞で倒れたけど今は元気。体操教室に行きたい",
    "救命講習で119番のかけ方を習いました",
    "火事が心配なので火災報知器をつけてほしい",
])
def test_harmless_contexts_soften_rule_words(text):
    normalised = normalize(text)
    rules = detect_safety(normalised, analyse(normalised))
    assert rules.level == "none" or rules.soft, rules
    assert understand(text, TODAY).safety == "none"


@pytest.mark.parametrize("text, level", [
    ("しにたい", "crisis"),
    ("火事です", "emergency"),
    ("父が倒れて動かない", "emergency"),
    ("救急車を呼ぶほどじゃないかもしれないけど、胸がずっと痛い", "emergency"),
])
def test_rule_words_outside_harmless_contexts_are_a_floor(text, level, monkeypatch):
    monkeypatch.setattr(core, "ALARM_SUSPECTED", 99.0)  # the model alone would never alarm
    monkeypatch.setattr(core, "ALARM_IN_CONTEXT", 99.0)
    monkeypatch.setattr(core, "ALARM_SURE", 99.0)
    u = understand(text, TODAY)
    assert u.safety == level and u.certainty == core.SUSPECTED


@pytest.mark.parametrize("text, rescue", [
    ("119番って何番?", True),
    ("だれかたすけて", True),
    ("たすけてー", True),
    ("父が倒れて動かない", False),
])
def test_only_calls_for_rescue_stand_against_a_model_sure_of_nothing(text, rescue, monkeypatch):
    monkeypatch.setattr(core, "FLOOR_VETO", 99.0)  # the model vetoes every other rule word
    monkeypatch.setattr(core, "ALARM_SUSPECTED", 99.0)  # and never alarms alone
    monkeypatch.setattr(core, "ALARM_IN_CONTEXT", 99.0)
    u = understand(text, TODAY)
    assert (u.safety == "emergency") is rescue, u


@pytest.mark.parametrize("text, level, signal", [
    ("息子を名乗る人から電話があって、今から銀行でお金をおろして渡すことになってる", "crisis", "fraud"),
    ("父がろれつが回らなくて顔の右側が動かない", "emergency", "medical"),
    ("台所から煙が出て火が広がってる", "emergency", "fire"),
    ("もう生きていてもしょうがない気がする", "crisis", "despair"),
])
def test_the_family_is_read(text, level, signal):
    u = understand(text, TODAY)
    assert (u.safety, u.signal) == (level, signal)
    assert u.to_json_dict()["signal"] == signal


def test_read_tsv_refuses_bad_labels(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tcategory\tsafety\tsignal\tnote\n火事です\tother\temergency\tfraud\t\n", encoding="utf-8")
    with pytest.raises(ValueError):
        read_tsv(bad)


def test_without_an_artifact_the_rules_read_alone(monkeypatch):
    normalised = normalize("たおれた")
    a = analyse(normalised)
    d = core.decide(detect_safety(normalised, a), classify(a), None)
    assert (d.safety, d.certainty, d.signal) == ("emergency", core.SURE, "medical")
