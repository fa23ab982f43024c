"""The import's steps as the page and the command line call them: read a file, fit a
mapping to it (a saved one, or proposed from the headers), plan it in a read phase,
write it, undo a batch; and the named mappings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select

from ssp.audit import record
from ssp.database import reading_only, start_writing
from ssp.extensions import db
from ssp.i18n import _
from ssp.imports.mapping import Mapping, propose
from ssp.imports.models import ImportBatch, ImportMapping, ImportShape, ImportUpload
from ssp.imports.plan import Plan, Progress, make_plan
from ssp.imports.reading import SheetRows, read_file, sha256_of
from ssp.imports.writer import Choices, ImportRefused, write_plan
from ssp.staff.models import User
from ssp.textinput import has_refused_characters
from ssp.timeutil import utcnow

MAPPING_NAME_MAX = 80


@dataclass
class LoadedFile:
    """A file read, with its name and sha256."""

    file_name: str
    sha256: str
    sheet: SheetRows


def load(file_name: str, content: bytes) -> LoadedFile:
    """Read a file (``FileProblem`` when it cannot be read)."""
    return LoadedFile(file_name, sha256_of(content), read_file(file_name, content))


def mapping_for(
    loaded: LoadedFile, shape: ImportShape, saved: ImportMapping | None = None
) -> Mapping:
    """The saved mapping fitted to this file's headers, or one proposed from them."""
    if saved is not None:
        return Mapping.from_spec(saved.spec).fitted_to(loaded.sheet.headers)
    return propose(loaded.sheet.headers, shape)


def plan(loaded: LoadedFile, mapping: Mapping, progress: Progress | None = None) -> Plan:
    """The plan of a file, worked out in a read transaction (no lock held): a transaction
    already open (a write one, on SQLite, holds the lock) is ended first."""
    db.session.rollback()
    with reading_only():
        try:
            return make_plan(
                loaded.sheet,
                mapping,
                file_name=loaded.file_name,
                sha256=loaded.sha256,
                progress=progress,
            )
        finally:
            db.session.rollback()


def write(
    planned: Plan,
    user: User,
    choices: Choices,
    *,
    source: str,
    mapping_name: str | None = None,
    progress: Progress | None = None,
) -> ImportBatch:
    """Write a plan as one batch and commit; nothing is written when it fails."""
    start_writing()
    user = db.session.get(User, user.id)
    try:
        batch = write_plan(
            planned, user, choices, source=source, mapping_name=mapping_name, progress=progress
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return batch


# --- named mappings ---------------------------------------------------------------------


def saved_mappings() -> list[ImportMapping]:
    """Every saved mapping, by name."""
    return list(db.session.scalars(select(ImportMapping).order_by(ImportMapping.name)))


def saved_mapping(name: str) -> ImportMapping | None:
    """The mapping saved under ``name``."""
    return db.session.scalar(select(ImportMapping).where(ImportMapping.name == name))


def save_mapping(name: str, mapping: Mapping, user: User) -> ImportMapping:
    """Save (or replace) a named mapping (flushed, not committed)."""
    name = " ".join(name.split())
    if not name or len(name) > MAPPING_NAME_MAX or has_refused_characters(name):
        raise ImportRefused(
            _(
                "A mapping's name is 1 to %(most)s ordinary characters.",
                most=MAPPING_NAME_MAX,
            )
        )
    saved = saved_mapping(name)
    if saved is None:
        saved = ImportMapping(name=name, shape=mapping.shape, spec=mapping.as_spec())
        db.session.add(saved)
    saved.shape = mapping.shape
    saved.spec = mapping.as_spec()
    saved.updated_at = utcnow()
    saved.updated_by = user.id
    db.session.flush()
    record(
        "import_mapping_saved",
        object_type="import_mapping",
        object_id=saved.id,
        user_id=user.id,
        detail={"name": name, "shape": mapping.shape.value, "columns": len(mapping.columns)},
    )
    return saved


# --- batches and uploads ----------------------------------------------------------------


def batches(limit: int = 100) -> list[ImportBatch]:
    """The latest batches, newest first."""
    return list(
        db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit))
    )


def forget_old_uploads(now: dt.datetime | None = None) -> int:
    """Remove uploads older than IMPORT_UPLOAD_KEEP_HOURS (flushed, not committed)."""
    hours = current_app.config["IMPORT_UPLOAD_KEEP_HOURS"]
    cutoff = (now or utcnow()) - dt.timedelta(hours=hours)
    result = db.session.execute(delete(ImportUpload).where(ImportUpload.uploaded_at < cutoff))
    return result.rowcount or 0
