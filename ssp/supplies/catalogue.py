"""The default catalogue a new program starts with: what a US SSP commonly hands out."""

from __future__ import annotations

from typing import NamedTuple

from ssp.supplies.models import SupplyCategory as C


class DefaultItem(NamedTuple):
    """One line of the default catalogue."""

    name: str
    category: C
    unit: str
    units_per_pack: int
    reorder_level: int
    doses_per_unit: int = 1


DEFAULT_CATALOGUE: tuple[DefaultItem, ...] = (
    DefaultItem("Syringe 1 mL 27G 1/2 in", C.SYRINGE, "syringe", 100, 2000),
    DefaultItem("Syringe 1 mL 28G 1/2 in", C.SYRINGE, "syringe", 100, 2000),
    DefaultItem("Syringe 1 mL 29G 1/2 in", C.SYRINGE, "syringe", 100, 1000),
    DefaultItem("Syringe 1 mL 31G 5/16 in", C.SYRINGE, "syringe", 100, 500),
    DefaultItem("Syringe 3 mL 25G 1 in", C.SYRINGE, "syringe", 100, 200),
    DefaultItem("Cooker", C.INJECTION, "cooker", 100, 500),
    DefaultItem("Cotton filter", C.INJECTION, "filter", 100, 500),
    DefaultItem("Sterile water ampoule", C.INJECTION, "ampoule", 100, 500),
    DefaultItem("Alcohol pad", C.INJECTION, "pad", 200, 1000),
    DefaultItem("Tourniquet", C.INJECTION, "tourniquet", 50, 100),
    DefaultItem("Naloxone nasal spray 4 mg (2-dose kit)", C.NALOXONE, "kit", 12, 48, 2),
    DefaultItem("Naloxone IM 0.4 mg/mL (kit)", C.NALOXONE, "kit", 10, 40),
    DefaultItem("Fentanyl test strip", C.TEST_STRIP, "strip", 100, 300),
    DefaultItem("Xylazine test strip", C.TEST_STRIP, "strip", 100, 300),
    DefaultItem("Glass pipe (straight stem)", C.SMOKING, "pipe", 50, 100),
    DefaultItem("Mouthpiece", C.SMOKING, "mouthpiece", 100, 200),
    DefaultItem("Brass screen", C.SMOKING, "screen", 100, 200),
    DefaultItem("Foil sheet", C.SMOKING, "sheet", 100, 200),
    DefaultItem("Wound care kit", C.WOUND_CARE, "kit", 25, 50),
    DefaultItem("Hygiene kit", C.HYGIENE, "kit", 25, 50),
    DefaultItem("External condom", C.SEXUAL_HEALTH, "condom", 144, 300),
    DefaultItem("Internal condom", C.SEXUAL_HEALTH, "condom", 100, 50),
    DefaultItem("Lubricant packet", C.SEXUAL_HEALTH, "packet", 100, 200),
    DefaultItem("Sharps container 1 qt", C.DISPOSAL, "container", 24, 50),
    DefaultItem("Sharps container 1 gal", C.DISPOSAL, "container", 12, 24),
)
