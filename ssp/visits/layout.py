"""The visit form in the order people work: what almost every visit records first, the
long tail after, and the categories a site rarely hands out folded away.

First come syringes, used syringes collected, naloxone and test strips (the "core").
Every other category follows, in catalogue order; one that fewer than
``VISIT_FORM_FOLD_SHARE`` of the site's visits over the last
``VISIT_FORM_USAGE_DAYS`` used is folded (a click or Space opens it), unless it holds a
value or an error. A site with too short a history folds nothing. The shares are read
once a day per site and process: they move slowly, and the form must stay fast.
"""

from __future__ import annotations

import datetime as dt
import threading

from flask import current_app
from sqlalchemy import distinct, func, select

from ssp.extensions import db
from ssp.supplies.models import SupplyCategory, SupplyItem
from ssp.timeutil import utcnow
from ssp.visits.models import Visit, VisitItem

CORE_CATEGORIES = (SupplyCategory.SYRINGE, SupplyCategory.NALOXONE, SupplyCategory.TEST_STRIP)
#: Fewer counted visits than this in the window: too little history to fold anything.
MINIMUM_HISTORY = 30

_cache_lock = threading.Lock()


def _cache() -> dict[tuple[int, dt.date], frozenset[SupplyCategory]]:
    """This app's shares (an app per database, so tests and instances never mix)."""
    return current_app.extensions.setdefault("ssp_visit_form_layout", {})


def rarely_used_categories(site_id: int | None, now: dt.datetime | None = None) -> frozenset:
    """The non-core categories the site's recent visits seldom use (folded on its form)."""
    if site_id is None:
        return frozenset()
    now = now or utcnow()
    key = (site_id, now.date())
    cache = _cache()
    with _cache_lock:
        if key in cache:
            return cache[key]
    found = _rarely_used(site_id, now)
    with _cache_lock:
        if len(cache) > 1000:
            cache.clear()
        cache[key] = found
    return found


def _rarely_used(site_id: int, now: dt.datetime) -> frozenset[SupplyCategory]:
    config = current_app.config
    since = now - dt.timedelta(days=config["VISIT_FORM_USAGE_DAYS"])
    counted = (Visit.site_id == site_id, Visit.voided_at.is_(None), Visit.occurred_at >= since)
    visits = db.session.scalar(select(func.count(Visit.id)).where(*counted)) or 0
    if visits < MINIMUM_HISTORY:
        return frozenset()
    used = dict(
        db.session.execute(
            select(SupplyItem.category, func.count(distinct(Visit.id)))
            .join(VisitItem, VisitItem.supply_item_id == SupplyItem.id)
            .join(Visit, Visit.id == VisitItem.visit_id)
            .where(*counted)
            .group_by(SupplyItem.category)
        ).all()
    )
    share = config["VISIT_FORM_FOLD_SHARE"]
    return frozenset(
        category
        for category in SupplyCategory
        if category not in CORE_CATEGORIES and used.get(category, 0) < share * visits
    )
