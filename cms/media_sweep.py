"""Uploaded files that no row refers to, moved out of the media folder.

An upload is stored before its row is written (the row needs the stored name). A process
killed in between — or an import whose transaction rolled back after storing its original —
leaves a file no page shows and no backup lists as anyone's. The beat task finds such files
in the folders the project's uploads go to, once they are older than ``GRACE_SECONDS`` (an
upload still on its way to the database is never touched), and moves them to
``DATA_DIR/orphaned-media/<date>/`` with the same relative path: nothing is deleted, an
administrator can look at them and remove them.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

log = logging.getLogger(__name__)

#: Folders (under MEDIA_ROOT) that hold uploads and imported originals. Renditions, Wagtail's
#: images and documents are left alone: Wagtail manages those itself.
SWEPT_FOLDERS = (
    "policies/originals",
    "budget/imports",
    "supervision/imports",
    "supervision/evidence",
    "letters/answers",
    "briefings/uploads",
    "suggestions",
)
GRACE_SECONDS = 6 * 3600
QUARANTINE_DIR = "orphaned-media"


@dataclass
class Sweep:
    found: list[str]
    moved_to: Path | None = None


def referenced_names() -> set[str]:
    """Every stored file name any row of any model refers to."""
    names: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.FileField) and f.model is model
        ]
        for field in fields:
            names.update(
                model._base_manager.exclude(**{field: ""})
                .exclude(**{f"{field}__isnull": True})
                .values_list(field, flat=True)
            )
    return names


def find_orphans(now: float | None = None, grace: float = GRACE_SECONDS) -> list[str]:
    """Relative names of files in the swept folders that no row refers to, older than grace."""
    root = Path(settings.MEDIA_ROOT)
    cutoff = (time.time() if now is None else now) - grace
    candidates = []
    for folder in SWEPT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                path = Path(dirpath) / name
                try:
                    if path.stat().st_mtime > cutoff:
                        continue
                except FileNotFoundError:
                    continue
                candidates.append(path.relative_to(root).as_posix())
    if not candidates:
        return []
    referenced = referenced_names()
    return sorted(name for name in candidates if name not in referenced)


def sweep(now: float | None = None, grace: float = GRACE_SECONDS, move: bool = True) -> Sweep:
    """Find orphaned uploads and (unless ``move`` is false) move them to the quarantine folder."""
    found = find_orphans(now=now, grace=grace)
    result = Sweep(found=found)
    if not move or not found:
        return result
    root = Path(settings.MEDIA_ROOT)
    target = Path(settings.DATA_DIR) / QUARANTINE_DIR / timezone.localdate().isoformat()
    for name in found:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            shutil.move(str(root / name), str(destination))
        except FileNotFoundError:
            continue  # removed meanwhile
        log.warning("orphaned upload %s moved to %s", name, destination)
    result.moved_to = target
    return result
