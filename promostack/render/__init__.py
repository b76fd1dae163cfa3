"""The Pillow render engine: templates + texts + logo -> PNG/JPEG/WebP, with one fitting rule.

The fitting rule (shared with the browser preview) is written out in `promostack.render.fit`.
"""

from promostack.render.engine import render_template
from promostack.render.errors import BadImage, RenderError, TextDoesNotFit
from promostack.render.fit import FitResult, fit_text
from promostack.render.images import open_image
from promostack.render.typefaces import FontInfo, available_fonts, font_path

__all__ = [
    "BadImage",
    "FitResult",
    "FontInfo",
    "RenderError",
    "TextDoesNotFit",
    "available_fonts",
    "fit_text",
    "font_path",
    "open_image",
    "render_template",
]
