"""Model folders in and out of Django's artifact storage, never half-written.

A folder is uploaded under a fresh unique prefix and its registry row is written only after the
last file landed, so a worker killed mid-upload leaves an unreferenced prefix, never a model row
pointing at a partial adapter. Each file goes to a temporary name first and is renamed into place
on filesystem storage (temp file + rename), so a reader never sees a truncated file.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages


def artifact_storage():
    return storages["artifacts"]


def upload_folder(local: Path, prefix: str) -> tuple[str, int]:
    """Copy ``local`` into storage under ``prefix/<uuid>``; returns (location, total bytes)."""
    storage = artifact_storage()
    location = f"{prefix.strip('/')}/{uuid.uuid4().hex}"
    total = 0
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        name = f"{location}/{path.relative_to(local).as_posix()}"
        total += path.stat().st_size
        if isinstance(storage, FileSystemStorage):
            target = Path(storage.path(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        else:
            with path.open("rb") as src:
                storage.save(name, File(src))
    return location, total


def materialise(location: str) -> Path:
    """A local folder with the files stored under ``location`` (the folder itself on filesystem storage)."""
    storage = artifact_storage()
    if isinstance(storage, FileSystemStorage):
        path = Path(storage.path(location))
        if not path.is_dir():
            raise FileNotFoundError(f"artifact {location!r} is missing from {storage.location}")
        return path
    target = Path(tempfile.mkdtemp(prefix="parity-artifact-"))
    stack = [location]
    while stack:
        current = stack.pop()
        dirs, files = storage.listdir(current)
        stack.extend(f"{current}/{d}" for d in dirs)
        for name in files:
            dest = target / Path(f"{current}/{name}").relative_to(location)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(f"{current}/{name}", "rb") as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)
    return target
