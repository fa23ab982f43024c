"""The ``import_mappings``, ``import_batches`` and ``import_uploads`` tables.

An upload is a file waiting for its mapping, its preview and the manager's yes; a batch
is a file imported (its visits carry the batch's id and a key per row, so the same row
is never imported twice); a mapping is a named way of reading a program's spreadsheet,
kept to be reused each month.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ssp.database import enum_column
from ssp.extensions import db
from ssp.i18n import _l
from ssp.staff.models import User
from ssp.timeutil import utcnow


class ImportShape(enum.StrEnum):
    """How a spreadsheet is laid out."""

    VISITS = "visits"
    TALLY = "tally"

    @property
    def label(self) -> str:
        """The shape as managers read it, in the language spoken now."""
        return str(self.lazy_label)

    @property
    def lazy_label(self):
        """The label looked up when shown (the upload form's choices are made at import)."""
        return _SHAPE_LABELS[self.value]

    @property
    def short_label(self) -> str:
        """The shape in a few words, after a saved mapping's name."""
        return str(_SHAPE_SHORT_LABELS[self.value])


_SHAPE_LABELS = {
    "visits": _l("A row per visit (with a participant code, or blank for a walk-in)"),
    "tally": _l("A daily tally per site (counts only, no codes)"),
}
_SHAPE_SHORT_LABELS = {"visits": _l("a row per visit"), "tally": _l("a daily tally per site")}


class ImportMapping(db.Model):
    """A named way to read a spreadsheet: which column holds which of ssp's fields."""

    __tablename__ = "import_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    shape: Mapped[ImportShape] = mapped_column(enum_column(ImportShape, "import_shape"))
    # {"columns": {header: {"field": ..., "unit": "units" | "packs"}}, "site_id": ...,
    #  "date_order": "MDY" | "DMY"}: see ssp.imports.mapping.Mapping.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ImportBatch(db.Model):
    """One file imported: where from, by whom, what it added, and whether it was undone."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16))  # "page" or "command line"
    shape: Mapped[ImportShape] = mapped_column(enum_column(ImportShape, "import_shape"))
    mapping_name: Mapped[str | None] = mapped_column(String(80))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_already_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_left_out: Mapped[int] = mapped_column(Integer, default=0)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    participants_created: Mapped[int] = mapped_column(Integer, default=0)
    referrals: Mapped[int] = mapped_column(Integer, default=0)
    moved_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    undone_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    undoer: Mapped[User | None] = relationship(foreign_keys=[undone_by])

    @property
    def undone(self) -> bool:
        """Whether a manager took the batch back out."""
        return self.undone_at is not None

    @property
    def source_label(self) -> str:
        """Where the import was made, as people read it."""
        labels = {"page": _l("page"), "command line": _l("command line")}
        return str(labels.get(self.source, self.source))


class ImportUpload(db.Model):
    """A file uploaded on the import page, kept until it is imported or set aside."""

    __tablename__ = "import_uploads"
    # Ids are never reused: a page's progress is found by the upload's id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The mapping chosen on the page (Mapping.as_spec()), and the preview it gave.
    spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    mapping_name: Mapped[str | None] = mapped_column(String(80))
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    user: Mapped[User] = relationship()


__all__ = ["ImportBatch", "ImportMapping", "ImportShape", "ImportUpload"]
