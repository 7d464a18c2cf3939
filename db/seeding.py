"""Reference data every installation starts with (db/seed/*.json, the HCPCS extract), inserted idempotently."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from db.base import Base
from db.edit_tables import edit_seed_rows
from db.models import Adjuster, AssignmentRuleSet, CPTCode, ICD10Code, Patient, Payer, Provider, RiskRuleRow
from db.records import CodeRow, PatientRow, PayerRow, ProviderRow
from domain import assignment
from domain.code_files import parse_hcpcs
from domain.risk import RiskRule

SEED_DIR = Path(__file__).resolve().parent / "seed"
#: Effective date of the seeded codes when an entry does not give its own.
SEED_EFFECTIVE_DATE = date(2000, 1, 1)
#: A current extract of CMS's HCPCS Level II file in its record layout (drug tests, lab G/P/Q/U codes):
#: partial, so an unknown HCPCS code stays a warning until the full file is imported.
HCPCS_EXTRACT = "hcpcs_extract.txt"


def hcpcs_rows() -> list[dict[str, Any]]:
    """The shipped HCPCS extract as cpt_code rows."""
    with (SEED_DIR / HCPCS_EXTRACT).open(encoding="ascii") as lines:
        return [
            record.entry.model_dump(include={"code", "description", "effective_date", "termination_date"})
            for record in parse_hcpcs(lines)
        ]


def _load(name: str, shape: type[BaseModel], defaults: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Read one seed file, check every entry against its read model, return plain column values."""
    entries = json.loads((SEED_DIR / name).read_text(encoding="utf-8"))
    return [shape.model_validate({**(defaults or {}), **entry}).model_dump() for entry in entries]


class RuleSetSeed(BaseModel):
    """A seeded version of the assignment rules (version 1: one rule, everyone in the pool)."""

    version: int
    set_by: str
    rules: list[assignment.AssignmentRule]


def rule_set_rows() -> list[dict[str, Any]]:
    """The seeded assignment rules' versions, their rules as the JSON the table keeps."""
    entries = json.loads((SEED_DIR / "assignment_rules.json").read_text(encoding="utf-8"))
    seeds = [RuleSetSeed.model_validate(entry) for entry in entries]
    return [seed.model_dump(mode="json") for seed in seeds]


def reference_rows() -> list[tuple[type[Base], list[dict[str, Any]]]]:
    """The seed rows per table, in an order that satisfies every reference between them."""
    codes = {"effective_date": SEED_EFFECTIVE_DATE, "termination_date": None}
    cpt = [
        {k: v for k, v in row.items() if k != "billable"}
        for row in _load("cpt_codes.json", CodeRow, {**codes, "billable": True})
    ]
    return [
        (Payer, _load("payers.json", PayerRow)),
        (Adjuster, _load("adjusters.json", assignment.Adjuster)),
        (AssignmentRuleSet, rule_set_rows()),
        (Provider, _load("providers.json", ProviderRow)),
        (Patient, _load("patients.json", PatientRow)),
        (ICD10Code, _load("icd10_codes.json", CodeRow, codes)),
        (CPTCode, cpt),
        (CPTCode, hcpcs_rows()),
        (RiskRuleRow, _load("risk_rules.json", RiskRule)),  # the risk screen's default rules
        *edit_seed_rows(),  # the CMS edit tables' extract (ncci_ptp_extract.csv, mue_extract.csv, mce_extract.csv)
    ]


def seed_reference_data(connection: Connection) -> None:
    """Insert the seed rows that are missing; rows already there (maybe edited) are left alone."""
    for model, rows in reference_rows():
        if rows:
            connection.execute(insert(model).on_conflict_do_nothing(), rows)
