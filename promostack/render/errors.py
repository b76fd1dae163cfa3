"""The render errors: every one is the caller's input, so none is ever retried."""

from __future__ import annotations

from promostack.errors import InvalidInput


class RenderError(InvalidInput):
    """The template, the texts or the images cannot be rendered; the message says what to fix."""


class TextDoesNotFit(RenderError):
    """A text is too long for its area even at the area's smallest font size."""

    def __init__(self, area_id: str, length: int, min_size: int, detail: str = "") -> None:
        self.area_id = area_id
        self.length = length
        self.min_size = min_size
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"text area '{area_id}': {length} characters do not fit even at the minimum font size "
            f"{min_size}px{extra}; shorten the text or lower min_size"
        )


class BadImage(RenderError):
    """An image is corrupt, not an image, too large, or a decompression bomb."""
