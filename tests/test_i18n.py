"""Every word a learner reads exists in English and Simplified Chinese, and the
language follows --lang, then LC_ALL / LC_MESSAGES / LANG, else English."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from conftest import EXERCISES, grade_command, grade_folder, make_submission

from grader import registry
from grader.cli.language import help_key, localize_help, walk_commands
from grader.cli.main import main
from grader.hints import EXPLANATIONS, HINTS
from grader.messages import CATALOGUES, LANGUAGES, language_from_env, message, text

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


HELP_AS_WRITTEN = """
import inspect, json, click
from grader.cli.main import main
from grader.cli.language import walk_commands
written = []  # [command path, option name or None, help]
for path, command in [("grade", main), *walk_commands(main)]:
    written.append([path, None, inspect.cleandoc(command.help or "")])
    for param in command.params:
        if isinstance(param, click.Option) and param.help:
            written.append([path, param.name, param.help])
print(json.dumps(written))
"""


def _help_as_written() -> list[tuple[str, str | None, str]]:
    """Every help text as the code writes it: read in a fresh interpreter, before
    any run of ``grade`` in this one has put it into a language."""
    proc = subprocess.run(
        [sys.executable, "-c", HELP_AS_WRITTEN], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return [tuple(entry) for entry in json.loads(proc.stdout)]


def test_every_command_and_option_has_help_in_both_languages() -> None:
    """In English the catalogue holds the help written in the code, so the Chinese
    translates what English readers see. A command's help changed in the code
    fails here until its catalogue entries (en.py and zh.py) say the same."""
    for path, param, said in _help_as_written():
        if param in BUILT_IN:
            continue  # click's own words (grader/cli/click_words.py)
        key = help_key(path, param)
        where = f"help.{path}" + (f".{param}" if param else "")
        assert key is not None, f"{where} is missing from grader/messages/en.py and zh.py"
        assert said == text(key, "en"), f"update {key} (used for {where})"
        assert HAN.search(text(key, "zh")), key
    for lang in (*LANGUAGES, "en"):  # what a run in each language shows; English last
        localize_help(main, lang)
        assert main.help == text("help.grade", lang)
        for path, command in walk_commands(main):
            assert command.help == text(help_key(path) or "", lang)
            for option in command.params:
                if isinstance(option, click.Option) and option.help and option.name not in BUILT_IN:
                    assert option.help == text(help_key(path, option.name) or "", lang)


def _grade(
    *args: str, env_lang: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES", "LANG")}
    env["LANG"] = env_lang
    return subprocess.run(
        [grade_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
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


# --- click's own words ----------------------------------------------------------

# What click writes in English around our own text (headings, notes, errors, prompts).
CLICK_ENGLISH = re.compile(
    r"Usage:|Options:|Commands:|Show this message|Show the version|\[default|\[required"
    r"|Error|Invalid value|is not|Missing|No such|Did you mean|requires an|does not"
    r"|Got unexpected|integer|float|Directory|File |Aborted|\[y/N\]|, version"
)
ZH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"}  # for CliRunner
EN = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "en_US.UTF-8"}


def test_click_words_are_recognised_as_click_writes_them() -> None:
    """The catalogue's click.* English is click's own, so a click that words a
    sentence differently fails here instead of showing English to a Chinese reader.
    A few are sentences click builds from two of its words (Missing argument 'X'.)."""
    import click as click_package

    source = "".join(path.read_text() for path in Path(click_package.__file__).parent.glob("*.py"))
    built = {"click.missing_argument", "click.missing_option"}
    built |= {"click.did_you_mean", "click.did_you_mean_one_of"}
    for key, english in CATALOGUES["en"].items():
        if key.startswith("click.") and key not in built:
            assert f'"{english}"' in source, f"{key}: click no longer writes {english!r}"


def test_help_pages_are_in_the_language_of_the_run() -> None:
    """Every command's help, click's headings, notes and built-in options included."""
    runner = CliRunner()
    pages = [["--help"], *([*path.split("."), "--help"] for path, _ in walk_commands(main))]
    for args in pages:
        zh = runner.invoke(main, args, env=ZH)
        assert zh.exit_code == 0, (args, zh.output)
        assert zh.stdout.startswith("用法：main "), zh.stdout
        assert "选项：\n" in zh.stdout and "显示这份帮助并退出。" in zh.stdout
        assert not CLICK_ENGLISH.search(zh.stdout), (args, CLICK_ENGLISH.search(zh.stdout))
        flag = runner.invoke(main, ["--lang", "zh", *args], env=EN)
        assert flag.stdout == zh.stdout, args  # --lang counts before click reads it
        en = runner.invoke(main, args, env=EN)
        assert en.stdout.startswith("Usage:") and "Options:\n" in en.stdout
        assert not HAN.search(en.stdout), args
    top = runner.invoke(main, ["--help"], env=ZH).stdout
    assert "命令：\n" in top and "显示版本号并退出。" in top
    hint = runner.invoke(main, ["hint", "--help"], env=ZH).stdout
    assert "[默认：1]" in hint


def _usage_errors(tmp: Path) -> list[list[str]]:
    return [
        ["check", "--format", "nope"],
        ["check", "--memory", "3"],
        ["check", "--timeout", "abc"],
        ["check", "--format"],
        ["check", "--formt", "json"],
        ["check", "--fo", "json"],
        ["check", "a", "b"],
        ["check", "a", "b", "c"],
        ["check", "--lang", "fr"],
        ["hint"],
        ["hint", "x", "--level", "abc"],
        ["nbgrader", "nope"],
        ["batch", str(tmp / "nowhere")],
        ["gradescope-bundle", str(tmp)],
    ]


def test_usage_errors_are_one_line_in_the_language_of_the_run(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in _usage_errors(tmp_path):
        for env, first in ((ZH, []), (EN, ["--lang", "zh"])):
            zh = runner.invoke(main, [*first, *args], env=env)
            said = zh.stderr
            assert zh.exit_code == 2, (args, zh.output)
            assert zh.stdout == "" and len(said.splitlines()) == 1, (args, said)
            assert said.startswith("错误：") and "（用法见 '" in said, said
            assert not CLICK_ENGLISH.search(said), (args, said)
        en = runner.invoke(main, args, env=EN)
        assert en.exit_code == 2 and len(en.stderr.splitlines()) == 1, (args, en.stderr)
        assert en.stderr.startswith("Error: ") and "(see '" in en.stderr
        assert not HAN.search(en.stderr), args


def test_click_sentences_are_translated_part_by_part() -> None:
    from grader.cli.click_words import translate

    said = "Invalid value for '--memory': 3 is not in the range x>=64."
    assert translate(said, "zh") == "'--memory' 的值无效：3 不在允许的范围 x>=64 内。"
    said = "Invalid value for 'DIR': Directory 'file' does not exist."
    assert translate(said, "zh") == "'DIR' 的值无效：文件夹 'file' 不存在。"
    said = "No such option '--formt'. Did you mean '--format'?"
    assert translate(said, "zh") == "没有选项 '--formt'。你是想用 '--format' 吗？"
    # what the learner typed is quoted as typed, even when it is one of click's words
    assert translate("Got unexpected extra argument (file)", "zh") == "多出了一个参数（file）"
    assert translate("Something click never said.", "zh") == "Something click never said."
    assert translate(said, "en") == said


def test_a_group_named_without_a_command_shows_its_help_in_the_language_of_the_run() -> None:
    zh = CliRunner().invoke(main, ["nbgrader"], env=ZH)
    assert zh.exit_code == 2
    assert zh.stderr.startswith("用法：main nbgrader") and "命令：\n" in zh.stderr


def test_help_usage_errors_and_version_through_the_grade_command() -> None:
    for args, env_lang in ((["--help"], "zh_CN.UTF-8"), (["--help", "--lang", "zh"], "C")):
        top = _grade(*args, env_lang=env_lang)
        assert top.returncode == 0, top.stderr
        assert top.stdout.startswith("用法：grade [OPTIONS] COMMAND [ARGS]...")
        assert "选项：" in top.stdout and "命令：" in top.stdout
        assert not CLICK_ENGLISH.search(top.stdout), top.stdout
    hint = _grade("hint", "--help", "--lang", "zh", env_lang="en_US.UTF-8")
    assert hint.stdout.startswith("用法：grade hint [OPTIONS] NAME")
    assert "[默认：1]" in hint.stdout and "显示这份帮助并退出。" in hint.stdout
    for args, env_lang in (([], "zh_CN.UTF-8"), (["--lang", "zh"], "en_US.UTF-8")):
        bad = _grade("check", "--format", "nope", *args, env_lang=env_lang)
        assert bad.returncode == 2 and bad.stdout == ""
        assert bad.stderr == (
            "错误：'--format' 的值无效：'nope' 不是可选的值，可选的有："
            "'text', 'json', 'gradescope', 'junit'。（用法见 'grade check --help'）\n"
        )
    english = _grade("check", "--format", "nope", env_lang="en_US.UTF-8")
    assert english.stderr.startswith("Error: Invalid value for '--format': 'nope' is not one")
    assert _grade("--version", "--lang", "zh", env_lang="C").stdout.startswith("grade，版本 ")
    assert _grade("--version", env_lang="C").stdout.startswith("grade, version ")


def test_the_solution_prompt_asks_in_the_language_of_the_run() -> None:
    declined = _grade("solution", "5", "--force", env_lang="zh_CN.UTF-8", stdin="x\n否\n")
    assert declined.returncode == 1
    question = text("study.solution_confirm", "zh", name="accumulated_grad")
    assert declined.stdout.startswith(question + "[y 是 / N 否]：")
    assert text("cli.confirm_again", "zh") in declined.stdout  # "x" is no answer
    assert "def accumulated_grad" not in declined.stdout
    accepted = _grade("solution", "5", "--force", "--lang", "zh", env_lang="C", stdin="是\n")
    assert accepted.returncode == 0 and "def accumulated_grad" in accepted.stdout
    aborted = _grade("solution", "5", "--force", env_lang="zh_CN.UTF-8", stdin="")
    assert aborted.returncode == 1 and aborted.stderr == "已取消。\n"
    english = _grade("solution", "5", "--force", env_lang="C", stdin="n\n")
    assert english.stdout.startswith(
        text("study.solution_confirm", "en", name="accumulated_grad") + " [y/N]: "
    )
    assert _grade("solution", "5", "--force", env_lang="C", stdin="").stderr == "Aborted!\n"


@pytest.mark.parametrize(
    ("args", "environ", "lang"),
    [
        (["--lang", "zh"], {"LANG": "en_US.UTF-8"}, "zh"),
        (["check", "--lang=zh"], {"LANG": "en_US.UTF-8"}, "zh"),
        (["--lang", "zh", "hint", "1", "--lang", "en"], {}, "en"),  # the last one wins
        (["check", "--lang", "fr"], {"LANG": "zh_CN.UTF-8"}, "zh"),  # click refuses fr
        (["check", "--", "--lang", "zh"], {"LANG": "en_US.UTF-8"}, "en"),
        (["check", "--lang"], {"LANG": "zh_CN.UTF-8"}, "zh"),
        ([], {"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ],
)
def test_the_language_of_a_run(args: list[str], environ: dict[str, str], lang: str) -> None:
    from grader.cli.language import invocation_language

    assert invocation_language(args, environ) == lang


def test_lang_before_the_command_reaches_the_command() -> None:
    said = CliRunner().invoke(main, ["--lang", "zh", "hint", "1"], env=EN)
    assert said.exit_code == 0, said.output
    assert said.stdout.startswith(
        text(
            "study.hint_title",
            "zh",
            level=1,
            count=len(HINTS["zh"]["scalar_grad"]),
            name="scalar_grad",
        )
    )
