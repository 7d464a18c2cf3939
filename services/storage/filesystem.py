"""Document bytes in a folder, one file per SHA-256, written atomically (a temporary file renamed into place)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from services.storage import StoredDocumentMissingError

#: Documents hold PHI: only the service's own user may read them.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class FilesystemDocumentStore:
    """`root/ab/cd/abcd…` for the SHA-256 `abcd…`: two levels of 256 folders keep any one folder small."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("a document's key is a SHA-256 in lowercase hex")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, sha256: str, data: bytes) -> bool:
        return await asyncio.to_thread(self._put, self.path_of(sha256), data)

    async def get(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise StoredDocumentMissingError(f"no stored document {sha256}") from None

    @staticmethod
    def _put(path: Path, data: bytes) -> bool:
        """Write to a temporary file beside the target, flush it to disk, then rename it into place: a reader sees
        the whole file or none, even if the process dies half-way. The same bytes already there: nothing written."""
        if path.exists():
            return False
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), FILE_MODE)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)  # atomic; a racing writer of the same key renames the same bytes
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
        return True


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (the folder's entry), where the platform allows it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
