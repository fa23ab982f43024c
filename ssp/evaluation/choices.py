"""What an export can be asked for: units, date granularity, location, attributes and
formats, with their labels. Imports nothing, so the command line's help starts fast."""

UNITS = {"visit": "One row per visit", "person_month": "One row per person and month"}
UNIT_NOTES = {
    "visit": "One row per visit (anonymous visits too, with an empty person)",
    "person_month": "One row per person and month of their visits (anonymous visits, "
    "which have no person, are not in it)",
}
GRANULARITIES = {"week": "ISO week", "month": "Month"}
LOCATIONS = {
    "kind": "Site kind (sites merged into their kinds)",
    "site": "Site",
    "none": "Left out",
}
# The coarse attributes a manager may include, in column order.
ATTRIBUTES = {
    "service_model": "Service model",
    "age_band": "Age band",
    "gender": "Gender",
    "race_ethnicity": "Race or ethnicity",
    "primary_substance": "Primary substance",
    "injects": "Injects",
}
FORMATS = {"csv": "CSV (opens in a spreadsheet)", "parquet": "Parquet (for R, Python, Stata)"}
