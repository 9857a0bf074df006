"""French typography on the students' pages: the text a test reads, and the spaces it must not find."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# An ordinary space (or line end) before « : ; ? ! » or a closing guillemet, or after an opening one: a
# browser may break the line there. U+00A0 and U+202F, which it may not, are not matched.
BREAKABLE_SPACE_AT_A_MARK = re.compile(r"[ \t\r\n][:;?!»]|«[ \t\r\n]")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ("br", "meta", "img", "link", "input"):
            self.open.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        # The student's own text, shown as written: code in tracebacks, outputs, errors (<pre> but ours).
        verbatim = any(t in ("style", "script", "code") or (t == "pre" and c != "detail") for t, c in self.open)
        if not verbatim:
            self.texts.append(data)


def page_texts(page: str) -> list[str]:
    """The page's text nodes, without style, script and the student's own text shown as written."""
    parser = _Texts()
    parser.feed(page)
    return parser.texts


def breakable_spaces_at_marks(page: str) -> list[str]:
    """The page's texts with an ordinary space before « : ; ? ! » (or inside « »): none on a French page."""
    return [text for text in page_texts(page) if BREAKABLE_SPACE_AT_A_MARK.search(text)]
