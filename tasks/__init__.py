"""Prefect tasks: thin wrappers adding retries, caching, logging and artifacts to promostack calls."""
