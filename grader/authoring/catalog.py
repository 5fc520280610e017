"""The translation catalogues: extract the texts marked in ``grader/``, merge them into each
language's ``.po`` file, check and compile them (Babel).

    python -m grader.authoring.catalog update    # new texts in; gone texts out; then compile
    python -m grader.authoring.catalog check     # what is untranslated or inconsistent
    python -m grader.authoring.catalog compile   # .po -> .mo (committed: no build step needed)

Marked texts are the arguments of ``_``, ``N_`` and ``_n`` (see ``grader.i18n``).
"""

from __future__ import annotations

import argparse
import io
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from grader.i18n import DEFAULT, DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None, "_n": (1, 2)}


def extract() -> Catalog:
    """Every marked text of the grader's code, as a template catalogue."""
    template = Catalog(project="Backprop Lab", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        PACKAGE, method_map=[("**.py", "python")], keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
    ):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments,
                     context=context)
    return template


def po_path(lang: str) -> Path:
    """Where ``lang``'s source catalogue lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(lang: str) -> Catalog:
    """``lang``'s catalogue (empty when it has none yet)."""
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def _write(catalog: Catalog, path: Path) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=True,
             ignore_obsolete=True, include_lineno=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def update(lang: str) -> Catalog:
    """Merge the code's texts into ``lang``'s catalogue: translations kept, new texts added
    untranslated, texts no longer in the code dropped. Writes the ``.po`` file."""
    catalog = read(lang)
    catalog.update(extract(), no_fuzzy_matching=True)
    _write(catalog, po_path(lang))
    return catalog


def compiled(lang: str) -> bytes:
    """``lang``'s ``.mo`` file as its ``.po`` file compiles to."""
    buffer = io.BytesIO()
    write_mo(buffer, read(lang), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    """Write every language's ``.mo`` file beside its ``.po``."""
    for lang in LANGUAGES:
        if lang != DEFAULT:
            po_path(lang).with_suffix(".mo").write_bytes(compiled(lang))


def fields(text: str) -> list[str]:
    """The named placeholders of a ``str.format`` text, sorted (``{x:.3g}`` -> ``x``)."""
    try:
        return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name})
    except ValueError:
        return ["<malformed>"]


def problems(lang: str) -> list[str]:
    """Why ``lang``'s catalogue is not complete: texts of the code it lacks or leaves
    untranslated, translations whose placeholders differ from the English text's."""
    catalog = read(lang)
    found = []
    for message in extract():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        entry = catalog.get(message.id)
        strings = () if entry is None else (
            entry.string if isinstance(entry.string, tuple) else (entry.string,))
        if entry is None or not all(strings) or entry.fuzzy:
            found.append(f"untranslated: {ids[0]!r}")
            continue
        for translated in strings:
            if fields(translated) != fields(ids[0]):
                found.append(f"placeholders differ: {ids[0]!r} has {fields(ids[0])}, "
                             f"the translation {fields(translated)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.authoring.catalog")
    parser.add_argument("action", choices=("update", "check", "compile"))
    action = parser.parse_args(argv).action
    languages = [lang for lang in LANGUAGES if lang != DEFAULT]
    if action == "update":
        for lang in languages:
            update(lang)
        compile_all()
    elif action == "compile":
        compile_all()
    found = [f"{lang}: {p}" for lang in languages for p in problems(lang)]
    for line in found:
        print(line)
    if action != "update" and found:
        return 1
    print(f"{len(found)} problem(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
