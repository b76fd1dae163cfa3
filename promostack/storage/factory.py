"""Choose the store from settings: S3-compatible when a bucket is set, else the local folder."""

from __future__ import annotations

from promostack.config import Settings
from promostack.storage.base import ObjectStore
from promostack.storage.local import LocalStore
from promostack.storage.s3 import S3Store


def build_store(settings: Settings) -> ObjectStore:
    """The object store these settings describe."""
    if settings.uses_s3:
        assert settings.spaces_bucket
        endpoint = settings.spaces_endpoint_url
        if endpoint is None and settings.spaces_access_key is not None:
            # DigitalOcean Spaces: the endpoint follows from the region.
            endpoint = f"https://{settings.spaces_region}.digitaloceanspaces.com"
        return S3Store(
            settings.spaces_bucket,
            endpoint_url=endpoint,
            region=settings.spaces_region,
            access_key=settings.spaces_access_key.get_secret_value() if settings.spaces_access_key else None,
            secret_key=settings.spaces_secret_key.get_secret_value() if settings.spaces_secret_key else None,
            cdn_base_url=settings.spaces_cdn_base_url,
        )
    return LocalStore(settings.data_dir / "store")
