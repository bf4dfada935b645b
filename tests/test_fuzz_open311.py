"""Schemathesis over the Open311 OpenAPI document, against the WSGI app (no network): for every documented
operation, generated requests (valid and invalid parameters, bodies, path values) get answers that the
document describes — status code, content type, headers, the response schema — and never a 5xx.

Half the generated POSTs carry a real API key, so creating a message is fuzzed too, not only the 403.
Everything a request writes is rolled back with the test's session.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pos.services import open311
from pos.views.open311_openapi import document
from tests.applicant_app import app  # noqa: F401

schema = schemathesis.openapi.from_dict(document("http://localhost"))
REQUESTS = {"count": 0, "operations": set()}
# The run must have tried something: every operation, many times. Counted per setup of the module's fixture,
# which xdist may tear down between operations (the operations it ran since are what the count is for).
MIN_REQUESTS_PER_OPERATION = 25


@pytest.fixture(scope="module", autouse=True)
def _report_requests():
    REQUESTS["count"] = 0
    REQUESTS["operations"] = set()
    yield
    print(f"\nschemathesis over the Open311 OpenAPI document: {REQUESTS['count']} requests, "
          f"operations {sorted(REQUESTS['operations'])}")
    assert REQUESTS["operations"] and REQUESTS["count"] >= MIN_REQUESTS_PER_OPERATION * len(REQUESTS["operations"])


@pytest.fixture
def api_key(session, world):
    return open311.create_client(session, "Схемы")[1]


@schema.parametrize()
@settings(max_examples=int(os.environ.get("POS_FUZZ_EXAMPLES", "50")), deadline=None, suppress_health_check=list(HealthCheck))
def test_open311_answers_as_documented(case, app, api_key):
    if isinstance(case.body, dict) and isinstance(case.body.get("api_key"), str) and len(case.body["api_key"]) % 2:
        case.body["api_key"] = api_key
    REQUESTS["count"] += 1
    REQUESTS["operations"].add(case.operation.label)
    # The WSGI transport hands checks the body as sent: ask for it uncompressed (gzip has its own tests).
    # Meaning is checked by the service, not by the schema (an existing service code, a phone number, both
    # coordinates or an address, a period of at most 90 days in 2000–2100): a schema-valid request may still
    # be a documented 400. Everything else is checked: invalid data refused, codes, types, headers, schemas.
    case.call_and_validate(app=app, headers={"Accept-Encoding": "identity"},
                           excluded_checks=[positive_data_acceptance])
