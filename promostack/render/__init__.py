"""The Pillow render engine: templates + texts + logo -> PNG/JPEG/WebP, with one fitting rule.

The fitting rule (shared with the browser preview) is written out in `promostack.render.fit`;
every image leaves through `promostack.render.encode` (PNG by libvips); `telegram_photo` is the
JPEG for Telegram's `sendPhoto`.
"""

from promostack.render.encode import encode_image, encode_png
from promostack.render.engine import render_canvas, render_template
from promostack.render.errors import BadImage, RenderError, TextDoesNotFit
from promostack.render.fit import FitResult, fit_text
from promostack.render.images import open_image
from promostack.render.telegram import photo_jpeg, telegram_photo
from promostack.render.typefaces import FontInfo, available_fonts, font_path

__all__ = [
    "BadImage",
    "FitResult",
    "FontInfo",
    "RenderError",
    "TextDoesNotFit",
    "available_fonts",
    "encode_image",
    "encode_png",
    "fit_text",
    "font_path",
    "open_image",
    "photo_jpeg",
    "render_canvas",
    "render_template",
    "telegram_photo",
]
