"""Where the tests find the official OpenAPI documents, and what happens when they are absent.

One setting: ``PROVISION_SPECS_DIR``, a folder in the upstream layout of ``../shared/specs``
(``azure-rest-api-specs/specification/...``); by default ``../shared/specs`` beside the clone.
A clone without it (anyone cloning from the project's public home) still passes: the tests
that read the documents are skipped with one reason naming the setting. CI sets
``PROVISION_REQUIRE_SPECS=1`` so that an absent folder fails the run instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPECS_DIR = Path(os.environ.get("PROVISION_SPECS_DIR") or REPO.parent / "shared" / "specs").resolve()
SPECS = SPECS_DIR / "azure-rest-api-specs" / "specification"
AVAILABLE = SPECS.is_dir()
REQUIRED = os.environ.get("PROVISION_REQUIRE_SPECS") == "1"

REASON = (f"official OpenAPI documents not found at {SPECS}: set PROVISION_SPECS_DIR to a folder "
          "in the ../shared/specs layout to run the conformance tests")

if REQUIRED and not AVAILABLE:
    raise pytest.UsageError(f"PROVISION_REQUIRE_SPECS=1 but {REASON}")

# Applied as ``pytestmark = needs_specs`` by every module that reads the documents.
needs_specs = pytest.mark.skipif(not AVAILABLE, reason=REASON)
