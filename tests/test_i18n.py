"""Every word a learner reads exists in English and Simplified Chinese, and the
language follows --lang, then LC_ALL / LC_MESSAGES / LANG, else English."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import pytest
from conftest import EXERCISES, grade_command, grade_folder, make_submission

from grader import registry
from grader.cli.main import main
from grader.cli.study import help_key, walk_commands
from grader.hints import EXPLANATIONS, HINTS
from grader.messages import CATALOGUES, language_from_env, message, text

HAN = re.compile(r"[\u4e00-\u9fff]")
BUILT_IN = {"help", "version"}  # click's own options


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_MESSAGES": "zh_CN", "LANG": "C"}, "zh"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({}, "en"),
    ],
)
def test_language_from_environment(environ: dict[str, str], lang: str) -> None:
    assert language_from_env(environ) == lang


def test_chinese_catalogues_are_written_in_chinese() -> None:
    for key, template in CATALOGUES["zh"].items():
        assert HAN.search(template), key
    for name in HINTS["zh"]:
        assert all(HAN.search(h) for h in HINTS["zh"][name]), name
        assert HAN.search(EXPLANATIONS["zh"][name]), name


def test_every_stub_docstring_is_bilingual() -> None:
    for ex in registry.EXERCISES:
        doc = (EXERCISES / ex.file).read_text().split('"""')[1]
        assert HAN.search(doc), ex.file
        assert re.search(r"Your task", doc), ex.file


def test_titles_match_the_registry() -> None:
    for ex in registry.EXERCISES:
        assert text(f"title.{ex.name}", "en") == ex.title
        assert HAN.search(text(f"title.{ex.name}", "zh"))


def test_every_command_and_option_has_help_in_both_languages() -> None:
    """In English the catalogue holds the help written in the code, so the Chinese
    translates what English readers see. A command's help changed in the code
    fails here until its catalogue entries (en.py and zh.py) say the same."""
    lang = language_from_env()  # the language the help of this process was put in
    assert inspect.cleandoc(main.help or "") == text("help.grade", lang)
    for path, command in walk_commands(main):
        key = help_key(path)
        assert key is not None, f"help.{path} is missing from grader/messages/en.py and zh.py"
        assert inspect.cleandoc(command.help or "") == text(key, lang), f"update {key}"
        assert HAN.search(text(key, "zh")), key
        for param in command.params:
            if not isinstance(param, click.Option) or not param.help or param.name in BUILT_IN:
                continue
            key = help_key(path, param.name)
            where = f"help.{path}.{param.name}"
            assert key is not None, f"{where} is missing from grader/messages/en.py and zh.py"
            assert param.help == text(key, lang), f"update {key} (used for {where})"
            assert HAN.search(text(key, "zh")), key


