"""Public pages: the gallery (`/`), the generator of one template (`/t/<slug>`), and the fonts the
page's canvas draws with (`/fonts/<name>`, the very TTF/OTF files the server renders with)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from promostack.render import RenderError, available_fonts, font_path
from promostack.templates.schema import FONT_RE
from webapp.rendering import templates
from webapp.template_access import page_fonts, public_template, web_templates

# Fonts change only with a release, and their URL names the file: let browsers keep them a day.
FONT_CACHE = "public, max-age=86400"


async def home(request: Request) -> Response:
    """The home page: a gallery of the templates visible on the web."""
    summaries = await web_templates(request)
    return templates.TemplateResponse(request, "home.html", {"templates": summaries})


async def generator(request: Request) -> Response:
    """The generator page of one template: fields, live canvas preview, download and share."""
    slug = request.path_params["slug"]
    meta = await public_template(request, slug)
    if meta is None:
        return templates.TemplateResponse(request, "public/not_found.html", {"slug": slug[:64]}, status_code=404)
    # The coupon field comes first: it is the one thing every visitor has to type.
    areas = sorted(meta.text_areas, key=lambda a: a.source != "coupon")
    fonts = page_fonts(request, meta)
    context = {
        "meta": meta,
        "areas": areas,
        "fonts": fonts,
        "page_json": {"meta": meta.model_dump(mode="json"), "fonts": fonts},
    }
    return templates.TemplateResponse(request, "public/generator.html", context)


async def font(request: Request) -> Response:
    """The font file named `name` (its stem, like `Inter-Bold`), as the server's renderer uses it."""
    name = request.path_params["name"]
    if not FONT_RE.match(name):
        raise HTTPException(404, "No such font.")
    try:
        path = font_path(name)
    except RenderError as exc:
        raise HTTPException(404, "No such font.") from exc
    media_type = "font/otf" if path.suffix.lower() == ".otf" else "font/ttf"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": FONT_CACHE})


async def font_faces(request: Request) -> Response:
    """A stylesheet with an `@font-face` per shipped font, named as templates name them (a file,
    not an inline <style>: the CSP allows styles from our origin only)."""
    faces = [
        f'@font-face {{ font-family: "{info.name}"; src: url("{request.url_for("font", name=info.name).path}"); '
        "font-display: block; }"
        for info in available_fonts()
    ]
    return Response("\n".join(faces) + "\n", media_type="text/css", headers={"Cache-Control": FONT_CACHE})


async def healthz(request: Request) -> Response:
    """Liveness for load balancers: the process answers."""
    return JSONResponse({"status": "ok"})


def routes() -> list[BaseRoute]:
    """The public routes."""
    return [
        Route("/", home, name="home"),
        Route("/t/{slug}", generator, name="generator"),
        Route("/fonts/fonts.css", font_faces, name="font_faces"),
        Route("/fonts/{name}", font, name="font"),
        Route("/healthz", healthz, name="healthz"),
    ]
