"""Writes the made-up spreadsheets the import tests read (run it to remake them):

- visit-log-2025-q1.csv / .xlsx: a row per visit, January to March 2025, the way a
  program's sign-in sheet is typed up (US dates in the CSV, real dates in the XLSX,
  walk-ins with no code, naloxone reasons in words, referrals, a staff column and a
  notes column that are not imported);
- visit-log-2025-feb-apr.csv: the same sheet exported again a month later: February
  and March as before, plus April (an overlapping file);
- daily-tally-2025-q2.csv / .xlsx: a daily tally per site, April to June 2025, counts
  only, with days the van did not go out (0 contacts);
- bad-visit-log.xlsx: one good row and rows each wrong in one way (a word for a
  number, an unknown site, a date in the future, a formula, a negative count, an
  unknown naloxone reason, a malformed code, a referral for a walk-in).

Nobody in them is real: codes are random letters and digits.

    python tests/data/make_import_samples.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
VISIT_HEADERS = [
    "Date",
    "Participant Code",
    "Site",
    "Syringes Given",
    "Used Syringes Returned",
    "Narcan Kits",
    "Narcan Reason",
    "Fentanyl Test Strips",
    "Xylazine Test Strips",
    "Cookers",
    "Alcohol Pads (boxes)",
    "HIV Test",
    "Wound Care",
    "Referral",
    "Staff",
    "Notes",
]
TALLY_HEADERS = [
    "Date",
    "Site",
    "Contacts",
    "Syringes Out",
    "Syringes Returned",
    "Naloxone",
    "FTS",
    "Xylazine strips",
]
SITES = ["Main Street", "Van 1"]


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _codes(rng: random.Random, n: int) -> list[str]:
    letters = "ABCDEFGHJKLMNPRSTW"
    codes: list[str] = []
    while len(codes) < n:
        code = (
            "".join(rng.choice(letters) for _ in range(4))
            + f"{rng.randint(1, 28):02d}"
            + f"{rng.randint(55, 99):02d}"
        )
        if not any(_one_edit_apart(code, other) for other in codes):
            codes.append(code)
    return codes


def _visit_rows(rng: random.Random, codes: list[str], first: dt.date, last: dt.date):
    rows = []
    day = first
    while day <= last:
        if day.weekday() < 5:
            for _ in range(rng.randint(2, 4)):
                walk_in = rng.random() < 0.1
                naloxone = rng.choice([0, 0, 0, 1, 1, 2])
                reason = ""
                if naloxone:
                    reason = rng.choice(["First kit", "Used", "lost", "Expired", ""])
                referral = ""
                if not walk_in and rng.random() < 0.08:
                    referral = rng.choice(["HIV care", "MOUD", "Housing"])
                rows.append(
                    {
                        "date": day,
                        "Participant Code": "" if walk_in else rng.choice(codes),
                        "Site": rng.choice(SITES),
                        "Syringes Given": rng.choice([10, 20, 30, 50, 100]),
                        "Used Syringes Returned": rng.choice([0, 0, 10, 25, 40, 100]),
                        "Narcan Kits": naloxone,
                        "Narcan Reason": reason,
                        "Fentanyl Test Strips": rng.choice([0, 2, 5]),
                        "Xylazine Test Strips": rng.choice([0, 0, 2]),
                        "Cookers": rng.choice([0, 5, 10]),
                        "Alcohol Pads (boxes)": rng.choice([0, 0, 1]),
                        "HIV Test": rng.choice(["", "", "", "yes"]),
                        "Wound Care": rng.choice([0, 0, 0, 1]),
                        "Referral": referral,
                        "Staff": rng.choice(["JD", "MR", "AK"]),
                        "Notes": rng.choice(["", "", "asked about housing list", "new to area"]),
                    }
                )
        day += dt.timedelta(days=1)
    return rows


def _write_csv(path: Path, headers: list[str], rows: list[dict], date_text) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([date_text(row["date"])] + [row[h] for h in headers[1:]])


def _write_xlsx(path: Path, headers: list[str], rows: list[dict], title: str) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(headers)
    for row in rows:
        sheet.append([row["date"]] + [row[h] for h in headers[1:]])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    workbook.save(path)


def _us(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _tally_rows(rng: random.Random, first: dt.date, last: dt.date):
    rows = []
    day = first
    while day <= last:
        for site in SITES:
            closed = site == "Van 1" and day.weekday() in (5, 6)
            contacts = 0 if closed else rng.randint(8, 30)
            rows.append(
                {
                    "date": day,
                    "Site": site,
                    "Contacts": contacts,
                    "Syringes Out": 0 if closed else contacts * rng.choice([10, 20, 30]),
                    "Syringes Returned": 0 if closed else contacts * rng.choice([5, 10, 15]),
                    "Naloxone": 0 if closed else rng.randint(0, 6),
                    "FTS": 0 if closed else rng.randint(0, 20),
                    "Xylazine strips": 0 if closed else rng.randint(0, 10),
                }
            )
        day += dt.timedelta(days=1)
    return rows


def _bad_file(path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Visits"
    sheet.append(VISIT_HEADERS)

    def row(**changes):
        values = {
            "Date": dt.date(2025, 3, 3),
            "Participant Code": "KTRW1288",
            "Site": "Main Street",
            "Syringes Given": 20,
            "Used Syringes Returned": 10,
            "Narcan Kits": 0,
            "Narcan Reason": "",
            "Fentanyl Test Strips": 2,
            "Xylazine Test Strips": 0,
            "Cookers": 0,
            "Alcohol Pads (boxes)": 0,
            "HIV Test": "",
            "Wound Care": 0,
            "Referral": "",
            "Staff": "JD",
            "Notes": "",
        }
        values.update(changes)
        sheet.append([values[h] for h in VISIT_HEADERS])

    row()  # row 2: good
    row(**{"Syringes Given": "twenty"})  # row 3: a word for a number
    row(Site="Nowhere Clinic")  # row 4: an unknown site
    row(Date=dt.date(2099, 1, 1))  # row 5: in the future
    row(**{"Syringes Given": "=B2*2"})  # row 6: a formula
    row(**{"Used Syringes Returned": -5})  # row 7: negative
    row(**{"Narcan Kits": 1, "Narcan Reason": "for a friend's party"})  # row 8: unknown reason
    row(**{"Participant Code": "AB!9"})  # row 9: a malformed code
    row(**{"Participant Code": "", "Referral": "HIV care"})  # row 10: referral, no code
    workbook.save(path)


def main() -> None:
    rng = random.Random(2025)
    codes = _codes(rng, 45)
    q1 = _visit_rows(rng, codes, dt.date(2025, 1, 2), dt.date(2025, 3, 31))
    april = _visit_rows(rng, codes, dt.date(2025, 4, 1), dt.date(2025, 4, 30))
    _write_csv(HERE / "visit-log-2025-q1.csv", VISIT_HEADERS, q1, _us)
    _write_xlsx(HERE / "visit-log-2025-q1.xlsx", VISIT_HEADERS, q1, "Visits")
    feb_apr = [r for r in q1 if r["date"] >= dt.date(2025, 2, 1)] + april
    _write_csv(HERE / "visit-log-2025-feb-apr.csv", VISIT_HEADERS, feb_apr, _us)
    tally = _tally_rows(rng, dt.date(2025, 4, 1), dt.date(2025, 6, 30))
    _write_csv(HERE / "daily-tally-2025-q2.csv", TALLY_HEADERS, tally, dt.date.isoformat)
    _write_xlsx(HERE / "daily-tally-2025-q2.xlsx", TALLY_HEADERS, tally, "Tally")
    _bad_file(HERE / "bad-visit-log.xlsx")


if __name__ == "__main__":
    main()
