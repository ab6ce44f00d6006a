"""One error shape for every API answer: `{"detail": "...", "errors": [...]}`.

Validation errors are flattened into `errors` as `{"field": "a.b", "message": "..."}` (nested
fields joined with dots, list positions as numbers); every other error has an empty list.
Service exceptions map to their status here, so views can call services without a try.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from takedown import notices, rendering


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The object is not in a state that allows this (someone else may have acted first).")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


def _service_exception(exc: Exception) -> Exception:
    """Translate what the services raise into API exceptions; anything else passes through."""
    message = str(exc) or None
    if isinstance(exc, notices.Conflict):
        return Conflict(message)
    if isinstance(exc, notices.NotAllowed):
        return exceptions.PermissionDenied(message)
    if isinstance(exc, notices.PresendFailed):
        return exceptions.ValidationError(list(exc.problems))
    if isinstance(exc, notices.Invalid):
        return exceptions.ValidationError(message or "Invalid request.")
    if isinstance(exc, rendering.TemplateError):
        return exceptions.ValidationError(f"The notice template cannot render this notice: {message}")
    if isinstance(exc, ObjectDoesNotExist):
        # A service looked up something the caller named and did not find it.
        return exceptions.NotFound()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return exc


def flatten(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """ValidationError.detail (nested dicts and lists) -> [{"field", "message"}]."""
    if isinstance(detail, dict):
        out: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "detail") else str(key)
            out += flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            return [{"field": prefix, "message": str(v)} for v in detail]
        out = []
        for i, value in enumerate(detail):
            out += flatten(value, f"{prefix}.{i}" if prefix else str(i))
        return out
    return [{"field": prefix, "message": str(detail)}]


log = logging.getLogger(__name__)

# A client sends again after this many seconds when the database was out of reach.
DATABASE_RETRY_AFTER = 5


def _database_unreachable(exc: Exception) -> bool:
    """The database connection broke or the server is going away (a restart, a failover, a
    terminated session), or SQLite is locked by another writer: worth sending again. Other
    database errors (a timeout, a missing table) are bugs or limits, answered as 500."""
    if isinstance(exc, InterfaceError):
        return True  # the connection was already closed
    if not isinstance(exc, OperationalError):
        return False
    from django.db import connection

    if connection.vendor == "sqlite":
        return "database is locked" in str(exc)
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    # No SQLSTATE: the client lost the connection before any answer. 08: connection exception;
    # 57P01-03: the server is shutting down or cannot accept connections now.
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if _database_unreachable(exc):
        # A request may commit before its connection breaks (a case created, then re-read), so
        # nobody can say here whether its change was stored.
        log.exception("database unreachable while answering %s", context["request"].path)
        body = error_body(
            str(
                _(
                    "The database could not be reached while answering this request, so whether "
                    "its change was stored is not known. Check before sending it again; an import "
                    "can be sent again as it is: it stores only the rows it has not stored yet."
                )
            )
        )
        return Response(
            body,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    exc = _service_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling, logged with the traceback
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten(exc.detail)
        if len(errors) == 1:
            field, message = errors[0]["field"], errors[0]["message"]
            detail = f"{field}: {message}" if field else message
        elif all(not e["field"] for e in errors):
            detail = " ".join(e["message"] for e in errors)
        else:
            fields = ", ".join(dict.fromkeys(e["field"] or "(request)" for e in errors))
            detail = str(_("Invalid input in: %(fields)s.") % {"fields": fields})
        response.data = {"detail": detail, "errors": errors}
    else:
        data = response.data
        detail = data.get("detail") if isinstance(data, dict) else None
        response.data = {"detail": str(detail or exc), "errors": []}
    return response


def error_body(detail: str, errors: list | None = None, **extra: Any) -> dict:
    return {"detail": detail, "errors": errors or [], **extra}


def server_error(request, *args, **kwargs):
    """Django's handler500: API clients get the API's error shape, people the usual page.

    The exception itself is logged by Django before this runs; the answer says nothing of it.
    """
    from django.http import JsonResponse
    from django.views.defaults import server_error as html_server_error

    if request.path.startswith("/api/"):
        body = error_body(
            str(_("The server failed to answer this request; it has been logged. Try again later."))
        )
        return JsonResponse(body, status=500)
    return html_server_error(request, *args, **kwargs)
