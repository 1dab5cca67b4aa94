"""The pure functions that make learners' text safe (grader/text_safety.py), and the
renderers that must stay safe with text that slipped past them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import unsafe_chars as unsafe
from hypothesis import given
from hypothesis import strategies as st

from grader.messages import Feedback, message
from grader.report import FORMATS, render
from grader.report import summary as summary_report
from grader.results import CheckResult, ExerciseResult, SubmissionResult
from grader.text_safety import (
    ELLIPSIS,
    MAX_CHARS,
    clean,
    clean_data,
    escape_controls,
    printable,
)

# Any code point, lone surrogates included (hypothesis leaves those out by default).
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()))
ATTACK = "bad \ud800 thing\x00 \x1b[2J\x1b[H✓ 80/80\r\x1b]0;pwned\x07 \x9b31m \u202eevil\u202c 中文"


def test_clean_replaces_surrogates_drops_nul_and_caps() -> None:
    assert clean("a\ud800b\x00c") == "a\ufffdbc"
    assert clean("x" * 10, 4) == "xxx" + ELLIPSIS
    assert clean("x" * 4, 4) == "xxxx"
    assert len(clean("y" * (1 << 20))) == MAX_CHARS
    assert clean("中文 \x1b[2J", None) == "中文 \x1b[2J"  # controls stay: escaping is for display


@given(ANY_TEXT, st.integers(1, 50))
def test_clean_always_gives_encodable_text_within_the_limit(text: str, limit: int) -> None:
    said = clean(text, limit)
    said.encode("utf-8")
    assert "\0" not in said and len(said) <= limit
    assert clean(said, limit) == said


def test_clean_data_cleans_every_string_keys_included() -> None:
    doc = {"why\ud800": ["a\x00", {"type": "X" * 5000}], "n": 1.5, "ok": True, "none": None}
    assert clean_data(doc) == {
        "why\ufffd": ["a", {"type": "X" * (MAX_CHARS - 1) + ELLIPSIS}],
        "n": 1.5,
        "ok": True,
        "none": None,
    }
    deep: list = []
    for _ in range(100):
        deep = [deep]
    json.dumps(clean_data(deep))  # nesting is cut, not recursed into without end


def test_escape_controls_shows_what_a_terminal_would_act_on() -> None:
    said = escape_controls(ATTACK)
    assert said == (
        "bad \\ud800 thing\\x00 \\x1b[2J\\x1b[H✓ 80/80\\r\\x1b]0;pwned\\x07 \\x9b31m "
        "\\u202eevil\\u202c 中文"
    )
    assert escape_controls("two\nlines\tand a tab") == "two\nlines\tand a tab"
    assert escape_controls("two\nlines\t", keep="") == "two\\nlines\\t"
    assert escape_controls("\x7f\x85\u2028\ufffe") == "\\x7f\\x85\\u2028\\ufffe"


@given(ANY_TEXT)
def test_escape_controls_output_is_inert_encodable_and_stable(text: str) -> None:
    said = escape_controls(text)
    said.encode("utf-8")
    assert not unsafe(said)
    assert escape_controls(said) == said
    element = ET.Element("a", {"b": said})
    element.text = said
    ET.fromstring(ET.tostring(element, encoding="unicode"))  # XML 1.0 holds it


def test_printable_names_from_disk() -> None:
    # os.listdir gives bytes that are not UTF-8 as surrogate escapes
    assert printable(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf\\xe9"
    assert printable('alice\n\x1b[2Jbob,"x"') == 'alice\\n\\x1b[2Jbob,"x"'
    assert printable("张三") == "张三"
    assert printable("\ud800") == "\\ud800"
    assert len(printable("n" * 1000)) == 200


@given(ANY_TEXT)
def test_printable_is_one_safe_line(text: str) -> None:
    said = printable(text)
    said.encode("utf-8")
    assert not unsafe(said, keep="") and "\n" not in said
    assert printable(said) == said


def test_message_parameters_are_cleaned_and_escaped() -> None:
    said = message("raised.exception", name="scalar_grad", error=f"ValueError: {ATTACK}")
    text = said.render("en")
    assert "\x1b" not in text and "\ud800" not in text and "\x00" not in text
    assert "\\x1b[2J" in text and "\ufffd" in text and "中文" in text


def test_a_workers_answer_is_cleaned_where_it_enters_the_grader() -> None:
    """Whatever a worker sends (it may be forged), its strings arrive clean."""
    from grader.runner import wire
    from grader.runner.execute import _decode_answer

    error = {"type": "X\ud800", "message": "a\x00" + "m" * 10_000, "frames": [{"code": "\x1b"}]}
    outcome = _decode_answer(wire.encode({}, {"status": "import_error", "error": error}))
    assert outcome.status == "import_error"
    said = outcome.detail["error"]
    assert said["type"] == "X\ufffd" and said["frames"] == [{"code": "\x1b"}]
    assert said["message"] == "a" + "m" * (MAX_CHARS - 3) + ELLIPSIS  # cut, then NUL gone


# -- renderers given text that did not go through message() -------------------------------


def slipped_result() -> SubmissionResult:
    """A result whose feedback and name hold raw hostile text, as if nothing had
    cleaned them: every renderer must still be safe."""
    raw = Feedback("raised.exception", {"name": "scalar_grad", "error": f"E: {ATTACK}\nline 2"})
    checks = [
        CheckResult("values", 0.0, 6.0, False, raw),
        CheckResult("type", 2.0, 2.0, True, None),
    ]
    ex = ExerciseResult("scalar_grad", "T", "ex01_scalar_grad.py", 2.0, 8.0, False, "ok", checks)
    return SubmissionResult(f"sub{ATTACK}", [ex], 1, "cpu")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_safe_with_raw_hostile_text(fmt: str) -> None:
    said = render(fmt, slipped_result(), lang="en", color=False)
    said.encode("utf-8")
    assert "\x00" not in said and "\ud800" not in said
    if fmt == "json":
        doc = json.loads(said)
        assert "\\x1b[2J" in doc["exercises"][0]["feedback"]
    elif fmt == "gradescope":
        doc = json.loads(said)
        assert not unsafe(doc["tests"][0]["output"])
    elif fmt == "junit":
        root = ET.fromstring(said)
        assert "\\x1b[2J" in root.find(".//failure").text  # type: ignore[union-attr]
    else:
        assert not unsafe(said)
        # a learner's further lines stay indented under the sentence
        assert all(line.startswith((" ", "✓", "✗", "Total", "Hidden")) or not line
                   for line in said.splitlines())  # fmt: skip
        assert "\n             line 2" in said


def test_the_summary_is_safe_with_raw_hostile_text() -> None:
    result = slipped_result()
    summary = summary_report.summarize([result], notes={result.submission: ATTACK})
    said = summary_report.render(summary)
    assert not unsafe(said)
    summary = summary_report.summarize([result])
    said = summary_report.render(summary)
    assert not unsafe(said) and "\\x1b[2J" in said
