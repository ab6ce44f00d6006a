"""Cursor pagination on the primary key: stable while imports add rows, and no COUNT(*)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    # Newest first. The id is unique and never changes, which cursor pagination needs; the
    # primary-key index serves the ORDER BY ... LIMIT.
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            # A malformed cursor is bad input (400), not a missing object.
            raise exceptions.ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
