"""Synthetic data for demos and benchmarks: a living program in seconds, a million visits
in about a minute.

Everything is random but reproducible (``seed``), plausible (a few people come often,
most now and then; syringes on most visits, naloxone on some; referrals that progress),
and written with bulk inserts: Core ``INSERT`` of batches with ids assigned here, never
one ORM object at a time. No real person is in it: codes are random letters and digits.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text

from ssp.extensions import db
from ssp.participants.models import Gender, Participant, RaceEthnicity, Substance
from ssp.referrals.models import (
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    Partner,
    Referral,
    ReferralCategory,
    ReferralStatus,
    ReferralStatusChange,
)
from ssp.security import Role, hash_password
from ssp.staff.models import Site, SiteKind, User
from ssp.supplies.models import MovementReason, StockMovement, SupplyCategory, SupplyItem
from ssp.supplies.services import load_default_catalogue
from ssp.timeutil import utcnow
from ssp.visits.models import (
    NaloxoneReason,
    Service,
    Visit,
    VisitItem,
    VisitKind,
    VisitService,
)

BATCH = 20_000
DEMO_SITES = [
    ("Main site", SiteKind.FIXED),
    ("Van", SiteKind.MOBILE),
    ("Outreach team", SiteKind.OUTREACH),
]
DEMO_PARTNERS = [
    ("Bridge Clinic", ["moud", "sud_treatment", "hcv_treatment", "primary_care"]),
    ("Harbor Health", ["hiv_care", "prep", "primary_care", "wound_care"]),
    ("Safe Homes", ["housing", "benefits"]),
    ("Open Door Counseling", ["mental_health", "sud_treatment"]),
]


@dataclass(frozen=True)
class _Item:
    id: int
    category: SupplyCategory


def kinds_for_site(kind: SiteKind) -> VisitKind:
    """The visit kind that goes with a site's kind."""
    return {
        SiteKind.FIXED: VisitKind.FIXED,
        SiteKind.SATELLITE: VisitKind.FIXED,
        SiteKind.MOBILE: VisitKind.MOBILE,
        SiteKind.OUTREACH: VisitKind.OUTREACH,
    }[kind]


@dataclass
class SeedResult:
    """What was written."""

    participants: int = 0
    visits: int = 0
    visit_items: int = 0
    stock_movements: int = 0
    referrals: int = 0


def _next_id(model) -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(model.id), 0)))) + 1


def _ensure_basics(
    rng: random.Random,
) -> tuple[list[Site], list[SupplyItem], list[int], list[Partner]]:
    """Sites, catalogue, a staff member and partners to hang the data on."""
    load_default_catalogue()
    sites = list(db.session.scalars(select(Site).where(Site.active).order_by(Site.id)))
    for name, kind in DEMO_SITES[len(sites) :]:
        if db.session.scalar(select(Site).where(Site.name == name)) is None:
            db.session.add(Site(name=name, kind=kind, active=True))
    db.session.flush()
    sites = list(db.session.scalars(select(Site).where(Site.active).order_by(Site.id)))
    users = list(db.session.scalars(select(User.id).where(User.active)))
    if not users:
        worker = User(
            username="demo.worker",
            password_hash=hash_password(secrets.token_urlsafe(24)),
            role=Role.FRONT_DESK,
            site_id=sites[0].id,
            active=True,
            failed_logins=0,
        )
        db.session.add(worker)
        db.session.flush()
        users = [worker.id]
    for name, categories in DEMO_PARTNERS:
        if db.session.scalar(select(Partner).where(Partner.name == name)) is None:
            db.session.add(
                Partner(
                    name=name, categories=categories, contact="Intake line, weekdays", active=True
                )
            )
    db.session.flush()
    items = list(
        db.session.scalars(select(SupplyItem).where(SupplyItem.active).order_by(SupplyItem.id))
    )
    partners = list(db.session.scalars(select(Partner).where(Partner.active)))
    return sites, items, users, partners


def _codes(rng: random.Random, count: int, taken: set[str]) -> Iterator[str]:
    letters = string.ascii_uppercase
    made = 0
    while made < count:
        code = (
            "".join(rng.choices(letters, k=4)) + f"{rng.randint(1, 31):02d}{rng.randint(0, 99):02d}"
        )
        if code not in taken:
            taken.add(code)
            made += 1
            yield code


def _insert(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model.__table__), rows)


