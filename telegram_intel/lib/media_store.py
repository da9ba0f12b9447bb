"""Content-addressed media storage: ``<media_dir>/<chat_id>/<sha[:2]>/<sha256><suffix>``.

Identical bytes inside one chat are stored once; a re-import finds the file already
there and only re-hashes the source.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_CHUNK = 1 << 20


class MediaStore:
    def __init__(self, storage_dir: Path) -> None:
        self.storage_dir = Path(storage_dir)
        self.media_dir = self.storage_dir / "telegram" / "media"

    def put(self, source: Path, chat_id: int) -> tuple[str, str, int]:
        """Copy ``source`` into the store. Returns (sha256, path relative to storage_dir, size)."""
        chat_dir = self.media_dir / str(chat_id)
        chat_dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=chat_dir, prefix=".incoming-")
        try:
            with open(source, "rb") as src, os.fdopen(fd, "wb") as dst:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
            sha = digest.hexdigest()
            target = chat_dir / sha[:2] / (sha + Path(source).suffix.lower())
            if target.exists():
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(exist_ok=True)
                os.replace(tmp_name, target)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return sha, str(target.relative_to(self.storage_dir)), size

    def path(self, relative: str) -> Path:
        return self.storage_dir / relative
