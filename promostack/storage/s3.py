"""S3-compatible storage through boto3: AWS S3, DigitalOcean Spaces, MinIO."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from promostack.storage.base import ObjectInfo, ObjectNotFound, StorageError, check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    """Objects in one bucket; URLs from the CDN base when given, else the endpoint."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        cdn_base_url: str | None = None,
        public_read: bool = False,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.cdn_base_url = cdn_base_url.rstrip("/") if cdn_base_url else None
        self.public_read = public_read
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            # Retries on throttling and 5xx are safe: every call here is idempotent.
            config=Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _MISSING:
            return ObjectNotFound(f"no object {key!r} in bucket {self.bucket!r}")
        return StorageError(f"cannot {action} {key!r} in bucket {self.bucket!r}: {exc}")

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("read", key, exc) from exc

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        check_key(key)
        extra: dict[str, str] = {}
        if content_type:
            extra["ContentType"] = content_type
        if self.public_read:
            extra["ACL"] = "public-read"
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("write", key, exc) from exc

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete", key, exc) from exc

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            error = self._fail("inspect", key, exc)
            if isinstance(error, ObjectNotFound):
                return False
            raise error from exc
        except BotoCoreError as exc:
            raise self._fail("inspect", key, exc) from exc

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    found.append(ObjectInfo(key=item["Key"], size=item["Size"], modified=item["LastModified"]))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", prefix or "/", exc) from exc
        return sorted(found, key=lambda info: info.key)

    def url(self, key: str) -> str:
        check_key(key)
        if self.cdn_base_url:
            return f"{self.cdn_base_url}/{key}"
        base = (self.endpoint_url or "https://s3.amazonaws.com").rstrip("/")
        return f"{base}/{self.bucket}/{key}"

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (MinIO and tests; Spaces buckets pre-exist)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except (ClientError, BotoCoreError) as exc:
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc
