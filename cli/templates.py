"""`promostack templates …`: list the stored templates, import them from folders, export one.

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
from rich.table import Table

from promostack.config import get_settings
from promostack.errors import DependencyError, InvalidInput, NotFound
from promostack.runtime import build_runtime
from promostack.templates.store import TemplateStore, describe_validation_error, load_template_dir

app = typer.Typer(help="Templates in object storage: list, import, export.", no_args_is_help=True)
console = Console()


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn our errors into a red message and exit code 1 (no traceback for a user's mistake)."""
    try:
        yield
    except (InvalidInput, NotFound) as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(code=1) from None
    except ValidationError as exc:
        console.print(f"[red]error:[/] {describe_validation_error(exc)}")
        raise typer.Exit(code=1) from None
    except DependencyError as exc:
        console.print(f"[red]a service failed:[/] {exc}")
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


@app.command("list")
def list_templates() -> None:
    """Show every stored template with its size, version and channels."""
    with cli_errors(), template_store() as templates:
        entries = templates.index().templates
    table = Table(title=f"{len(entries)} template(s)")
    for column in ("slug", "name", "size", "version", "web", "telegram", "updated"):
        table.add_column(column)
    for t in sorted(entries, key=lambda e: e.slug):
        table.add_row(
            t.slug,
            t.name,
            f"{t.width}x{t.height}",
            str(t.version),
            "yes" if t.visibility.web else "no",
            "yes" if t.visibility.telegram else "no",
            f"{t.updated_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)


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
