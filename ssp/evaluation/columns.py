"""The evaluator export's quasi-identifier columns: for each, its ladder of values (see
``records``) and what each level means in the cover note; and the method's fixed order
of generalisation steps (docs/evaluator-export.md). The meanings and steps are looked up
when the cover note is written (``_l``), in the export's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ssp.evaluation import records as rec
from ssp.i18n import _l


@dataclass(frozen=True)
class QuasiIdentifier:
    """A column an outsider could know of a person: its ladder and what each level means."""

    column: str
    ladder: Callable[[rec.Record, dict[int, rec.SiteFacts], rec.Words], tuple[str, ...]]
    meanings: tuple[Any, ...]


_PERIOD_MEANINGS = (
    _l(
        "ISO 8601 week of the visit, e.g. 2026-W40 (weeks at the ends of the period may be "
        "partial; 1 January can be in the last week of the year before)"
    ),
    _l("Month of the visit, e.g. 2026-10"),
)
_SUPPRESSED_ON_EVERY_ROW = _l("“%(suppressed)s” on every row", suppressed=rec.SUPPRESSED)
_SUPPRESSED = _l("“%(suppressed)s”", suppressed=rec.SUPPRESSED)
QUASI_IDENTIFIERS = {
    "period": QuasiIdentifier(
        "period", lambda r, _sites, _w: rec.period_ladder(r), _PERIOD_MEANINGS
    ),
    "location": QuasiIdentifier(
        "location",
        rec.location_ladder,
        (
            _l(
                "Site of the visit (a person-month at several: “%(several)s”)",
                several=rec.SEVERAL_SITES,
            ),
            _l(
                "Kind of site: Fixed site, Mobile unit, Outreach or Satellite (a person-month "
                "at several kinds: “%(several)s”)",
                several=rec.SEVERAL_KINDS,
            ),
            _SUPPRESSED_ON_EVERY_ROW,
        ),
    ),
    "service_model": QuasiIdentifier(
        "service_model",
        lambda r, _sites, w: rec.service_model_ladder(r, w),
        (
            _l(
                "How the person was reached: Fixed site, Mobile unit, Outreach or Delivery "
                "(a person-month reached more than one way: “%(several)s”)",
                several=rec.SEVERAL_MODELS,
            ),
            _SUPPRESSED_ON_EVERY_ROW,
        ),
    ),
    "age_band": QuasiIdentifier(
        "age_band",
        lambda r, _sites, w: rec.age_ladder(r, w),
        (
            _l(
                "Age band, from the birth year: the age reached in the year of the visit "
                "(Under 18, 18 to 24, 25 to 34, 35 to 44, 45 to 54, 55 to 64, 65 and over, "
                "Not recorded), as in the funder reports"
            ),
            _l("Wide age band: Under 35, 35 to 54, 55 and over, Not recorded"),
            _SUPPRESSED_ON_EVERY_ROW,
        ),
    ),
    "gender": QuasiIdentifier(
        "gender",
        lambda r, _sites, w: rec.gender_ladder(r, w),
        (_l("Gender as the person describes it, or Not recorded"), _SUPPRESSED),
    ),
    "race_ethnicity": QuasiIdentifier(
        "race_ethnicity",
        lambda r, _sites, w: rec.race_ladder(r, w),
        (_l("Race or ethnicity (federal minimum categories), or Not recorded"), _SUPPRESSED),
    ),
    "primary_substance": QuasiIdentifier(
        "primary_substance",
        lambda r, _sites, w: rec.substance_ladder(r, w),
        (_l("The substance the person says they use most, or Not recorded"), _SUPPRESSED),
    ),
    "injects": QuasiIdentifier(
        "injects",
        lambda r, _sites, w: rec.injects_ladder(r, w),
        (_l("Whether the person injects: Yes, No or Not recorded"), _SUPPRESSED),
    ),
}
# The method's fixed order: (column, level reached, what the step does).
STEP_ORDER = [
    ("period", 1, _l("Dates coarsened from ISO weeks to months")),
    ("location", 1, _l("Sites merged into their kinds")),
    ("age_band", 1, _l("Age bands widened to under 35, 35 to 54, 55 and over")),
    ("primary_substance", 1, _l("Primary substance suppressed")),
    ("race_ethnicity", 1, _l("Race or ethnicity suppressed")),
    ("gender", 1, _l("Gender suppressed")),
    ("injects", 1, _l("Injects suppressed")),
    ("service_model", 1, _l("Service model suppressed")),
    ("age_band", 2, _l("Age band suppressed")),
    ("location", 2, _l("Site kind suppressed")),
]