def _grade(*args: str, env_lang: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = env_lang
    return subprocess.run(
        [grade_command(), *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_help_follows_the_environment_language() -> None:
    zh = _grade("watch", "--help", env_lang="zh_CN.UTF-8")
    assert zh.returncode == 0, zh.stderr
    assert text("help.watch.manual", "zh")[:20] in zh.stdout
    assert "进度条" in zh.stdout
    top = _grade("--help", env_lang="zh_CN.UTF-8")
    assert "为 torch.autograd 练习评分" in top.stdout
    assert "显示练习 NAME 的提示" in top.stdout  # the command list, cut at a sentence
    en = _grade("watch", "--help", env_lang="en_US.UTF-8")
    assert "progress bar" in en.stdout
    assert not HAN.search(en.stdout)


FAILING_ACCUMULATE = """\
def accumulated_grad(f, x, times):
    for _ in range(times):
        x.grad = None
        f(x).sum().backward()
    return x.grad
"""


def test_feedback_for_a_failing_exercise_in_each_language(submission) -> None:
    folder = submission({"ex05_accumulate.py": FAILING_ACCUMULATE})
    args = (str(folder), "--only", "accumulated_grad", "--seed", "5")
    zh = _grade(*args, "--lang", "zh", env_lang="en_US.UTF-8")
    assert zh.returncode == 0, zh.stderr
    assert "总分" in zh.stdout and "隐藏输入" in zh.stdout
    feedback = [line for line in _exercise_lines(zh.stdout) if line.startswith("    ")]
    assert feedback and all(HAN.search(line) for line in feedback), zh.stdout
    en = _grade(*args, "--lang", "en", env_lang="zh_CN.UTF-8")  # the flag wins
    assert "Total:" in en.stdout and not HAN.search(en.stdout)
    assert len(_exercise_lines(en.stdout)) == len(_exercise_lines(zh.stdout))
    assert "\x1b[" not in zh.stdout + en.stdout  # piped: no colour


def _exercise_lines(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith(("✓", "✗", "    "))]


def test_chinese_sentences_follow_each_other_without_a_space() -> None:
    said = message("diag.sign").plus(message("diag.not_finite"))
    assert said.render("zh") == text("diag.sign", "zh") + text("diag.not_finite", "zh")
    assert said.render("en") == text("diag.sign", "en") + " " + text("diag.not_finite", "en")


RAISES_ON_LINE_2 = """\
def detach_alias(x):
    raise ValueError("no alias today")
"""

SYNTAX_ERROR_ON_LINE_2 = """\
def scalar_grad(f, x):
    return (x
"""


def test_where_the_learners_code_raised_is_said_in_each_language(submission) -> None:
    """The "(line N: code)" of an exception is a catalogue fragment, rendered late
    in the reader's language with the sentence that quotes it."""
    folder = submission(
        {"ex08_detach.py": RAISES_ON_LINE_2, "ex01_scalar_grad.py": SYNTAX_ERROR_ON_LINE_2}
    )
    args = (str(folder), "--only", "detach_alias", "--only", "scalar_grad", "--seed", "5")
    zh = _grade(*args, "--lang", "zh", env_lang="en_US.UTF-8")
    assert zh.returncode == 0, zh.stderr
    assert '（第 2 行：raise ValueError("no alias today")）' in zh.stdout, zh.stdout
    assert "（第 2 行：return (x）" in zh.stdout, zh.stdout
    assert "(line " not in zh.stdout
    en = _grade(*args, "--lang", "en", env_lang="zh_CN.UTF-8")
    assert '(line 2: raise ValueError("no alias today"))' in en.stdout, en.stdout
    assert "(line 2: return (x)" in en.stdout, en.stdout
    assert not HAN.search(en.stdout)


# --- check names -------------------------------------------------------------

CHECKS = ("values", "type", "side_effects")
CHECK_WORD = re.compile(r"\b(values|side_effects)\b|\[type\]|\btype\b[,:]")

COPIES_INSTEAD_OF_ALIAS = """\
def detach_alias(x):
    return x.detach().clone()
"""


def test_every_check_is_named_in_every_language() -> None:
    names = set()
    for ex in registry.EXERCISES:
        module = __import__(ex.check_module, fromlist=["_"])
        names |= {n.removeprefix("test_") for n in vars(module) if n.startswith("test_")}
    assert names >= set(CHECKS)
    for name in names:
        assert text(f"check.{name}", "en") == name, f"check.{name} is missing from en.py"
        assert HAN.search(text(f"check.{name}", "zh")), f"check.{name} is missing from zh.py"


def _two_failing(tmp: Path) -> Path:
    return make_submission(
        tmp,
        {"ex05_accumulate.py": FAILING_ACCUMULATE, "ex08_detach.py": COPIES_INSTEAD_OF_ALIAS},
    )


TWO = ("--only", "accumulated_grad", "--only", "detach_alias", "--seed", "5")


def test_check_names_in_the_text_report_follow_the_language(tmp_path: Path) -> None:
    folder = str(_two_failing(tmp_path))
    gated = _grade(folder, *TWO, "--lang", "zh", env_lang="en_US.UTF-8")
    assert gated.returncode == 0, gated.stderr
    assert "    [数值] " in gated.stdout
    assert "    类型、副作用：已通过" in gated.stdout
    partial = _grade(folder, *TWO, "--partial-credit", "checks", env_lang="zh_CN.UTF-8")
    assert "    部分得分：类型 2、副作用 2" in partial.stdout, partial.stdout
    for report in (gated.stdout, partial.stdout):
        assert not CHECK_WORD.search(report), report
    english = _grade(folder, *TWO, "--partial-credit", "checks", env_lang="en_US.UTF-8")
    assert "    [values] " in english.stdout
    assert "    partial credit: type 2, side_effects 2" in english.stdout


def test_check_names_stay_identifiers_in_json_and_junit_but_not_gradescope(
    tmp_path: Path,
) -> None:
    folder = str(_two_failing(tmp_path))
    doc = json.loads(_grade(folder, *TWO, "--format", "json", env_lang="zh_CN.UTF-8").stdout)
    for exercise in doc["exercises"]:
        assert [c["name"] for c in exercise["checks"]] == list(CHECKS)
        assert HAN.search(exercise["feedback"])
    junit = _grade(folder, *TWO, "--format", "junit", env_lang="zh_CN.UTF-8").stdout
    cases = ET.fromstring(junit.split("\n", 1)[1]).iter("testcase")
    assert [c.get("name") for c in cases] == list(CHECKS) * 2
    assert "类型、副作用：已通过" not in junit  # one note per check
    assert "<system-out>类型：已通过" in junit
    scope = _grade(folder, *TWO, "--format", "gradescope", env_lang="zh_CN.UTF-8").stdout
    tests = json.loads(scope)["tests"]
    assert tests[0]["name"] == "accumulated_grad: " + text("title.accumulated_grad", "zh")
    assert tests[0]["output"].startswith("✗ 数值: 0/6\n")
    assert "✓ 副作用: 0/2\n  副作用：已通过" in tests[0]["output"]
    assert not any(CHECK_WORD.search(t["output"]) for t in tests)


def test_check_names_on_the_watch_screen_follow_the_language(tmp_path: Path) -> None:
    from grader.report.study import render_watch
    from grader.study.progress import Status, state_of

    result = grade_folder(_two_failing(tmp_path), seed=5, only=("accumulated_grad",))
    (ex,) = result.exercises
    status = Status(registry.BY_NAME[ex.name], state_of(ex), ex.score, ex)
    zh = render_watch([status], "zh", False, manual=False, path="ex")
    assert "    [数值] " in zh and "    类型、副作用：已通过" in zh
    assert not CHECK_WORD.search(zh)
    en = render_watch([status], "en", False, manual=False, path="ex")
    assert "    [values] " in en and "    type, side_effects: passed" in en


def test_check_names_in_the_notebook_kernel_follow_the_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from grader.classroom.kernel import check

    def accumulated_grad(f, x, times):  # type: ignore[no-untyped-def]
        for _ in range(times):  # right values, but x.grad keeps a graph
            f(x).sum().backward(create_graph=True)
        return x.grad

    check("accumulated_grad", accumulated_grad, lang="zh")
    said = capsys.readouterr().out
    assert "    部分得分：数值 6、类型 2" in said, said
    assert "    [副作用] " in said
    assert not CHECK_WORD.search(said)


def test_the_continuation_lines_of_feedback_line_up_under_a_chinese_check_name() -> None:
    from grader.report.text import block

    said = block("    [数值] ", "第一行\n第二行")
    first, second = said.splitlines()
    assert second == " " * 11 + "第二行"  # "    [数值] " takes 11 columns
