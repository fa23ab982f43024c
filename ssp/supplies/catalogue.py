"""The default catalogue a new program starts with: what a US SSP commonly hands out."""

from __future__ import annotations

from typing import NamedTuple

from ssp.supplies.models import SupplyCategory as C


class DefaultItem(NamedTuple):
    """One line of the default catalogue (no reorder level: low stock comes from each
    site's own use, see ``ssp.supplies.stock.ReorderRule``)."""

    name: str
    category: C
    unit: str
    units_per_pack: int
    doses_per_unit: int = 1


DEFAULT_CATALOGUE: tuple[DefaultItem, ...] = (
    DefaultItem("Syringe 1 mL 27G 1/2 in", C.SYRINGE, "syringe", 100),
    DefaultItem("Syringe 1 mL 28G 1/2 in", C.SYRINGE, "syringe", 100),
    DefaultItem("Syringe 1 mL 29G 1/2 in", C.SYRINGE, "syringe", 100),
    DefaultItem("Syringe 1 mL 31G 5/16 in", C.SYRINGE, "syringe", 100),
    DefaultItem("Syringe 3 mL 25G 1 in", C.SYRINGE, "syringe", 100),
    DefaultItem("Cooker", C.INJECTION, "cooker", 100),
    DefaultItem("Cotton filter", C.INJECTION, "filter", 100),
    DefaultItem("Sterile water ampoule", C.INJECTION, "ampoule", 100),
    DefaultItem("Alcohol pad", C.INJECTION, "pad", 200),
    DefaultItem("Tourniquet", C.INJECTION, "tourniquet", 50),
    DefaultItem("Naloxone nasal spray 4 mg (2-dose kit)", C.NALOXONE, "kit", 12, 2),
    DefaultItem("Naloxone IM 0.4 mg/mL (kit)", C.NALOXONE, "kit", 10),
    DefaultItem("Fentanyl test strip", C.TEST_STRIP, "strip", 100),
    DefaultItem("Xylazine test strip", C.TEST_STRIP, "strip", 100),
    DefaultItem("Glass pipe (straight stem)", C.SMOKING, "pipe", 50),
    DefaultItem("Mouthpiece", C.SMOKING, "mouthpiece", 100),
    DefaultItem("Brass screen", C.SMOKING, "screen", 100),
    DefaultItem("Foil sheet", C.SMOKING, "sheet", 100),
    DefaultItem("Wound care kit", C.WOUND_CARE, "kit", 25),
    DefaultItem("Hygiene kit", C.HYGIENE, "kit", 25),
    DefaultItem("External condom", C.SEXUAL_HEALTH, "condom", 144),
    DefaultItem("Internal condom", C.SEXUAL_HEALTH, "condom", 100),
    DefaultItem("Lubricant packet", C.SEXUAL_HEALTH, "packet", 100),
    DefaultItem("Sharps container 1 qt", C.DISPOSAL, "container", 24),
    DefaultItem("Sharps container 1 gal", C.DISPOSAL, "container", 12),
)
