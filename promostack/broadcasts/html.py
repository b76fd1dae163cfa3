"""Telegram HTML, checked before a broadcast is saved, so it never fails 50 000 times at send time.

Telegram's `parse_mode=HTML` accepts a small set of tags, properly nested, and only the entities
`&lt; &gt; &amp; &quot;` plus numeric ones; every other `<` or `&` must be escaped. A message is at
most 4 096 characters once parsed, a photo caption 1 024 (counted in UTF-16 code units, as Telegram
counts). `check_html` gives the visible length or raises `InvalidInput` saying what to fix.
"""

from __future__ import annotations

from html.parser import HTMLParser

from promostack.errors import InvalidInput

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
     "code", "pre", "blockquote"}
)
ENTITIES = frozenset({"lt", "gt", "amp", "quot"})


class InvalidHtml(InvalidInput):
    """The text is not HTML Telegram would accept."""


def utf16_length(text: str) -> int:
    """The length of `text` as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.visible = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag not in TAGS:
            raise InvalidHtml(f"Telegram does not support the <{tag}> tag; use b, i, u, s, a, code, pre, "
                              "blockquote or tg-spoiler", field="text")
        if tag == "a" and not (values.get("href") or "").strip():
            raise InvalidHtml("a link <a> needs an href", field="text")
        if tag == "span" and values.get("class") != "tg-spoiler":
            raise InvalidHtml('<span> is only allowed as <span class="tg-spoiler">', field="text")
        if tag == "tg-emoji" and not values.get("emoji-id"):
            raise InvalidHtml("<tg-emoji> needs an emoji-id", field="text")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise InvalidHtml(f"<{tag}/> is not allowed: Telegram HTML has no self-closing tags", field="text")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f"</{self.open[-1]}>" if self.open else "no closing tag"
            raise InvalidHtml(f"</{tag}> does not close the open tag (expected {expected})", field="text")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        # A bare ">" is accepted by Telegram; "<" and "&" must be escaped.
        for char, name in (("<", "&lt;"), ("&", "&amp;")):
            if char in data:
                raise InvalidHtml(f"a bare {char!r} must be written {name}", field="text")
        self.visible += utf16_length(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            raise InvalidHtml(f"&{name}; is not one of Telegram's entities (&lt; &gt; &amp; &quot;)", field="text")
        self.visible += 1

    def handle_charref(self, name: str) -> None:
        self.visible += 1

    def handle_comment(self, data: str) -> None:
        raise InvalidHtml("HTML comments are not allowed", field="text")

    def handle_decl(self, decl: str) -> None:
        raise InvalidHtml("declarations are not allowed", field="text")

    def unknown_decl(self, data: str) -> None:
        raise InvalidHtml("declarations are not allowed", field="text")


def check_html(text: str, *, caption: bool = False) -> int:
    """The visible length of `text`; `InvalidHtml` when Telegram would refuse it."""
    if not text.strip():
        raise InvalidHtml("the message is empty", field="text")
    checker = _Checker()
    checker.feed(text)
    # The parser keeps an unfinished tag ("<b" at the end) in its buffer instead of failing.
    if checker.rawdata.startswith("&"):
        raise InvalidHtml("a bare '&' must be written &amp;", field="text")
    if checker.rawdata:
        raise InvalidHtml(f"unfinished tag at the end: {checker.rawdata[:20]!r}", field="text")
    checker.close()
    if checker.open:
        raise InvalidHtml(f"<{checker.open[-1]}> is never closed", field="text")
    limit = CAPTION_LIMIT if caption else MESSAGE_LIMIT
    if checker.visible > limit:
        what = "a photo caption" if caption else "a message"
        raise InvalidHtml(f"{what} is at most {limit} characters; this one has {checker.visible}", field="text")
    return checker.visible
