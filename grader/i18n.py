"""The language of every learner- and instructor-facing text: gettext catalogues, English ids.

Texts are written in English in the code and looked up in the catalogue of the active language
(``grader/locale/<lang>/LC_MESSAGES/backprop_lab.mo``, compiled with Babel from the ``.po`` file
beside it; ``python -m grader.authoring.catalog`` extracts, checks and compiles them). A third
language is a new catalogue, not code.

- ``_(text)`` translates now, into the active language. Values go in named placeholders,
  filled after translation: ``_("{func} returns None").format(func=name)``; never an f-string.
- ``N_(text)`` only marks a text kept as data (a check's name, a case's description, a known
  mistake's explanation); it is translated with ``_`` where it is shown or put into a message.
- The active language is ``use(lang)``'s inside its ``with`` block, else the process's
  (``set_language``), else the locale's (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` beginning with
  ``ko``), else English.

A result's messages are in the language that was active when it was graded; check names stay
the English keys of the gradebook and of stored values, and are translated when shown.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext
import os
from collections.abc import Iterator
from pathlib import Path

DOMAIN = "backprop_lab"
LOCALE_DIR = Path(__file__).parent / "locale"

#: The languages with a catalogue (English is the code's own).
LANGUAGES = ("en", "ko")
DEFAULT = "en"

_active: contextvars.ContextVar[str | None] = contextvars.ContextVar("language", default=None)
_process: str | None = None


class UnknownLanguage(ValueError):
    """A language without a catalogue was asked for."""


def normalise(lang: str) -> str:
    """``"ko"``, ``"ko_KR.UTF-8"``, ``"KO"`` -> ``"ko"``; raises UnknownLanguage for a
    language without a catalogue."""
    code = lang.strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise UnknownLanguage(
            f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return code


def from_locale(environ: dict[str, str] | None = None) -> str:
    """The locale's language: the first of ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set
    decides; Korean when it begins with ``ko``, else English."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else DEFAULT
    return DEFAULT


def resolve(lang: str | None = None) -> str:
    """The language to use: ``lang`` when given (normalised), else the active one."""
    return normalise(lang) if lang else current()


def current() -> str:
    """The active language (see the module's docstring)."""
    return _active.get() or _process or from_locale()


def set_language(lang: str | None) -> None:
    """Make ``lang`` the process's language (None: the locale's again)."""
    global _process
    _process = normalise(lang) if lang else None


@contextlib.contextmanager
def use(lang: str | None) -> Iterator[str]:
    """Within the block, texts are in ``lang`` (None: unchanged). Yields the language."""
    if not lang:
        yield current()
        return
    token = _active.set(normalise(lang))
    try:
        yield _active.get() or DEFAULT
    finally:
        _active.reset(token)


@functools.cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(text: str) -> str:
    """``text`` in the active language (itself when the catalogue has no entry)."""
    if not text:
        return text
    return _catalogue(current()).gettext(text)


def _n(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for count ``n`` in the active language."""
    return _catalogue(current()).ngettext(singular, plural, n)


def N_(text: str) -> str:  # noqa: N802 (gettext's own name for a marker)
    """Mark ``text`` for the catalogue without translating it (it is data, shown later)."""
    return text


def translate(text: str, lang: str | None = None) -> str:
    """``text`` in ``lang`` (default: the active language)."""
    with use(lang):
        return _(text)
