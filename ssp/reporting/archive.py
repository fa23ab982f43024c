"""The report archive: files under REPORTS_DIR and a row per file in ``reports``.

Files are written to a temporary name and renamed into place, so a failure never leaves a
half-written report. Regenerating a month keeps the earlier file: the new one gets a
suffix (``2026-10_standard-2.pdf``) and the newest is marked in the list.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ssp.audit import chain_head, record
from ssp.extensions import db
from ssp.reporting.builder import ArchiveContext
from ssp.reporting.models import Report
from ssp.reporting.periods import Period
from ssp.reporting.release import SNAPSHOT_VERSION, UNPRINTED, ArchivedRelease
from ssp.timeutil import utcnow


def sha256_of(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _free_name(folder: Path, period: str, funder: str) -> Path:
    candidate = folder / f"{period}_{funder}.pdf"
    version = 1
    while candidate.exists():
        version += 1
        candidate = folder / f"{period}_{funder}-{version}.pdf"
    return candidate


def archive_report(
    *,
    folder: Path,
    period: Period,
    funder: str,
    pdf: bytes,
    parameters: dict[str, Any],
    user_id: int | None,
    release: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
    request_key: str | None = None,
) -> Report:
    """Save the PDF and record it (flushed, not committed); returns the reports row."""
    path = _free_name(folder, period.key, funder)
    write_atomically(path, pdf)
    report = Report(
        funder=funder,
        period=period.key,
        first_month=period.first.key,
        last_month=period.last.key,
        generated_at=utcnow(),
        user_id=user_id,
        path=str(path),
        sha256=sha256_of(pdf),
        parameters=parameters,
        release=release,
        audit=audit,
        request_key=request_key,
    )
    try:
        db.session.add(report)
        db.session.flush()
        record(
            "report_generated",
            object_type="report",
            object_id=report.id,
            user_id=user_id,
            detail={
                "period": period.key,
                "funder": funder,
                "sha256": report.sha256,
                "file": path.name,
            },
        )
    except BaseException:
        path.unlink(missing_ok=True)  # no file without its row
        raise
    return report


def archive_context(period: Period, funder: str | None = None) -> ArchiveContext:
    """The archived releases a new release of ``period`` may overlap, how the
    quantities of other periods were first published, and the audit trail's head.

    Candidates: every archived release whose months come within two years before the
    period or a year after it (earlier versions, other profiles, the months inside a
    longer period, the periods compared with, later months' trends); the builder keeps
    those that print a quantity the new release declares. First publication: for each
    quantity of another period, the earliest archived release of the same funder profile
    that printed it (another profile may have another threshold: its "3" must not be
    reprinted in a report whose small counts read "<11").
    """
    window_first = period.first.shifted(-23).key
    window_last = period.last.shifted(11).key
    rows = db.session.execute(
        select(Report.id, Report.release, Report.funder)
        .where(
            Report.first_month <= window_last,
            Report.last_month >= window_first,
            Report.release.is_not(None),
        )
        .order_by(Report.generated_at, Report.id)
    ).all()
    # Read before the report's own audit row is written: the funder's copy fixes the
    # trail as it stood when the figures were read.
    context = ArchiveContext(trail_head=chain_head())
    own = period.key + "|"
    for report_id, snapshot, profile in rows:
        if not snapshot or snapshot.get("version") != SNAPSHOT_VERSION:
            continue
        archived = ArchivedRelease.from_snapshot(report_id, snapshot)
        if funder is None or profile == funder:
            for key, (_, status, _, text) in archived.cells.items():
                if status != UNPRINTED and not key.startswith(own):
                    context.first_published.setdefault(key, text)
        context.releases.append(archived)
    return context


def archived_reports(limit: int = 200) -> list[Report]:
    """The archive, newest first."""
    return list(
        db.session.scalars(
            select(Report).order_by(Report.generated_at.desc(), Report.id.desc()).limit(limit)
        )
    )


def newest_ids() -> set[int]:
    """The newest report of each month and funder."""
    latest = (
        select(Report.funder, Report.period, func.max(Report.id).label("id"))
        .group_by(Report.funder, Report.period)
        .subquery()
    )
    return set(db.session.scalars(select(latest.c.id)))


def read_archived(report: Report) -> bytes:
    """The archived file's bytes, checked against the sha256 recorded when it was made."""
    data = Path(report.path).read_bytes()
    if sha256_of(data) != report.sha256:
        raise ArchiveTampered(f"{Path(report.path).name} no longer matches its sha256.")
    return data


class ArchiveTampered(RuntimeError):
    """An archived file changed after it was made."""


def commit_or_remove(report: Report) -> None:
    """Commit the archive row; if that fails, remove the file too (no file without a row)."""
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        Path(report.path).unlink(missing_ok=True)
        raise
