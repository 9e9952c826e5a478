"""The Storage port on a local folder: the local stand-in for the S3 bucket."""
from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class FolderStorage:
    def __init__(self, root: str | Path):
        self.root = str(Path(root).resolve())

    def uri(self, key: str) -> str:
        # Keep a folder's trailing slash, as S3 prefixes do, so keys round-trip through the catalog.
        return str(Path(self.root, key)) + ("/" if key.endswith("/") else "")

    def key_of(self, uri: str) -> str:
        return str(Path(uri).resolve().relative_to(self.root)) + ("/" if uri.endswith("/") else "")

    def write_bytes(self, key: str, data: bytes) -> None:
        # Write then rename, so a reader never sees half a file.
        path = Path(self.uri(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, path)

    def create_exclusive(self, key: str, data: bytes) -> bool:
        # Link a complete file into place: the link fails if the key exists, and no reader sees half of it.
        path = Path(self.uri(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
        partial.write_bytes(data)
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        finally:
            partial.unlink()
        return True

    def replace_if_unchanged(self, key: str, expected: bytes, data: bytes) -> bool:
        path = Path(self.uri(key))
        if not path.parent.is_dir():
            return False
        with open(path.with_name(f".{path.name}.swap"), "w") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)  # one compare-and-swap of this key at a time
            try:
                if path.read_bytes() != expected:
                    return False
            except FileNotFoundError:
                return False
            self.write_bytes(key, data)
        return True

    def read_bytes(self, key: str) -> bytes:
        return Path(self.uri(key)).read_bytes()

    @contextmanager
    def local_copy(self, key: str) -> Iterator[str]:
        path = Path(self.uri(key))
        if not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        yield str(path)  # already on this disk

    def upload_file(self, path: str, key: str) -> None:
        target = Path(self.uri(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        shutil.copyfile(path, partial)
        os.replace(partial, target)

    def copy(self, source: str, key: str) -> None:
        # A hard link: no bytes move, and the copy outlives the source's deletion (a file is never rewritten here)
        target = Path(self.uri(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(self.uri(source), target)
        except OSError:  # another file system, or one without links
            self.upload_file(self.uri(source), key)

    def checksum(self, key: str) -> str | None:
        # Computed from the bytes on disk now: what S3 would have kept from the upload.
        with open(self.uri(key), "rb") as file:
            return base64.b64encode(hashlib.file_digest(file, "sha256").digest()).decode()

    def exists(self, key: str) -> bool:
        return Path(self.uri(key)).exists()

    def list_keys(self, prefix: str) -> list[str]:
        base = Path(self.uri(prefix))
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(self.key_of(str(path)) for path in base.rglob("*")
                      if path.is_file() and not path.name.startswith("."))

    def delete_prefix(self, prefix: str) -> int:
        path = Path(self.uri(prefix))
        if path.is_file():
            path.unlink()
            return 1
        if not path.is_dir():
            return 0
        removed = sum(1 for item in path.rglob("*") if item.is_file())
        shutil.rmtree(path)
        return removed
