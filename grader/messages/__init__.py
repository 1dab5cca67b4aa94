"""Every sentence a learner reads, one catalogue per language.

Checks and commands never build sentences themselves: they name a message key
and its parameters (a ``Feedback``), and reports render it in the chosen
language. A parameter may itself be a ``Feedback`` (a fragment such as "line 3:
code"), rendered with its sentence in the same language. ``tests/test_messages.py``
checks that every key exists in every catalogue with the same placeholders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from grader.messages import en, zh
from grader.text_safety import clean, escape_controls

CATALOGUES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}
LANGUAGES = tuple(CATALOGUES)
SENTENCE_GAP = {"zh": ""}  # Chinese runs sentences on without a space; others use " "
LIST_SEPARATOR = {"zh": "、"}  # Chinese lists names with the enumeration comma; others ", "


@dataclass(frozen=True)
class Feedback:
    """A message key with its parameters, rendered late in the reader's language."""

    key: str
    params: dict[str, str | Feedback] = field(default_factory=dict)
    then: tuple[Feedback, ...] = ()  # sentences that follow (a diagnosis, a hint)

    def render(self, lang: str = "en") -> str:
        catalogue = CATALOGUES.get(lang, en.MESSAGES)
        template = catalogue.get(self.key) or en.MESSAGES[self.key]
        text = template.format(**{k: rendered(v, lang) for k, v in self.params.items()})
        for extra in self.then:
            text += SENTENCE_GAP.get(lang, " ") + extra.render(lang)
        return text

    def plus(self, *extra: Feedback) -> Feedback:
        return Feedback(self.key, self.params, self.then + extra)


def rendered(value: str | Feedback, lang: str) -> str:
    """A parameter as the reader sees it: a fragment of the catalogue in ``lang``."""
    return value.render(lang) if isinstance(value, Feedback) else value


def message(key: str, **params: object) -> Feedback:
    """A sentence to render later. Parameters may quote a learner (an exception
    message, a type name, a file name): they are cleaned and their control
    characters escaped here, so no rendering of the sentence can be driven by them.
    A parameter that is a ``Feedback`` stays one (its own parameters were cleaned
    when it was made), so it is rendered in the reader's language too."""
    return Feedback(
        key,
        {
            k: v if isinstance(v, Feedback) else escape_controls(clean(str(v)))
            for k, v in params.items()
        },
    )


def listing(items: list[str], lang: str) -> str:
    """Names one after another, the way ``lang`` lists them (``a, b``; ``甲、乙``)."""
    return LIST_SEPARATOR.get(lang, ", ").join(items)


def check_name(name: str) -> str | Feedback:
    """A check's name as learners read it: the catalogue's ``check.NAME`` (``values``
    reads 数值 in Chinese). A check the catalogue does not name keeps its
    identifier, which is also what the JSON ``name`` field and JUnit always show."""
    key = f"check.{name}"
    return Feedback(key) if key in en.MESSAGES else name


def text(key: str, lang: str = "en", **params: object) -> str:
    """Render one message directly (for command-line text)."""
    return message(key, **params).render(lang)


def language_from_env(environ: dict[str, str] | None = None) -> str:
    """``zh`` when LC_ALL / LC_MESSAGES / LANG asks for Chinese, else ``en``."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
