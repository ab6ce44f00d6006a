"""What the services raise when they refuse: one meaning each, mapped once per front end.

The admin shows `str(exc)` (or each of `PresendFailed.problems`); the API maps each to its
status in takedown.api.errors; the CLI prints it.
"""

from __future__ import annotations


class Conflict(Exception):
    """The object was not in the expected state any more (someone else acted first)."""


class NotAllowed(Exception):
    """The user's role does not allow this (or it is their own notice to review)."""


class Invalid(ValueError):
    """The request itself is wrong: a missing reason, an unknown outcome..."""


class PresendFailed(Invalid):
    """Pre-send checks found problems; `problems` lists each, ready to show."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
