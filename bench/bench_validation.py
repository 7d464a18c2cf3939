"""Benchmark: in-process validation of a 50-line claim, code-set lookups included, after warm-up.

Run from the repository root:

    .venv/bin/python -m bench.bench_validation [--runs 2000] [--warmup 200]

Prints the machine, then median / p99 / mean per scenario. The target is a median under 1 ms
for the valid 50-line claim with code tables.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import date, timedelta
from typing import Any

from domain.claim import Claim
from domain.codes import CodeEntry, CodeSets, CodeTable, load_icd10
from domain.validation import npi_check_digit, validate_claim
from workers.sample_claims import sample_claim

TODAY = date.today()
DIAGNOSES = [
    "E11.9",
    "I10",
    "E78.5",
    "R73.09",
    "N18.30",
    "D64.9",
    "Z00.00",
    "Z13.1",
    "R53.83",
    "E03.9",
    "K76.0",
    "E55.9",
]
PROCEDURES = ["80053", "85025", "80061", "83036", "84443", "87086", "81001", "36415", "G0103", "0001U"]


def code_sets() -> CodeSets:
    """Tables of a realistic size: ~10,000 CPT/HCPCS entries, a few hundred ICD-10-CM overrides."""
    cpt = [CodeEntry(code=f"{n:05d}", effective_date=date(2000, 1, 1)) for n in range(10_000, 20_000)]
    cpt += [CodeEntry(code=code, effective_date=date(2000, 1, 1)) for code in PROCEDURES]
    icd = [CodeEntry(code=f"Z99.{n:02d}", termination_date=date(2020, 9, 30)) for n in range(100)]
    icd += [CodeEntry(code=code, effective_date=date(2015, 10, 1)) for code in DIAGNOSES[:4]]
    return CodeSets(icd10_overrides=CodeTable(icd), procedures=CodeTable(cpt))


def claim_body(*, broken: bool = False) -> dict[str, Any]:
    """The sample claim with 50 lines and 12 diagnoses, a rendering provider and a modifier per line;
    `broken` makes every line fail several rules."""
    body = sample_claim(lines=50, diagnosis_codes=DIAGNOSES, procedure_codes=PROCEDURES)
    body["rendering_provider"] = {"npi": "123456789" + npi_check_digit("123456789")}
    for line in body["lines"]:
        line["modifiers"] = ["QW"]
    if broken:
        body["diagnosis_codes"] = ["E11", *DIAGNOSES[1:]]
        for line in body["lines"]:
            line.update(
                procedure_code="8005",
                modifiers=["26", "a", "26"],
                charge="0.00",
                units=0,
                service_date=(TODAY - timedelta(days=400)).isoformat(),
                diagnosis_pointers=[1, 13, 1],
                line_control_number="L",
            )
        body["total_charge"] = "1.00"
    return body


def measure(claim: Claim, codes: CodeSets | None, runs: int, warmup: int) -> tuple[list[float], int]:
    for _ in range(warmup):
        validate_claim(claim, today=TODAY, codes=codes)
    samples = []
    issues = 0
    for _ in range(runs):
        start = time.perf_counter_ns()
        report = validate_claim(claim, today=TODAY, codes=codes)
        samples.append((time.perf_counter_ns() - start) / 1_000_000)
        issues = len(report.issues)
    return samples, issues


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {memory:.1f} GiB RAM, "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    started = time.perf_counter()
    load_icd10()
    print(f"machine: {machine()}")
    print(f"date: {TODAY.isoformat()}  runs: {args.runs} after {args.warmup} warm-up runs")
    print(f"ICD-10-CM package load (once per process): {time.perf_counter() - started:.2f} s")
    tables = code_sets()
    scenarios = [
        ("valid 50-line claim, code tables", Claim.model_validate(claim_body()), tables),
        ("valid 50-line claim, package only", Claim.model_validate(claim_body()), None),
        ("50 broken lines, code tables", Claim.model_validate(claim_body(broken=True)), tables),
    ]
    print(f"{'scenario':<36} {'issues':>6} {'median ms':>10} {'p99 ms':>8} {'mean ms':>8}")
    for name, claim, codes in scenarios:
        samples, issues = measure(claim, codes, args.runs, args.warmup)
        p99 = statistics.quantiles(samples, n=100)[98]
        print(
            f"{name:<36} {issues:>6} {statistics.median(samples):>10.3f} {p99:>8.3f} {statistics.fmean(samples):>8.3f}"
        )


if __name__ == "__main__":
    main()
