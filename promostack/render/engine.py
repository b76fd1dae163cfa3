"""`render_template`: a template, its background and the texts in, the finished image out.

`render_canvas` is the drawing half (a Pillow image); `render_template` adds the encode step of
`promostack.render.encode`, so every caller gets the same encoders."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from PIL import Image

from promostack.render.draw_text import draw_text
from promostack.render.errors import BadImage, RenderError
from promostack.render.encode import ImageFormat, check_output, encode_image
from promostack.render.fit import FitResult, fit_text
from promostack.render.images import open_image
from promostack.render.logo import fitted_logo
from promostack.templates.schema import TemplateMeta

def _open(data: bytes, what: str) -> Image.Image:
    try:
        return open_image(data)
    except BadImage as exc:
        raise BadImage(f"{what}: {exc}") from None


def _working_mode(image: Image.Image) -> Image.Image:
    """The background in the mode we draw on: RGBA when it has transparency, else RGB."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    return image if image.mode == mode else image.convert(mode)


@lru_cache(maxsize=8)
def _decoded_background(data: bytes) -> Image.Image:
    """The decoded background, remembered: the bot, the API and bulk jobs render the same few
    templates again and again, and decoding a 1080px PNG costs about a quarter of a render.
    Callers draw on a copy; failures are not remembered (lru_cache keeps only returns)."""
    return _working_mode(_open(data, "background"))


def render_template(
    meta: TemplateMeta,
    background: bytes,
    texts: Mapping[str, str],
    *,
    logo: bytes | None = None,
    fmt: ImageFormat = "png",
    quality: int = 90,
) -> bytes:
    """The finished image. `texts` maps area id -> text; a missing id uses the area's default_text;
    unknown ids are a RenderError. Raises before producing anything on bad input."""
    check_output(fmt, quality)  # before drawing: bad input costs nothing
    return encode_image(render_canvas(meta, background, texts, logo=logo), fmt, quality)


def render_canvas(
    meta: TemplateMeta, background: bytes, texts: Mapping[str, str], *, logo: bytes | None = None
) -> Image.Image:
    """The finished picture, not yet encoded (RGB, or RGBA when the background has transparency);
    the checks and errors of `render_template`."""
    known = {area.id for area in meta.text_areas}
    unknown = sorted(set(texts) - known)
    if unknown:
        raise RenderError(
            f"template '{meta.slug}' has no text area {', '.join(map(repr, unknown))}; "
            f"its areas are {', '.join(sorted(known))}"
        )
    not_text = sorted(key for key, value in texts.items() if not isinstance(value, str))
    if not_text:
        raise RenderError(f"the text for {', '.join(map(repr, not_text))} must be a string")
    if logo is not None and meta.logo_area is None:
        raise RenderError(f"template '{meta.slug}' has no logo area; send no logo")
    # Fit everything first: a text that does not fit fails the render before any drawing.
    fits: list[FitResult] = [fit_text(texts.get(a.id, a.default_text), a) for a in meta.text_areas]

    base = _decoded_background(background)
    if base.size != (meta.width, meta.height):
        raise RenderError(
            f"the background of '{meta.slug}' is {base.width}x{base.height} but the template says "
            f"{meta.width}x{meta.height}"
        )
    logo_image = _open(logo, "logo") if logo is not None else None

    canvas = base.copy()
    if logo_image is not None and meta.logo_area is not None:
        placed, corner = fitted_logo(logo_image, meta.logo_area)
        if canvas.mode == "RGBA":
            canvas.alpha_composite(placed, corner)
        else:
            canvas.paste(placed, corner, placed)
    for area, fit in zip(meta.text_areas, fits, strict=True):
        draw_text(canvas, fit, area)
    return canvas
