"""Finding, enrolling and merging participants.

Functions flush but do not commit. Codes are normalised before every lookup and save;
the code is never written to the audit trail or a log (it is personal data).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    delete,
    func,
    literal,
    select,
    union_all,
    update,
)

from ssp.audit import record
from ssp.errors import RuleError
from ssp.extensions import db
from ssp.i18n import _
from ssp.participants import code_search
from ssp.participants.codes import (
    CodeError,
    chunked,
    normalise_code,
    one_edit_variants,
    validated_code,
)
from ssp.participants.models import (
    Gender,
    Participant,
    ParticipantAlias,
    RaceEthnicity,
    Substance,
)
from ssp.timeutil import utcnow

COARSE_FIELDS = ("birth_year", "gender", "race_ethnicity", "zip3", "primary_substance", "injects")


class ParticipantError(RuleError):
    """An enrolment, search or merge the rules do not allow."""


@dataclass(frozen=True)
class Match:
    """A participant found by a search, and the code that matched (theirs or an alias)."""

    participant: Participant
    matched_code: str

    @property
    def via_alias(self) -> bool:
        """Whether the match came through an old code."""
        return self.matched_code != self.participant.code


@functools.cache
def _by_code() -> Select:
    """A participant by their code or an earlier code (alias), their own first: built
    once, run with the code as its parameter."""
    code = bindparam("code", type_=String)
    own = select(Participant.id.label("participant_id"), literal(0).label("rank"))
    alias = select(ParticipantAlias.participant_id, literal(1))
    found = union_all(
        own.where(Participant.code == code), alias.where(ParticipantAlias.code == code)
    ).subquery()
    return (
        select(Participant)
        .join(found, found.c.participant_id == Participant.id)
        .order_by(found.c.rank)
        .limit(1)
    )


def find_by_code(raw_code: str) -> Participant | None:
    """The participant with exactly this code, or with it as an alias (after a merge);
    one query for both, their own code first."""
    code = normalise_code(raw_code)
    if not code:
        return None
    return db.session.scalars(_by_code(), {"code": code}).first()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _uses_fts(text: str) -> bool:
    """Whether the search asks SQLite's FTS5 trigram table (else LIKE, which PostgreSQL's
    trigram index serves itself; a piece shorter than a trigram reads every code)."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    return sqlite and len(text) >= code_search.MIN_LENGTH and text.isalnum()


def _containing(model, source: str, fts: bool):
    """The condition "its code contains the ``pattern`` parameter", by index where one helps."""
    pattern = bindparam("pattern", type_=String)
    if fts:
        table = code_search.fts_table(source)
        return model.id.in_(select(table.c.rowid).where(table.c.code.like(pattern)))
    return model.code.like(pattern, escape="\\")


@functools.cache
def _containing_search(fts: bool) -> Select:
    """Codes and earlier codes (aliases) containing ``pattern`` in one query: the best
    ``limit`` of each, with their participants. Built once for each kind of condition."""
    limit = bindparam("limit", type_=Integer)  # at most this many of each, and in all
    own = (
        select(
            Participant.id.label("participant_id"),
            Participant.code,
            literal(0).label("rank"),
            func.length(Participant.code).label("length"),
        )
        .where(_containing(Participant, "participants", fts))
        .order_by(func.length(Participant.code), Participant.code)
        .limit(limit)
        .subquery()
    )
    earlier = (
        select(ParticipantAlias.participant_id, ParticipantAlias.code, literal(1), literal(0))
        .where(_containing(ParticipantAlias, "participant_aliases", fts))
        .order_by(ParticipantAlias.code)
        .limit(limit)
        .subquery()
    )
    found = union_all(select(own), select(earlier)).subquery()
    best_first = (found.c.rank, found.c.length, found.c.code)  # aliases by code alone
    # Each person once, by their best match, and only the people listed are loaded: the
    # view audit records the loaded participants whose code the page shows.
    ranked = select(
        found,
        func.row_number()
        .over(partition_by=found.c.participant_id, order_by=best_first)
        .label("nth_match"),
    ).subquery()
    return (
        select(Participant, ranked.c.code)
        .join(ranked, ranked.c.participant_id == Participant.id)
        .where(ranked.c.nth_match == 1)
        .order_by(ranked.c.rank, ranked.c.length, ranked.c.code)
        .limit(limit)
    )


def search_partial(raw_code: str, limit: int = 20) -> list[Match]:
    """Participants whose code (or an alias) contains the text, best matches first."""
    text = normalise_code(raw_code)
    if not text:
        return []
    # By index where there is one (ssp.participants.code_search); else every code is
    # read, from the narrow unique index on code, not the wide table. Codes and earlier
    # codes in one query (one round trip on PostgreSQL, where a results page sends
    # several).
    fts = _uses_fts(text)
    pattern = f"%{text}%" if fts else f"%{_escape_like(text)}%"
    rows = db.session.execute(_containing_search(fts), {"pattern": pattern, "limit": limit})
    matches = [Match(participant, code) for participant, code in rows]
    # Codes that start with the text first: that is what a person typing expects.
    matches.sort(
        key=lambda m: (not m.matched_code.startswith(text), len(m.matched_code), m.matched_code)
    )
    return matches


