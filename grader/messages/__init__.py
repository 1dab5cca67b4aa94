"""Every sentence a learner reads, one catalogue per language.

Checks and commands never build sentences themselves: they name a message key
and its parameters (a ``Feedback``), and reports render it in the chosen
language. ``tests/test_messages.py`` checks that every key exists in every
catalogue with the same placeholders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from grader.messages import en, zh

CATALOGUES: dict[str, dict[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}
LANGUAGES = tuple(CATALOGUES)
SENTENCE_GAP = {"zh": ""}  # Chinese runs sentences on without a space; others use " "
LIST_SEPARATOR = {"zh": "、"}  # others use ", "


@dataclass(frozen=True)
class Feedback:
    """A message key with its parameters, rendered late in the reader's language."""

    key: str
    params: dict[str, str] = field(default_factory=dict)
    then: tuple[Feedback, ...] = ()  # sentences that follow (a diagnosis, a hint)

    def render(self, lang: str = "en") -> str:
        catalogue = CATALOGUES.get(lang, en.MESSAGES)
        template = catalogue.get(self.key) or en.MESSAGES[self.key]
        text = template.format(**self.params)
        for extra in self.then:
            text += SENTENCE_GAP.get(lang, " ") + extra.render(lang)
        return text

    def plus(self, *extra: Feedback) -> Feedback:
        return Feedback(self.key, self.params, self.then + extra)


def message(key: str, **params: object) -> Feedback:
    return Feedback(key, {k: str(v) for k, v in params.items()})


def text(key: str, lang: str = "en", **params: object) -> str:
    """Render one message directly (for command-line text)."""
    return message(key, **params).render(lang)


def join_list(items: list[str], lang: str = "en") -> str:
    """Items of a list in a sentence: "a, b, c"; in Chinese "a、b、c"."""
    return LIST_SEPARATOR.get(lang, ", ").join(items)


def language_from_env(environ: dict[str, str] | None = None) -> str:
    """``zh`` when LC_ALL / LC_MESSAGES / LANG asks for Chinese, else ``en``."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"
