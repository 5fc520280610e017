"""Text from outside the grader, made safe to store and to show, in one place.

Learner code and file names can hand the grader strings that are not valid Unicode text, and
strings that would rewrite a terminal or a log. Three functions deal with them:

``clean(text)``
    Valid text (encodable as UTF-8, so SQLite, JSON files and every writer take it): each lone
    surrogate (``"\\ud800"``, which learner code can put in an exception message, a dict key
    or a type name) becomes the visible escape ``\\ud800``. Called once, where such text enters
    the grader: the runner's decoding of the child's messages (protocol.py) and of its printed
    output (session.py), which decodes bytes with U+FFFD for what is not UTF-8.

``name_text(name)``
    A file or folder name as valid text. ``os.listdir`` gives the bytes of a name that is not
    UTF-8 (an LMS download made on another system) as surrogate escapes; each such byte becomes
    ``%XX`` (upper-case hex), so ``b"kim\\xff"`` is ``"kim%FF"``: stable from run to run,
    recognisable, and safe as a folder name on any file system. A ``%`` already in a name is
    kept as it is, so ``kim%FF`` and ``kim\\xff`` are the same student id (a duplicate entry).

``printable(text)``
    A string to print on a terminal or in a log as it was typed: control characters (C0 and C1,
    ESC, ``\\r``, ``\\b``, DEL), line and paragraph separators and the bidirectional overrides
    become visible escapes (``\\x1b``, ``\\n``, ``\\u202e``), so a student id or a learner's
    message cannot clear the screen, move the cursor, colour the log or forge a line. Rich
    markup (``[bold]``, ``[link=...]``) and emoji codes (``:skull:``) are the printer's part:
    print with ``markup=False, emoji=False``, or use :func:`for_rich` on a console made with
    ``emoji=False``.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_FS_ESCAPE = re.compile("[\udc80-\udcff]")
#: Characters that steer a terminal or a log rather than show: C0 and C1 controls, DEL, line
#: and paragraph separators, bidirectional marks, embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def clean(text: str) -> str:
    """``text`` with every lone surrogate as a visible ``\\udXXX`` escape (valid UTF-8)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape, text)
    return text


def name_text(name: str) -> str:
    """A file name from ``os.listdir`` as valid text: each undecodable byte as ``%XX``."""
    if name.isascii():
        return name
    return clean(_FS_ESCAPE.sub(lambda m: f"%{ord(m.group()) - 0xDC00:02X}", name))


def printable(text: str) -> str:
    """``text`` cleaned, as one line with every control character as a visible escape (see the
    module docstring)."""
    return _CONTROL.sub(_escape, clean(str(text)))


def for_rich(text: str) -> str:
    """:func:`printable`, with rich markup escaped too: for a string printed by rich with
    markup on (``f"[red]{for_rich(message)}[/red]"``)."""
    from rich.markup import escape

    return escape(printable(text))
