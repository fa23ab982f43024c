"""What an export can be asked for: units, date granularity, location, attributes and
formats, with their labels. Imports nothing, so the command line's help starts fast: the
labels are marked with ``N_`` for the catalogue and looked up where they are shown
(``_(UNITS[unit])``, ``_l(label)`` in the form)."""


def N_(text: str) -> str:
    """Mark ``text`` for the catalogue; it is looked up when shown."""
    return text


UNITS = {"visit": N_("One row per visit"), "person_month": N_("One row per person and month")}
UNIT_NOTES = {
    "visit": N_("One row per visit (anonymous visits too, with an empty person)"),
    "person_month": N_(
        "One row per person and month of their visits (anonymous visits, which have no "
        "person, are not in it)"
    ),
}
GRANULARITIES = {"week": N_("ISO week"), "month": N_("Month")}
LOCATIONS = {
    "kind": N_("Site kind (sites merged into their kinds)"),
    "site": N_("Site"),
    "none": N_("Left out"),
}
# The coarse attributes a manager may include, in column order.
ATTRIBUTES = {
    "service_model": N_("Service model"),
    "age_band": N_("Age band"),
    "gender": N_("Gender"),
    "race_ethnicity": N_("Race or ethnicity"),
    "primary_substance": N_("Primary substance"),
    "injects": N_("Injects"),
}
FORMATS = {
    "csv": N_("CSV (opens in a spreadsheet)"),
    "parquet": N_("Parquet (for R, Python, Stata)"),
}
