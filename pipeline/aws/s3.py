"""The Storage port on an S3 bucket, through an injected boto3 client."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from typing import Iterator

from botocore.exceptions import ClientError

# S3's answers to a conditional write whose condition failed, or that raced another one on the same key.
CONDITION_FAILED = {"PreconditionFailed", "ConditionalRequestConflict"}
CHECKSUM = "SHA256"  # kept by S3 with each object, so a landed file can be compared later without reading it


class S3Storage:
    def __init__(self, bucket: str, s3_client):
        self.bucket = bucket
        self.root = f"s3://{bucket}"
        self._s3 = s3_client

    def uri(self, key: str) -> str:
        return f"{self.root}/{key}"

    def key_of(self, uri: str) -> str:
        if not uri.startswith(self.root + "/"):
            raise ValueError(f"{uri} is not in bucket {self.bucket}")
        return uri[len(self.root) + 1:]

    def write_bytes(self, key: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumAlgorithm=CHECKSUM)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        try:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] in CONDITION_FAILED:
                return False
            raise
        return True

    def read_bytes(self, key: str) -> bytes:
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self._s3.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no object {self.uri(key)}") from None

    @contextmanager
    def local_copy(self, key: str) -> Iterator[str]:
        # The task's ephemeral storage holds the object; it is read from there in batches, never whole in memory.
        with tempfile.TemporaryDirectory(prefix="s3-object-") as folder:
            path = os.path.join(folder, key.rsplit("/", 1)[-1] or "object")
            try:
                self._s3.download_file(self.bucket, key, path)
            except ClientError as error:
                if error.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                    raise FileNotFoundError(f"no object {self.uri(key)}") from None
                raise
            yield path

    def upload_file(self, path: str, key: str) -> None:
        # multipart for large files (the checksum is then one of the parts' checksums)
        self._s3.upload_file(path, self.bucket, key, ExtraArgs={"ChecksumAlgorithm": CHECKSUM})

    def copy(self, source: str, key: str) -> None:
        # Server-side (multipart past 5 GB): the bytes never pass through this process
        self._s3.copy({"Bucket": self.bucket, "Key": source}, self.bucket, key,
                      ExtraArgs={"ChecksumAlgorithm": CHECKSUM})

    def checksum(self, key: str) -> str | None:
        # S3 verified it against the bytes it received and keeps it with the object; it is not read again.
        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as error:
            if error.response["Error"]["Code"] in {"404", "NoSuchKey"}:
                raise FileNotFoundError(f"no object {self.uri(key)}") from None
            raise
        return head.get("ChecksumSHA256")

    def replace_if_unchanged(self, key: str, expected: bytes, data: bytes) -> bool:
        try:
            current = self._s3.get_object(Bucket=self.bucket, Key=key)
        except self._s3.exceptions.NoSuchKey:
            return False
        if current["Body"].read() != expected:
            return False
        try:  # If-Match: written only if nobody wrote the key since we read it
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, IfMatch=current["ETag"])
        except ClientError as error:
            if error.response["Error"]["Code"] in CONDITION_FAILED | {"NoSuchKey"}:
                return False
            raise
        return True

    def exists(self, key: str) -> bool:
        return bool(self._s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1).get("KeyCount"))

    def list_keys(self, prefix: str) -> list[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        return sorted(item["Key"] for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                      for item in page.get("Contents", []))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list_keys(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            self._s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)