def code_in_use(code: str) -> bool:
    """Whether a code already belongs to someone, directly or as an alias."""
    return (
        db.session.scalar(select(Participant.id).where(Participant.code == code)) is not None
        or db.session.scalar(select(ParticipantAlias.id).where(ParticipantAlias.code == code))
        is not None
    )


def near_duplicates(code: str) -> list[Match]:
    """Participants whose code or alias is one edit away from ``code``."""
    variants = one_edit_variants(code)
    found: dict[int, Match] = {}
    for batch in chunked(sorted(variants)):
        for participant in db.session.scalars(
            select(Participant).where(Participant.code.in_(batch))
        ):
            found.setdefault(participant.id, Match(participant, participant.code))
        for participant, alias in db.session.execute(
            select(Participant, ParticipantAlias.code)
            .join(ParticipantAlias, ParticipantAlias.participant_id == Participant.id)
            .where(ParticipantAlias.code.in_(batch))
        ):
            found.setdefault(participant.id, Match(participant, alias))
    return sorted(found.values(), key=lambda m: m.matched_code)


def _coarse_values(values: dict[str, Any]) -> dict[str, Any]:
    """Check the optional coarse fields; anything else is ignored, never stored."""
    cleaned: dict[str, Any] = {}
    year = values.get("birth_year")
    if year not in (None, ""):
        this_year = utcnow().year
        try:
            year = int(year)
        except (TypeError, ValueError):
            raise ParticipantError(_("Birth year is four digits."), "birth_year") from None
        if not this_year - 110 <= year <= this_year - 10:
            raise ParticipantError(
                _(
                    "Birth year is between %(earliest)s and %(latest)s.",
                    earliest=this_year - 110,
                    latest=this_year - 10,
                ),
                "birth_year",
            )
        cleaned["birth_year"] = year
    zip3 = (values.get("zip3") or "").strip()
    if zip3:
        if not (len(zip3) == 3 and zip3.isdigit()):
            raise ParticipantError(_("Only the first three digits of the ZIP code."), "zip3")
        cleaned["zip3"] = zip3
    for name, kind in (
        ("gender", Gender),
        ("race_ethnicity", RaceEthnicity),
        ("primary_substance", Substance),
    ):
        value = values.get(name)
        if value not in (None, ""):
            try:
                cleaned[name] = kind(value)
            except ValueError:
                raise ParticipantError(_("Choose one of the options."), name) from None
    injects = values.get("injects")
    if injects not in (None, ""):
        cleaned["injects"] = injects in (True, "yes", "true", "1")
    return cleaned


def enrol(
    *, code: str, site_id: int | None, confirm_distinct: bool = False, **coarse: Any
) -> Participant:
    """Enrol a new participant under ``code``.

    Raises ``ParticipantError`` for a malformed or taken code. When the code is one edit
    away from an existing one, raises ``NearDuplicates`` unless ``confirm_distinct``.
    """
    try:
        code = validated_code(code)
    except CodeError as error:
        raise ParticipantError(str(error), "code") from None
    if code_in_use(code):
        raise ParticipantError(
            _("This code is already enrolled: find the participant instead."), "code"
        )
    values = _coarse_values(coarse)
    if not confirm_distinct:
        similar = near_duplicates(code)
        if similar:
            raise NearDuplicates(similar)
    participant = Participant(code=code, enrolled_site_id=site_id, **values)
    db.session.add(participant)
    db.session.flush()
    record(
        "participant_enrolled",
        object_type="participant",
        object_id=participant.id,
        detail={"site_id": site_id, "confirmed_distinct": bool(confirm_distinct)},
    )
    return participant


class NearDuplicates(ParticipantError):
    """The new code is one edit away from existing ones; staff must confirm it is new."""

    def __init__(self, matches: list[Match]) -> None:
        super().__init__(
            _(
                "This code is very close to a code already enrolled. If it is the same "
                "person, open their record; if not, confirm that this is someone new."
            ),
            "code",
        )
        self.matches = matches


def update_details(participant: Participant, **coarse: Any) -> None:
    """Change the optional coarse fields of a participant."""
    values = _coarse_values(coarse)
    changed = []
    for name in COARSE_FIELDS:
        new = values.get(name)
        if getattr(participant, name) != new:
            setattr(participant, name, new)
            changed.append(name)
    if changed:
        # Which fields changed, not their values: the trail holds no personal details.
        record(
            "participant_updated",
            object_type="participant",
            object_id=participant.id,
            detail={"fields": changed},
        )


