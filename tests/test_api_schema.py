"""The OpenAPI schema, the offline docs, and schemathesis against the running app (in-process).

schemathesis generates requests from /api/schema/ for every operation and checks that no
answer is a 5xx and that every answer (status, content type, headers, body) is the one the
schema documents.
"""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from takedown import importing
from takedown.models import InfringingURL, Notice, NoticeItem, URLCheck
from takedown.tokens import token_issue

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def test_it_serves_a_valid_openapi_3_schema_with_every_error_documented(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    operations = {
        (method.upper(), path): op for path, ops in schema["paths"].items() for method, op in ops.items()
    }
    assert {
        ("GET", "/api/v1/artists/"), ("POST", "/api/v1/artists/"), ("GET", "/api/v1/artists/{id}/"),
        ("GET", "/api/v1/platforms/"), ("POST", "/api/v1/urls/import/"), ("GET", "/api/v1/urls/"),
        ("GET", "/api/v1/urls/{id}/"), ("GET", "/api/v1/notices/"), ("GET", "/api/v1/notices/{id}/"),
        ("GET", "/api/v1/notices/{id}/pdf/"), ("POST", "/api/v1/notices/{id}/approve/"),
        ("POST", "/api/v1/notices/{id}/reject/"), ("POST", "/api/v1/notices/{id}/send/"), ("GET", "/api/v1/stats/"),
    } <= set(operations)  # fmt: skip
    for key, op in operations.items():
        assert {"401", "429"} <= set(op["responses"]), key
        assert "Retry-After" in op["responses"]["429"]["headers"], key
    imp = operations[("POST", "/api/v1/urls/import/")]
    assert {"200", "201", "400", "403", "413"} <= set(imp["responses"])
    assert {"application/json", "text/csv"} == set(imp["requestBody"]["content"])
    assert imp["requestBody"]["content"]["application/json"]["examples"]
    assert {"403", "404", "409"} <= set(operations[("POST", "/api/v1/notices/{id}/approve/")]["responses"])
    assert (
        "application/pdf" in operations[("GET", "/api/v1/notices/{id}/pdf/")]["responses"]["200"]["content"]
    )


def test_it_serves_swagger_ui_from_local_files_only(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html and "jsdelivr" not in html
    bundle = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


# -- schemathesis ---------------------------------------------------------------------------


@pytest.fixture
def seeded(agency, artist, legal, staff, platforms, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/min", "api_import": "100000/min"},
    }
    importing.import_rows(
        [{"url": f"https://t.me/leakchan/{n}", "category": "synthetic_sexual"} for n in range(1, 4)],
        agency=agency,
        artist=artist,
    )
    first = InfringingURL.objects.order_by("pk").first()
    URLCheck.objects.create(url=first, verdict="live", http_status=200, title="Leak channel")
    pdf = b"%PDF-1.4\n%%EOF\n"
    notice = Notice.objects.create(
        agency=agency, artist=artist, platform=platforms["telegram"], legal_route="platform_policy",
        status="pending", created_by=staff, pdf=pdf, pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )  # fmt: skip
    NoticeItem.objects.create(notice=notice, url=first)
    return token_issue(user=legal).key


@pytest.fixture
def api_schema(seeded):
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    # As Django's test client does: a request must not close the connection that holds the
    # test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_it_answers_every_generated_request_within_the_schema(case, seeded):
    case.call_and_validate(headers={"Authorization": f"Token {seeded}"}, checks=CHECKS)
