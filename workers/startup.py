"""What a claimflow process does once at start, before it takes work: load the code sets, then freeze them."""

from __future__ import annotations

import functools
import gc

from domain.codes import load_icd10


@functools.cache
def load_code_sets() -> None:
    """Parse the packaged ICD-10-CM code set (~3 s), then take everything alive out of the garbage collector's
    reach; once per process. Blocking: call it in a thread from async code.

    The code set is ~600,000 objects that live as long as the process. Left to the cyclic collector, every
    full collection walks them all: measured, it stopped the API for ~180 ms at a time, which was its p99
    (bench/RESULTS.md, "API overhead"). Frozen (gc.freeze, after a collection so no garbage is kept), they
    and whatever else is alive at start-up are never scanned again.
    """
    load_icd10()
    gc.collect()
    gc.freeze()
