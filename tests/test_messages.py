"""Every message exists in every language, with the same placeholders."""

from __future__ import annotations

import string

from grader.messages import CATALOGUES


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_in_every_language() -> None:
    english = CATALOGUES["en"]
    for lang, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(english), f"{lang}: {set(catalogue) ^ set(english)}"
        for key, template in catalogue.items():
            assert placeholders(template) == placeholders(english[key]), (lang, key)
            assert template.strip(), (lang, key)
