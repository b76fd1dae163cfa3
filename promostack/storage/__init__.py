"""Object storage behind one interface: a local folder (embedded) or S3-compatible (boto3)."""

from promostack.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StorageError, check_key, content_type_of
from promostack.storage.factory import build_store
from promostack.storage.local import LocalStore
from promostack.storage.s3 import S3Store

__all__ = [
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "S3Store",
    "StorageError",
    "build_store",
    "check_key",
    "content_type_of",
]
