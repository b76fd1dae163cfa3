"""Demo data for a fresh install: each feature adds its seeder to `SEEDERS`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from promostack.config import Settings

Seeder = Callable[[Settings], Iterator[str]]

# Each seeder is idempotent and yields one line per thing it did or found already there.
SEEDERS: list[Seeder] = []


def seed_all(settings: Settings) -> Iterator[str]:
    """Run every seeder in order."""
    if not SEEDERS:
        yield "no demo data to seed yet"
    for seeder in SEEDERS:
        yield from seeder(settings)
