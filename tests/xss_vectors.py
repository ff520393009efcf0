"""The unsafe-markup cases of tests/cases/clean/, as bodies and as whole articles."""

from __future__ import annotations

from pathlib import Path

CLEAN_CASES = Path(__file__).parent / "cases" / "clean"
VECTOR_CASES = sorted(
    [
        *CLEAN_CASES.glob("owasp-*.html"),
        *(
            CLEAN_CASES / name
            for name in (
                "script-tag.html",
                "event-handlers.html",
                "javascript-case.html",
                "javascript-entities.html",
                "javascript-whitespace.html",
                "vbscript.html",
                "data-url.html",
                "svg-onload.html",
                "math.html",
                "style-expression.html",
                "base-href.html",
                "meta-refresh.html",
                "object-embed-applet.html",
                "form-controls.html",
                "iframe-markers.html",
                "frameset.html",
                "noscript.html",
                "template.html",
            )
        ),
    ]
)


def vectors() -> list[tuple[str, str]]:
    """(case name, input body) for every unsafe-markup case."""
    return [(path.stem, path.read_text("utf-8").partition("\n\n")[2]) for path in VECTOR_CASES]


def one_line(text: str) -> str:
    """A vector as a single-quoted YAML scalar."""
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def article(name: str, body: str, title: str) -> str:
    quoted = one_line(title)
    return (
        f"---\ntitle: {quoted}\nauthor: {quoted}\ncategories: [XSS, {quoted}]\n"
        f"tags: [{quoted}]\nsummary: {quoted}\ndate: 2022-03-15 10:00:00\n---\n{body}"
    )
