"""understand(): normalisation, categories, safety, time expressions, and the CLI contract.

The labelled set is tests/data/understanding/labelled.tsv (text, category, safety, note).
Run with -s to see the per-category accuracy table, or:
    python -m domain.understanding.evaluate tests/data/understanding/labelled.tsv -v
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from domain.categories import CATEGORY_CODES
from domain.understanding import (
    SAFETY_LEVELS,
    Understanding,
    extract_when,
    normalize,
    understand,
)
from domain.understanding import lexicon
from domain.understanding.evaluate import accuracy, read_cases, run_cases, table

REPO = Path(__file__).resolve().parents[2]
LABELLED = REPO / "tests" / "data" / "understanding" / "labelled.tsv"
TODAY = date(2026, 11, 25)  # a Wednesday

CASES = read_cases(LABELLED)
SAFETY_CASES = [c for c in CASES if c.safety != "none"]
ORDINARY_CASES = [c for c in CASES if c.safety == "none"]


def _id(case) -> str:
    return f"L{case.line}:{case.text[:24]}"


# --- the labelled set ------------------------------------------------------------------


def test_labelled_set_is_large_and_well_formed():
    assert len(CASES) >= 300
    assert len(SAFETY_CASES) >= 30
    assert {c.category for c in CASES} == set(CATEGORY_CODES)
    assert {c.safety for c in CASES} == set(SAFETY_LEVELS)
    hiragana_safety = [c for c in SAFETY_CASES if all("ぁ" <= ch <= "ゖ" or not ch.isalpha() for ch in c.text)]
    assert len(hiragana_safety) >= 5
    for level in ("emergency", "crisis"):
        assert sum(c.safety == level for c in CASES) >= 10


@pytest.mark.parametrize("case", SAFETY_CASES, ids=_id)
def test_every_safety_message_raises_its_alarm(case):
    u = understand(case.text, TODAY)
    assert u.safety != "none", f"line {case.line}: {case.text!r} ({case.note}) came out none"
    assert u.safety == case.safety, f"line {case.line}: {case.text!r}: {u.safety} ({u.safety_signals})"


@pytest.mark.parametrize("case", ORDINARY_CASES, ids=_id)
def test_no_ordinary_message_raises_an_alarm(case):
    u = understand(case.text, TODAY)
    assert u.safety == "none", f"line {case.line}: {case.text!r} alarmed {u.safety}: {u.safety_signals}"


def test_category_accuracy():
    outcomes = run_cases(CASES, TODAY)
    report = table(outcomes)
    print("\n" + report)
    assert accuracy(outcomes) >= 0.85, report


# --- safety, beyond the labelled set ----------------------------------------------------


@pytest.mark.parametrize("text, level", [
    ("たおれた", "emergency"),
    ("タ オ レ タ", "emergency"),
    ("倒れた😭😭", "emergency"),
    ("ﾀｵﾚﾀ", "emergency"),
    ("しにたい", "crisis"),
    ("し・に・た・い", "crisis"),
    ("死にたいくらい寂しい", "crisis"),
    ("死にたいなんて思ってないけど", "crisis"),
    ("虐待", "crisis"),
    ("夫に殴られて血が止まらない", "emergency"),  # both: the 119 guidance comes first
    ("火事", "emergency"),
    ("火曜日", "none"),
    ("かようびにきて", "none"),
    ("家事", "none"),
    ("胸がいっぱいです", "none"),
    ("燃えるゴミ", "none"),
    ("電気が消えた", "none"),
    ("ドアがあけられない", "none"),
])
def test_safety_edges(text, level):
    assert understand(text, TODAY).safety == level


def test_long_text_keeps_a_late_signal():
    text = "きょうは天気がいいですね。" * 800 + "でも、もう死にたい"
    u = understand(text, TODAY)
    assert u.safety == "crisis"
    assert u.text == text


# --- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("ｶｲﾓﾉ", "カイモノ"),
    ("ｺﾞﾐﾀﾞｼ", "ゴミダシ"),
    ("ＡＢＣ１２３", "ABC123"),
    ("たすけてーーー！！！", "たすけてー!"),
    ("雪かき〜〜お願い", "雪かき〜お願い"),
    ("ありがとう😊🙏", "ありがとう"),
    ("👨‍👩‍👧 家族", "家族"),
    ("  買い物　 たのみたい \n", "買い物 たのみたい"),
    ("なに？？？", "なに?"),
    ("", ""),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("text, category", [
    ("かいもの", "shopping"),
    ("カイモノ", "shopping"),
    ("ｶｲﾓﾉ", "shopping"),
    ("買物", "shopping"),
    ("びょういん", "outing"),
    ("ビョーイン", "outing"),
    ("でんきゅう", "housework"),
    ("ゆきかき", "snow"),
    ("くさむしり", "garden"),
    ("すまほ", "digital"),
    ("てつづき", "paperwork"),
])
def test_kana_matches_kanji_keywords(text, category):
    assert understand(text, TODAY).category == category


# --- time --------------------------------------------------------------------------------

WHEN_CASES = [
    # text, date, weekday, part_of_day, recurring, hour
    ("来週の火曜の午前中", "2026-12-01", 1, "morning", None, None),
    ("らいしゅうのかようび", "2026-12-01", 1, None, None, None),
    ("明日", "2026-11-26", 3, None, None, None),
    ("あしたのごご", "2026-11-26", 3, "afternoon", None, None),
    ("あさって", "2026-11-27", 4, None, None, None),
    ("しあさって", "2026-11-28", 5, None, None, None),
    ("今日", "2026-11-25", 2, None, None, None),
    ("今晩", "2026-11-25", 2, "evening", None, None),
    ("5日", "2026-12-05", 5, None, None, None),  # the 5th of this month has passed
    ("25日", "2026-11-25", 2, None, None, None),
    ("12月3日", "2026-12-03", 3, None, None, None),
    ("1月10日", "2027-01-10", 6, None, None, None),
    ("12/3", "2026-12-03", 3, None, None, None),
    ("来月の10日", "2026-12-10", 3, None, None, None),
    ("火曜", "2026-12-01", 1, None, None, None),
    ("水曜日", "2026-12-02", 2, None, None, None),  # said on a Wednesday: next week
    ("今週の金曜", "2026-11-27", 4, None, None, None),
    ("再来週の月曜", "2026-12-07", 0, None, None, None),
    ("午前中", None, None, "morning", None, None),
    ("午後", None, None, "afternoon", None, None),
    ("夕方", None, None, "evening", None, None),
    ("毎週水曜", None, 2, None, "weekly", None),
    ("毎週月曜と木曜の朝", None, 0, "morning", "weekly", None),
    ("毎月", None, None, None, "monthly", None),
    ("毎月第3水曜", None, 2, None, "monthly", None),
    ("毎月5日", None, None, None, "monthly", None),
    ("毎日", None, None, None, "daily", None),
    ("10時", None, None, None, None, 10),
    ("十時", None, None, None, None, 10),
    ("10時半", None, None, None, None, 10),
    ("午後3時", None, None, "afternoon", None, 15),
    ("3時ごろ", None, None, None, None, 15),  # bare 1–6時 is afternoon
    ("朝9時", None, None, "morning", None, 9),
    ("月曜日の午後2時ごろ", "2026-11-30", 0, "afternoon", None, 14),
]


@pytest.mark.parametrize("text, day, weekday, part, recurring, hour", WHEN_CASES, ids=[c[0] for c in WHEN_CASES])
def test_when(text, day, weekday, part, recurring, hour):
    w = extract_when(normalize(text), TODAY)
    assert w is not None
    assert w.to_json_dict() == {
        "text": w.text, "date": day, "weekday": weekday, "part_of_day": part,
        "recurring": recurring, "hour": hour,
    }
    assert w.text


@pytest.mark.parametrize("text", ["買い物をお願いしたい", "3日間入院していた", "2時間かかる", "こんばんは",
                                  "きょうしつ", "1日1回", ""])
def test_no_time_said(text):
    assert extract_when(normalize(text), TODAY) is None


def test_when_text_keeps_what_was_said():
    u = understand("来週の火曜の午前中に病院へ連れてってほしい", TODAY)
    assert u.when is not None and u.when.text == "来週の火曜 午前中"


def test_when_uses_the_injected_date():
    assert understand("明日", date(2027, 2, 28)).when.date == date(2027, 3, 1)
    assert understand("明日", date(2028, 2, 28)).when.date == date(2028, 2, 29)


# --- the API -----------------------------------------------------------------------------


def test_json_contract():
    u = understand("あしたの午前中 かいものをおねがい", TODAY)
    assert isinstance(u, Understanding)
    d = u.to_json_dict()
    assert list(d) == ["text", "category", "safety", "when", "confidence"]
    assert d["text"] == "あしたの午前中 かいものをおねがい"
    assert d["category"] == "shopping" and d["safety"] == "none"
    assert d["when"] == {"text": "あした 午前中", "date": "2026-11-26", "weekday": 3,
                         "part_of_day": "morning", "recurring": None, "hour": None}
    assert 0.0 < d["confidence"] <= 1.0
    json.dumps(d, ensure_ascii=False)
    with pytest.raises(AttributeError):
        u.category = "other"  # frozen


def test_nothing_understood_is_other_with_no_confidence():
    d = understand("こんにちは", TODAY).to_json_dict()
    assert d == {"text": "こんにちは", "category": "other", "safety": "none", "when": None, "confidence": 0.0}


def test_every_category_code_is_in_the_lexicon():
    assert set(lexicon.KEYWORDS) == set(CATEGORY_CODES)


def test_threads_share_the_dictionary():
    results: dict[int, str] = {}

    def work(i: int) -> None:
        for _ in range(20):
            results[i] = understand("びょういんにつれてって", TODAY).category

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results.values()) == {"outing"}


# --- the CLI -----------------------------------------------------------------------------


def test_cli_writes_one_json_object_per_line(monkeypatch, capsys):
    import cli

    monkeypatch.setattr(sys, "stdin", io.StringIO("来週の火曜の午前中に病院へ連れてってほしい\n\n  \nしにたい\n"))
    assert cli.main(["understand", "--today", "2026-11-25"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "text": "来週の火曜の午前中に病院へ連れてってほしい",
        "category": "outing",
        "safety": "none",
        "when": {"text": "来週の火曜 午前中", "date": "2026-12-01", "weekday": 1,
                 "part_of_day": "morning", "recurring": None, "hour": None},
        "confidence": first["confidence"],
    }
    assert second["safety"] == "crisis" and second["when"] is None
    assert "しにたい" in lines[1]  # ensure_ascii=False


def test_cli_in_a_subprocess_defaults_to_today_in_tokyo():
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "understand"],
        input="明日ゴミ出しをお願い\n".encode("utf-8"),
        capture_output=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    (line,) = proc.stdout.decode("utf-8").splitlines()
    d = json.loads(line)
    assert set(d) == {"text", "category", "safety", "when", "confidence"}
    assert d["category"] == "garbage" and d["when"]["date"] is not None


def test_cli_rejects_a_bad_date(capsys):
    import cli

    with pytest.raises(SystemExit):
        cli.main(["understand", "--today", "2026-13-01"])
