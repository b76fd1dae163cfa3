"""`promostack templates …`: list the stored templates, import them from folders, export one,
replace one's background image.

A template folder holds `meta.json` and the image its `image_key` names (the layout of
`promostack/templates/demo/<slug>/`); `import` takes one such folder or a folder of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from cli.output import Column, error_console, json_option, print_list, when, yes_no
from promostack.config import get_settings
from promostack.errors import DependencyError, InvalidInput, NotFound
from promostack.runtime import build_runtime
from promostack.templates.store import TemplateStore, describe_validation_error, load_template_dir

app = typer.Typer(
    help="Templates in object storage: list, import, export, replace a background.", no_args_is_help=True
)
console = Console()


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn our errors into a red message on stderr and exit 1 (no traceback for a user's mistake)."""
    try:
        yield
    except (InvalidInput, NotFound) as exc:
        error_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    except ValidationError as exc:
        error_console.print(f"[red]error:[/] {escape(describe_validation_error(exc))}", highlight=False)
        raise typer.Exit(code=1) from None
    except DependencyError as exc:
        error_console.print(f"[red]a service failed:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=1) from None


@contextmanager
def template_store() -> Iterator[TemplateStore]:
    """The configured store's templates (the runtime is closed afterwards)."""
    runtime = build_runtime(get_settings())
    try:
        yield TemplateStore(runtime.store)
    finally:
        runtime.close()


def template_folders(folder: Path) -> list[Path]:
    """`folder` itself when it holds a meta.json, else its sub-folders that do."""
    if (folder / "meta.json").is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if (p / "meta.json").is_file()) if folder.is_dir() else []


TEMPLATE_COLUMNS = [
    Column("slug"),
    Column("name", wrap=True),
    Column("size", show=lambda t: f"{t['width']}x{t['height']}"),
    Column("version", justify="right"),
    Column("web", show=lambda t: yes_no(t["visibility"]["web"])),
    Column("telegram", show=lambda t: yes_no(t["visibility"]["telegram"])),
    Column("updated", show=lambda t: when(t["updated_at"])),
]


@app.command("list")
def list_templates(as_json: bool = json_option()) -> None:
    """Show every stored template with its size, version and channels."""
    with cli_errors(), template_store() as templates:
        entries = sorted(templates.index().templates, key=lambda e: e.slug)
    records = [
        {
            "slug": t.slug,
            "name": t.name,
            "width": t.width,
            "height": t.height,
            "version": t.version,
            "visibility": t.visibility.model_dump(),
            "tags": t.tags,
            "image_key": t.image_key,
            "updated_at": t.updated_at,
        }
        for t in entries
    ]
    print_list(records, TEMPLATE_COLUMNS, title=f"{len(records)} template(s)", as_json=as_json)


@app.command("import")
def import_templates(folder: Path = typer.Argument(..., help="A template folder, or a folder of them.")) -> None:
    """Save each template folder into the store (a new version when the slug exists)."""
    folders = template_folders(folder)
    if not folders:
        console.print(f"[red]error:[/] no meta.json in {folder} or its sub-folders")
        raise typer.Exit(code=1)
    failures = 0
    with template_store() as templates:
        for path in folders:
            try:
                meta, image = load_template_dir(path)
                saved = templates.save(meta, image)
            except (InvalidInput, NotFound, DependencyError) as exc:
                failures += 1
                console.print(f"[red]{path.name}: not imported:[/] {exc}")
                continue
            console.print(f"{saved.slug}: saved as version {saved.version}")
    if failures:
        raise typer.Exit(code=1)


@app.command("export")
def export_template(
    slug: str = typer.Argument(..., help="The template to export."),
    folder: Path = typer.Argument(..., help="Where to write meta.json and the image."),
) -> None:
    """Write a template's meta.json and image into a folder (importable again)."""
    with cli_errors(), template_store() as templates:
        meta = templates.get(slug)
        image = templates.image(slug, meta)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").write_text(meta.model_dump_json(indent=2) + "\n")
    image_name = meta.image_key.rsplit("/", 1)[-1]
    (folder / image_name).write_bytes(image)
    console.print(f"{slug} version {meta.version} written to {folder} (meta.json, {image_name})")


@app.command("replace-image")
def replace_image(
    slug: str = typer.Argument(..., help="The template whose background to replace."),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The new PNG, JPEG or WebP."),
) -> None:
    """Give a template a new background image (its areas are carried over; a new version is saved)."""
    with cli_errors(), template_store() as templates:
        replaced = templates.replace_image(slug, file.read_bytes())
    saved, refit = replaced.template, replaced.refit
    console.print(f"{saved.slug}: new background {saved.width}x{saved.height}, version {saved.version}")
    console.print(refit.summary, highlight=False)
