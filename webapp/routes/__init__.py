"""Route groups; each module exposes `routes() -> list[BaseRoute]`."""