def seed(
    *,
    participants: int,
    visits: int,
    months: int,
    seed_value: int = 1,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Add synthetic participants, visits, supplies, stock, referrals and follow-ups.

    Flushes but does not commit; ``progress`` is called with the number of visits written.
    """
    # Reproducible synthetic data, not secrets: a seeded, non-cryptographic generator.
    rng = random.Random(seed_value)  # noqa: S311  # nosec B311
    now = now or utcnow()
    start = now - dt.timedelta(days=30 * months)
    span = (now - start).total_seconds()
    sites, items, users, partners = _ensure_basics(rng)
    result = SeedResult()

    # --- participants ------------------------------------------------------------
    taken = set(db.session.scalars(select(Participant.code)))
    first_participant = _next_id(Participant)
    genders = [g for g in Gender]
    races = [r for r in RaceEthnicity]
    substances = [s for s in Substance]
    rows = []
    created_at: dict[int, dt.datetime] = {}  # participant id -> enrolled (visits come after)
    for offset, code in enumerate(_codes(rng, participants, taken)):
        # Most people were already coming when the period starts; a steady trickle joins
        # later. (Enrolments spread evenly would make early months nearly empty.)
        created = start + dt.timedelta(seconds=span * 0.95 * rng.random() ** 3)
        created_at[first_participant + offset] = created
        rows.append(
            {
                "id": first_participant + offset,
                "code": code,
                "created_at": created,
                "enrolled_site_id": rng.choice(sites).id,
                "birth_year": rng.randint(1950, 2004) if rng.random() < 0.8 else None,
                "gender": rng.choices(genders, weights=[30, 55, 4, 2, 3, 1, 5])[0]
                if rng.random() < 0.85
                else None,
                "race_ethnicity": rng.choices(races, weights=[4, 3, 18, 22, 1, 1, 40, 6, 2, 3])[0]
                if rng.random() < 0.8
                else None,
                "zip3": f"{rng.randint(900, 961):03d}" if rng.random() < 0.5 else None,
                "primary_substance": rng.choice(substances) if rng.random() < 0.7 else None,
                "injects": rng.random() < 0.7 if rng.random() < 0.8 else None,
            }
        )
        if len(rows) == BATCH:
            _insert(Participant, rows)
            rows = []
    _insert(Participant, rows)
    result.participants = participants
    people = list(range(first_participant, first_participant + participants))
    # A few people come often, most now and then: weights follow a long tail.
    weights = [1.0 / (1 + (i % 97)) ** 0.8 for i in range(len(people))]

    # Plain values, not ORM objects: the loop below runs a million times.
    plain = [_Item(i.id, i.category) for i in items]
    syringes = [i for i in plain if i.category == SupplyCategory.SYRINGE]
    naloxone = [i for i in plain if i.category == SupplyCategory.NALOXONE]
    strips = [i for i in plain if i.category == SupplyCategory.TEST_STRIP]
    special = (SupplyCategory.SYRINGE, SupplyCategory.NALOXONE, SupplyCategory.TEST_STRIP)
    extras = [i for i in plain if i.category not in special]
    site_rows = [(s.id, kinds_for_site(s.kind)) for s in sites]
    site_weights = [6, 3, 2, 1, 1, 1, 1, 1][: len(sites)] + [1] * max(0, len(sites) - 8)
    reasons = list(NaloxoneReason)
    services = [
        (Service.HIV_TEST, 0.03),
        (Service.HCV_TEST, 0.03),
        (Service.NALOXONE_TRAINING, 0.04),
        (Service.WOUND_CARE, 0.05),
        (Service.DRUG_CHECKING, 0.05),
    ]
    categories = list(ReferralCategory)

    visit_id = _next_id(Visit)
    item_id = _next_id(VisitItem)
    service_id = _next_id(VisitService)
    movement_id = _next_id(StockMovement)
    referral_id = _next_id(Referral)
    change_id = _next_id(ReferralStatusChange)
    follow_up_id = _next_id(FollowUp)
    buffers: dict = {
        m: []
        for m in (
            Visit,
            VisitItem,
            VisitService,
            StockMovement,
            Referral,
            ReferralStatusChange,
            FollowUp,
        )
    }
    chosen_people = rng.choices(people, weights=weights, k=visits) if people else []

    def flush_buffers(force: bool = False) -> None:
        # In the buffers' order: parents before the rows that point at them.
        if force or len(buffers[Visit]) >= BATCH:
            for model, rows in buffers.items():
                _insert(model, rows)
                rows.clear()

    for n in range(visits):
        walk_in = not people or rng.random() < 0.04
        participant = None if walk_in else chosen_people[n]
        earliest = start if walk_in else created_at[participant]
        when = earliest + dt.timedelta(seconds=rng.random() * (now - earliest).total_seconds())
        site_id, kind = rng.choices(site_rows, weights=site_weights)[0]
        voided = rng.random() < 0.005
        user_id = rng.choice(users)
        lines = []
        if rng.random() < 0.9:
            for item in rng.sample(syringes, k=min(len(syringes), rng.choice([1, 1, 2]))):
                lines.append((item, rng.choice([10, 20, 20, 30, 40, 50, 100]), None))
        if naloxone and rng.random() < 0.12:
            lines.append(
                (
                    rng.choice(naloxone),
                    rng.choice([1, 1, 2]),
                    rng.choices(reasons, weights=[40, 25, 15, 5, 5, 10])[0],
                )
            )
        if strips and rng.random() < 0.3:
            lines.append((rng.choice(strips), rng.choice([2, 5, 10]), None))
        if extras and rng.random() < 0.5:
            for item in rng.sample(extras, k=min(len(extras), rng.randint(1, 3))):
                lines.append((item, rng.choice([1, 2, 5, 10]), None))
        distributed = sum(q for item, q, _ in lines if item.category == SupplyCategory.SYRINGE)
        buffers[Visit].append(
            {
                "id": visit_id,
                "participant_id": participant,
                "site_id": site_id,
                "user_id": user_id,
                "occurred_at": when,
                "kind": kind,
                "secondary_reach": rng.randint(1, 5) if rng.random() < 0.1 else 0,
                "syringes_collected": int(distributed * rng.uniform(0.4, 1.2))
                if rng.random() < 0.6
                else 0,
                "created_at": when,
                "voided_at": when + dt.timedelta(hours=1) if voided else None,
                "voided_by": user_id if voided else None,
                "void_reason": "Entered twice (demo)" if voided else None,
                "submission_key": None,
            }
        )
        used = False
        for item, quantity, reason in lines:
            buffers[VisitItem].append(
                {
                    "id": item_id,
                    "visit_id": visit_id,
                    "supply_item_id": item.id,
                    "quantity": quantity,
                    "reason": reason,
                }
            )
            item_id += 1
            used = used or reason == NaloxoneReason.USED
            if not voided:
                buffers[StockMovement].append(
                    {
                        "id": movement_id,
                        "site_id": site_id,
                        "supply_item_id": item.id,
                        "delta": -quantity,
                        "reason": MovementReason.DISTRIBUTION,
                        "visit_id": visit_id,
                        "user_id": user_id,
                        "occurred_at": when,
                        "recorded_at": when,
                        "note": None,
                        "source": None,
                        "lot": None,
                        "expires_on": None,
                        "adjustment_reason": None,
                        "counterpart_site_id": None,
                    }
                )
                movement_id += 1
        given = [(s, 1) for s, p in services if rng.random() < p]
        if used:
            given.append((Service.OVERDOSE_REVERSAL_REPORTED, 1))
        for service, count in given:
            buffers[VisitService].append(
                {"id": service_id, "visit_id": visit_id, "service": service, "count": count}
            )
            service_id += 1
        if participant is not None and not voided and rng.random() < 0.03:
            category = rng.choices(categories, weights=[20, 10, 5, 8, 4, 10, 15, 10, 8, 8, 2])[0]
            servers = [p for p in partners if category.value in p.categories]
            status = rng.choices(list(ReferralStatus), weights=[25, 15, 40, 10, 10])[0]
            closed = when + dt.timedelta(days=rng.randint(1, 30)) if status.closed else None
            closed = min(closed, now) if closed else None
            buffers[Referral].append(
                {
                    "id": referral_id,
                    "participant_id": participant,
                    "visit_id": visit_id,
                    "category": category,
                    "partner_id": rng.choice(servers).id if servers else None,
                    "status": status,
                    "made_at": when,
                    "closed_at": closed,
                    "user_id": user_id,
                    "site_id": site_id,
                    "note": None,
                }
            )
            buffers[ReferralStatusChange].append(
                {
                    "id": change_id,
                    "referral_id": referral_id,
                    "from_status": None,
                    "to_status": ReferralStatus.MADE,
                    "changed_at": when,
                    "user_id": user_id,
                    "correction": False,
                }
            )
            change_id += 1
            if status != ReferralStatus.MADE:
                buffers[ReferralStatusChange].append(
                    {
                        "id": change_id,
                        "referral_id": referral_id,
                        "from_status": ReferralStatus.MADE,
                        "to_status": status,
                        "changed_at": closed or when + dt.timedelta(days=2),
                        "user_id": user_id,
                        "correction": False,
                    }
                )
                change_id += 1
            done = status.closed
            buffers[FollowUp].append(
                {
                    "id": follow_up_id,
                    "participant_id": participant,
                    "referral_id": referral_id,
                    "site_id": site_id,
                    "due_on": (when + dt.timedelta(days=7)).date(),
                    "assigned_user_id": None,
                    "status": (
                        FollowUpStatus.UNREACHABLE
                        if status == ReferralStatus.LOST
                        else FollowUpStatus.DONE
                    )
                    if done
                    else FollowUpStatus.OPEN,
                    "done_at": closed if done else None,
                    "outcome": {
                        ReferralStatus.COMPLETED: FollowUpOutcome.LINKED,
                        ReferralStatus.DECLINED: FollowUpOutcome.DECLINED,
                        ReferralStatus.LOST: FollowUpOutcome.UNREACHABLE,
                    }.get(status),
                    "reason": None,
                    "note": None,
                    "created_at": when,
                    "created_by": user_id,
                }
            )
            follow_up_id += 1
            referral_id += 1
            result.referrals += 1
        visit_id += 1
        if len(buffers[Visit]) >= BATCH:
            result.visit_items += len(buffers[VisitItem])
            result.stock_movements += len(buffers[StockMovement])
            flush_buffers()
            if progress:
                progress(BATCH)
    result.visit_items += len(buffers[VisitItem])
    result.stock_movements += len(buffers[StockMovement])
    remaining = len(buffers[Visit])
    flush_buffers(force=True)
    if progress and remaining:
        progress(remaining)
    result.visits = visits
    result.stock_movements += _receipts_to_match(
        sites, items, start, now, rng, _next_id(StockMovement), users[0]
    )
    _reset_sequences()
    db.session.flush()
    # Fresh statistics after a bulk load, or the planners guess (PostgreSQL badly).
    db.session.execute(text("ANALYZE"))
    return result


def _receipts_to_match(sites, items, start, now, rng, movement_id, user_id) -> int:
    """Monthly receipts that roughly cover what each site handed out, so stock looks real."""
    totals = db.session.execute(
        select(StockMovement.site_id, StockMovement.supply_item_id, -func.sum(StockMovement.delta))
        .where(StockMovement.reason == MovementReason.DISTRIBUTION)
        .group_by(StockMovement.site_id, StockMovement.supply_item_id)
    ).all()
    months = max(1, round((now - start).days / 30))
    rows = []
    for site_id, item_id, distributed in totals:
        per_month = int(distributed or 0) // months
        for m in range(months):
            quantity = int(per_month * rng.uniform(0.9, 1.25)) + 1
            rows.append(
                {
                    "id": movement_id,
                    "site_id": site_id,
                    "supply_item_id": item_id,
                    "delta": quantity,
                    "reason": MovementReason.RECEIPT,
                    "visit_id": None,
                    "user_id": user_id,
                    "occurred_at": start + dt.timedelta(days=30 * m),
                    "recorded_at": start + dt.timedelta(days=30 * m),
                    "note": None,
                    "source": "Demo supplier",
                    "lot": None,
                    "expires_on": None,
                    "adjustment_reason": None,
                    "counterpart_site_id": None,
                }
            )
            movement_id += 1
    for i in range(0, len(rows), BATCH):
        _insert(StockMovement, rows[i : i + BATCH])
    return len(rows)


def _reset_sequences() -> None:
    """Ids were given explicitly; PostgreSQL's sequences must move past them. (The table
    names in the SQL come from our own models, never from input.)"""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model in (
        Participant,
        Visit,
        VisitItem,
        VisitService,
        StockMovement,
        Referral,
        ReferralStatusChange,
        FollowUp,
        Site,
        Partner,
        User,
    ):
        table = model.__tablename__
        statement = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"  # noqa: E501, S608  # nosec B608
        db.session.execute(text(statement))