def merge(*, keep: Participant, absorb: Participant) -> None:
    """Merge ``absorb`` into ``keep``: visits and referrals move, its code becomes an alias."""
    from ssp.visits.models import Visit

    if keep.id == absorb.id:
        raise ParticipantError(_("Choose two different participants to merge."))
    moved = db.session.execute(
        update(Visit).where(Visit.participant_id == absorb.id).values(participant_id=keep.id)
    ).rowcount
    for table in _tables_linked_to_participants():
        db.session.execute(
            table.update().where(table.c.participant_id == absorb.id).values(participant_id=keep.id)
        )
    db.session.execute(
        update(ParticipantAlias)
        .where(ParticipantAlias.participant_id == absorb.id)
        .values(participant_id=keep.id)
    )
    for name in COARSE_FIELDS:
        if getattr(keep, name) is None and getattr(absorb, name) is not None:
            setattr(keep, name, getattr(absorb, name))
    if absorb.created_at and keep.created_at and absorb.created_at < keep.created_at:
        keep.created_at = absorb.created_at  # enrolled since the earlier of the two
    old_code = absorb.code
    absorbed_id = absorb.id
    db.session.delete(absorb)
    db.session.flush()
    db.session.add(ParticipantAlias(participant_id=keep.id, code=old_code))
    db.session.flush()
    record(
        "participants_merged",
        object_type="participant",
        object_id=keep.id,
        detail={"absorbed_participant_id": absorbed_id, "visits_moved": moved},
    )


def _tables_linked_to_participants():
    """Tables other than visits and aliases that point at a participant (referrals...)."""
    skip = {"visits", "participant_aliases", "participants"}
    return [
        table
        for table in db.metadata.sorted_tables
        if table.name not in skip and "participant_id" in table.c
    ]


@dataclass(frozen=True)
class PurgePlan:
    """What a retention purge removes."""

    participant_ids: list[int]
    visits_unlinked: int
    referrals_removed: int
    follow_ups_removed: int


def plan_purge(*, inactive_years: int, now=None) -> PurgePlan:
    """Participants with no activity in the last ``inactive_years`` years: no counted
    visit, no referral or follow-up made since, no open follow-up, and not enrolled since."""
    from ssp.referrals.models import FollowUp, FollowUpStatus, Referral
    from ssp.visits.models import Visit

    if inactive_years < 1:
        raise ParticipantError(_("Keep at least one year of records."), "inactive_years")
    cutoff = (now or utcnow()) - dt.timedelta(days=round(365.25 * inactive_years))
    active = (
        select(Visit.participant_id)
        .where(
            Visit.participant_id.is_not(None),
            Visit.voided_at.is_(None),
            Visit.occurred_at >= cutoff,
        )
        .union(
            select(Referral.participant_id).where(Referral.made_at >= cutoff),
            select(FollowUp.participant_id).where(
                (FollowUp.created_at >= cutoff) | (FollowUp.status == FollowUpStatus.OPEN)
            ),
        )
    )
    ids = list(
        db.session.scalars(
            select(Participant.id)
            .where(Participant.created_at < cutoff, Participant.id.not_in(active))
            .order_by(Participant.id)
        )
    )

    def count(model, column) -> int:
        if not ids:
            return 0
        return sum(
            db.session.scalar(select(func.count()).select_from(model).where(column.in_(batch)))
            for batch in _batches(ids)
        )

    return PurgePlan(
        ids,
        count(Visit, Visit.participant_id),
        count(Referral, Referral.participant_id),
        count(FollowUp, FollowUp.participant_id),
    )


def _batches(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def purge(plan: PurgePlan) -> None:
    """Carry out a purge plan: visits lose their participant link (they keep counting as
    visits), referrals and follow-ups of those people go, then the people and their codes.
    Flushed, not committed; audited with counts, never codes."""
    from ssp.referrals.models import FollowUp, Referral, ReferralStatusChange
    from ssp.visits.models import Visit

    for batch in _batches(plan.participant_ids):
        # The visits keep counting; their link to the person, and any free text that
        # might describe them (a void reason), go.
        db.session.execute(
            update(Visit)
            .where(Visit.participant_id.in_(batch))
            .values(participant_id=None, void_reason=None)
        )
        referral_ids = select(Referral.id).where(Referral.participant_id.in_(batch))
        db.session.execute(delete(FollowUp).where(FollowUp.participant_id.in_(batch)))
        db.session.execute(
            delete(ReferralStatusChange).where(ReferralStatusChange.referral_id.in_(referral_ids))
        )
        db.session.execute(delete(Referral).where(Referral.participant_id.in_(batch)))
        db.session.execute(
            delete(ParticipantAlias).where(ParticipantAlias.participant_id.in_(batch))
        )
        db.session.execute(delete(Participant).where(Participant.id.in_(batch)))
    db.session.flush()
    record(
        "participants_purged",
        object_type="participant",
        detail={
            "participants": len(plan.participant_ids),
            "visits_unlinked": plan.visits_unlinked,
            "referrals_removed": plan.referrals_removed,
            "follow_ups_removed": plan.follow_ups_removed,
        },
    )
