"""The evaluator export's quasi-identifier columns: for each, its ladder of values (see
``records``) and what each level means in the cover note; and the method's fixed order
of generalisation steps (docs/evaluator-export.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ssp.evaluation import records as rec


@dataclass(frozen=True)
class QuasiIdentifier:
    """A column an outsider could know of a person: its ladder and what each level means."""

    column: str
    ladder: Callable[[rec.Record, dict[int, rec.SiteFacts]], tuple[str, ...]]
    meanings: tuple[str, ...]


_PERIOD_MEANINGS = (
    "ISO 8601 week of the visit, e.g. 2026-W40 (weeks at the ends of the period may be "
    "partial; 1 January can be in the last week of the year before)",
    "Month of the visit, e.g. 2026-10",
)
QUASI_IDENTIFIERS = {
    "period": QuasiIdentifier("period", lambda r, _sites: rec.period_ladder(r), _PERIOD_MEANINGS),
    "location": QuasiIdentifier(
        "location",
        rec.location_ladder,
        (
            f"Site of the visit (a person-month at several: “{rec.SEVERAL_SITES}”)",
            "Kind of site: Fixed site, Mobile unit, Outreach or Satellite (a person-month "
            f"at several kinds: “{rec.SEVERAL_KINDS}”)",
            f"“{rec.SUPPRESSED}” on every row",
        ),
    ),
    "service_model": QuasiIdentifier(
        "service_model",
        lambda r, _sites: rec.service_model_ladder(r),
        (
            "How the person was reached: Fixed site, Mobile unit, Outreach or Delivery "
            f"(a person-month reached more than one way: “{rec.SEVERAL_MODELS}”)",
            f"“{rec.SUPPRESSED}” on every row",
        ),
    ),
    "age_band": QuasiIdentifier(
        "age_band",
        lambda r, _sites: rec.age_ladder(r),
        (
            "Age band, from the birth year: the age reached in the year of the visit "
            "(Under 18, 18 to 24, 25 to 34, 35 to 44, 45 to 54, 55 to 64, 65 and over, "
            "Not recorded), as in the funder reports",
            "Wide age band: Under 35, 35 to 54, 55 and over, Not recorded",
            f"“{rec.SUPPRESSED}” on every row",
        ),
    ),
    "gender": QuasiIdentifier(
        "gender",
        lambda r, _sites: rec.gender_ladder(r),
        ("Gender as the person describes it, or Not recorded", f"“{rec.SUPPRESSED}”"),
    ),
    "race_ethnicity": QuasiIdentifier(
        "race_ethnicity",
        lambda r, _sites: rec.race_ladder(r),
        ("Race or ethnicity (federal minimum categories), or Not recorded", "“Suppressed”"),
    ),
    "primary_substance": QuasiIdentifier(
        "primary_substance",
        lambda r, _sites: rec.substance_ladder(r),
        ("The substance the person says they use most, or Not recorded", "“Suppressed”"),
    ),
    "injects": QuasiIdentifier(
        "injects",
        lambda r, _sites: rec.injects_ladder(r),
        ("Whether the person injects: Yes, No or Not recorded", "“Suppressed”"),
    ),
}
# The method's fixed order: (column, level reached, what the step does).
STEP_ORDER = [
    ("period", 1, "Dates coarsened from ISO weeks to months"),
    ("location", 1, "Sites merged into their kinds"),
    ("age_band", 1, "Age bands widened to under 35, 35 to 54, 55 and over"),
    ("primary_substance", 1, "Primary substance suppressed"),
    ("race_ethnicity", 1, "Race or ethnicity suppressed"),
    ("gender", 1, "Gender suppressed"),
    ("injects", 1, "Injects suppressed"),
    ("service_model", 1, "Service model suppressed"),
    ("age_band", 2, "Age band suppressed"),
    ("location", 2, "Site kind suppressed"),
]
