"""OpenAPI documentation helpers: the error responses every operation shares, and examples."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from takedown.api.serializers import ErrorSerializer


def _example(name: str, detail: str, errors: list | None = None) -> OpenApiExample:
    return OpenApiExample(name, value={"detail": detail, "errors": errors or []}, response_only=True)


ERRORS: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(
        ErrorSerializer,
        "Bad input. Field errors are listed in `errors`.",
        [
            _example(
                "Invalid field",
                "reason: This field may not be blank.",
                [{"field": "reason", "message": "This field may not be blank."}],
            )
        ],
    ),
    401: OpenApiResponse(
        ErrorSerializer,
        "No valid token: send `Authorization: Token <key>`.",
        [_example("No token", "Authentication credentials were not provided.")],
    ),
    403: OpenApiResponse(
        ErrorSerializer,
        "Your role may not do this.",
        [
            _example(
                "Role", "Your role (Staff) may not approve, reject or send notices (legal reviewers only)."
            )
        ],
    ),
    404: OpenApiResponse(
        ErrorSerializer,
        "No such object in your agency (another agency's objects are 404 too).",
        [_example("Not found", "No Notice matches the given query.")],
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        "The object is not in a state that allows this (someone else may have acted first).",
        [_example("State", "Notice #12 is approved, not pending review.")],
    ),
    413: OpenApiResponse(
        ErrorSerializer,
        "The body or the number of rows is over the limit; the message says the limit.",
        [_example("Too large", "The body is 62914560 bytes; the limit is 52428800 bytes (50.0 MiB).")],
    ),
    429: OpenApiResponse(
        ErrorSerializer,
        "Too many requests with this token; retry after `Retry-After` seconds.",
        [_example("Throttled", "Request was throttled. Expected available in 12 seconds.")],
    ),
}


def document_retry_after(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: every 429 response carries a Retry-After header."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            throttled = operation.get("responses", {}).get("429") if isinstance(operation, dict) else None
            if throttled is not None:
                throttled.setdefault("headers", {})["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before the next request.",
                }
    return result


def responses(ok: dict[Any, Any], *codes: int) -> dict[Any, Any]:
    """Success responses plus the shared error responses (401 and 429 always apply)."""
    out = dict(ok)
    for code in sorted({*codes, 401, 429}):
        out.setdefault(code, ERRORS[code])
    return out


IMPORT_JSON_EXAMPLE = OpenApiExample(
    "JSON rows",
    request_only=True,
    media_type="application/json",
    value={
        "items": [
            {
                "artist": "luna-kang",
                "url": "https://www.youtube.com/watch?v=abcDEF12345&si=share",
                "category": "synthetic_sexual",
                "legal_route": "take_it_down",
                "discovered_at": "2026-05-19T14:30:00+09:00",
                "note": "Reported by a fan, 3 reposts",
            },
            {
                "artist": 7,
                "url": "https://x.com/someone/status/1790000000000000000",
                "category": "impersonation",
            },
        ]
    },
)
IMPORT_CSV_EXAMPLE = OpenApiExample(
    "CSV rows",
    request_only=True,
    media_type="text/csv",
    value=(
        "artist,url,category,legal_route,discovered_at,note\n"
        'luna-kang,https://youtu.be/abcDEF12345,synthetic_sexual,,2026-05-19,"딥페이크, 재업로드"\n'
    ),
)
IMPORT_REPORT_EXAMPLE = OpenApiExample(
    "Report",
    response_only=True,
    status_codes=["201"],
    value={
        "created": 1,
        "duplicates": 0,
        "rejected": 1,
        "errors": [{"row": 2, "field": "artist", "message": "No artist '7' in your agency."}],
    },
)
IMPORT_RESENT_EXAMPLE = OpenApiExample(
    "The same batch sent again",
    response_only=True,
    status_codes=["200"],
    value={"created": 0, "duplicates": 2, "rejected": 0, "errors": []},
)
IMPORT_REJECTED_EXAMPLE = OpenApiExample(
    "Atomic batch rejected",
    response_only=True,
    status_codes=["400"],
    value={
        "detail": "1 row(s) rejected; with atomic=1 nothing was stored.",
        "created": 0,
        "duplicates": 0,
        "rejected": 1,
        "errors": [
            {
                "row": 2,
                "field": "url",
                "message": "x.com/luna_official is on Luna Kang's official allow-list.",
            }
        ],
    },
)
IMPORT_UNREADABLE_EXAMPLE = OpenApiExample(
    "Unreadable body",
    response_only=True,
    status_codes=["400"],
    value={"detail": "Malformed JSON: Expecting ',' delimiter (line 1, column 42).", "errors": []},
)


_GROUP = {"urls": 120, "notified": 100, "removed": 72, "live": 20, "overdue": 3, "removal_rate": 0.72,
          "median_seconds_to_removal": 93600.0, "p90_seconds_to_removal": 302400.0, "reuploads": 2}  # fmt: skip
STATS_EXAMPLE = OpenApiExample(
    "Removal statistics",
    response_only=True,
    value={
        "agency": "starlight",
        "overall": _GROUP,
        "platforms": [{"platform": "x", "name": "X (Twitter)", **_GROUP}],
        "legal_routes": [{"legal_route": "take_it_down", "name": "US TAKE IT DOWN Act", **_GROUP}],
        "artists": [{"artist": "luna-kang", "name": "Luna Kang", **_GROUP}],
        "weekly": {"weeks": ["2026-11-09", "2026-11-16"], "new_urls": [14, 9], "removals": [11, 6]},
    },
)
REJECT_EXAMPLE = OpenApiExample(
    "Reason",
    request_only=True,
    value={"reason": "The DMCA route needs the work; use the platform's NCII form."},
)
SEND_EXAMPLE = OpenApiExample("Web-form reference", request_only=True, value={"reference": "TIDA-2026-0042"})
PREPARE_EXAMPLE = OpenApiExample("Some URLs", request_only=True, value={"urls": [101, 102, 103]})
