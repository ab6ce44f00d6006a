"""Notice rendering: sandboxed Jinja2 -> HTML and text -> PDF bytes.

Pure functions: plain data in (dicts, lists, strings, numbers), text and bytes out.
No database, no request; settings only for the PDF bounds (pdf_limits(), with
defaults when Django is not configured).

Templates are written by legal staff and stored in the database, so they are treated
as untrusted code:

- Jinja2's immutable sandbox, autoescaping, strict undefined names, no loader (no
  include / import / extends), and a short allow-list of filters, globals and
  attributes (everything else is refused, not just what starts with an underscore).
- The sandbox cannot be interrupted, so limits are checked where work happens: output
  size as chunks are generated, the clock at every loop iteration, macro call and
  branch (compiled into the template, so a loop inside a macro that outputs nothing is
  stopped too), and the size of every value built in the template before it is built
  (`*`, `+`, `~`, joins, string conversions) so that one expression cannot allocate
  gigabytes.

The body sits inside a trusted, file-based print layout (templates/notices/), rendered
to PDF by WeasyPrint with a URL fetcher that serves only files inside that folder. The
HTML and CSS of the body can still make WeasyPrint run for minutes or fill gigabytes,
so the PDF is laid out in a worker process under a wall clock, an address-space limit
and a page cap (takedown/pdfworker.py), for every PDF: submission, previews and the
sample PDF of validate_template.
"""

from __future__ import annotations

import html as html_lib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, wraps
from hashlib import sha256
from html.parser import HTMLParser
from pathlib import Path
from types import BuiltinMethodType, MethodType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, CompilerExit
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import LoopContext, Macro, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing
from markupsafe import Markup

from takedown import legal, pdfworker
from takedown.choices import Category, LegalRoute, Locale
from takedown.pdfworker import LocalAssetFetcher, PdfLimits, relaxed_gc

__all__ = [
    "DEFAULT_TEMPLATES_DIR",
    "LAYOUT_DIR",
    "SAMPLE_CONTEXT",
    "DefaultTemplate",
    "LocalAssetFetcher",
    "PdfLimitExceeded",
    "PdfLimits",
    "RenderedNotice",
    "TemplateError",
    "html_to_text",
    "layout_html",
    "load_default_templates",
    "missing_glyphs",
    "pdf_limits",
    "pdf_warnings",
    "relaxed_gc",
    "render_notice",
    "render_pdf",
    "sample_context",
    "sha256_hex",
    "validate_template",
]

BASE_DIR = Path(__file__).resolve().parent.parent
LAYOUT_DIR = BASE_DIR / "templates" / "notices"
DEFAULT_TEMPLATES_DIR = BASE_DIR / "fixtures" / "notice_templates"

# Limits. A 1,000-URL notice body is about 300,000 characters and renders in
# milliseconds; these leave room for several thousand URLs.
MAX_SOURCE_CHARS = 100_000
MAX_OUTPUT_CHARS = 2_000_000
MAX_SUBJECT_CHARS = 1_000
MAX_RENDER_SECONDS = 2.0
MAX_RANGE = 10_000
MAX_ITEMS = 100_000  # elements of a list built inside a template


class TemplateError(ValueError):
    """A notice template cannot be used; the message is meant for legal staff."""


class _LimitExceeded(Exception):
    """A resource limit was hit while rendering; converted to TemplateError."""


@dataclass(frozen=True)
class RenderedNotice:
    subject: str
    html: str
    text: str


# -- sample data (fictional) -------------------------------------------------------------

SAMPLE_CONTEXT: dict[str, Any] = {
    "agency": {
        "name": "Starlight Entertainment",
        "name_ko": "스타라이트 엔터테인먼트",
        "address": "12 Example-ro, Gangnam-gu, Seoul 06000, Republic of Korea",
        "email": "legal@starlight.example",
        "phone": "+82 2 0000 0000",
        "website": "https://starlight.example",
    },
    "signatory": {
        "name": "Minji Park",
        "title": "Head of Legal Affairs",
        "email": "minji.park@starlight.example",
        "phone": "+82 2 0000 0001",
    },
    "artist": {"name": "Hana Lee", "name_ko": "이하나", "aliases": ["HANA", "하나"]},
    "platform": {
        "name": "ExampleTube",
        "slug": "exampletube",
        "channel_url": "https://tube.example/legal/report",
        "channel_email": "abuse@tube.example",
    },
    "route": {"code": LegalRoute.DMCA.value, "label": "DMCA 17 U.S.C. §512(c)(3)"},
    "works": [
        {
            "title": "Hana Lee - Moonrise (official music video)",
            "description": "Music video, first published 2025-03-14 by Starlight Entertainment",
            "url": "https://starlight.example/works/moonrise",
        }
    ],
    "items": [
        {
            "url": "https://tube.example/watch?v=Zx81aQ-fake&list=PL0000example",
            "category": Category.SYNTHETIC_SEXUAL.value,
            "category_label": "Synthetic sexual imagery (deepfake)",
            "discovered_at": "2026-05-18",
            "title": "hana deepfake",
            "body_sha256": "9f2c8e1d4b7a6c5e3f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
            "http_status": 200,
        },
        {
            "url": "https://tube.example/shorts/Qw12erTY-example",
            "category": Category.IMPERSONATION.value,
            "category_label": "Impersonation",
            "discovered_at": "2026-05-19",
            "title": "HANA official (fake account)",
            "body_sha256": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "http_status": 200,
        },
        {
            "url": "https://files.tube.example/u/anon123/leak_2026-05-19_very_long_"
            "file_name_that_needs_wrapping_in_a_narrow_column.mp4?token=abcdef012345",
            "category": Category.COPYRIGHT.value,
            "category_label": "Copyright",
            "discovered_at": "2026-05-19",
            "title": "Moonrise full MV leak",
            "body_sha256": "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f",
            "http_status": 200,
        },
    ],
    "notice": {"reference": "N-2026-000123", "date": "2026-05-20", "locale": "en"},
}


# Plain strings: LegalRoute labels are lazy translations, unusable without settings.
_SAMPLE_ROUTE_LABELS = {
    LegalRoute.DMCA.value: "DMCA 17 U.S.C. §512(c)(3)",
    LegalRoute.TAKE_IT_DOWN.value: "US TAKE IT DOWN Act",
    LegalRoute.DSA.value: "EU DSA Art. 16",
    LegalRoute.KR_TBA.value: "Korea Telecommunications Business Act Art. 22-5",
    LegalRoute.KR_NETWORK.value: "Korea Network Act Art. 44-2",
    LegalRoute.PLATFORM_POLICY.value: "Platform policy (privacy / NCII / likeness)",
}


# -- the sandbox -------------------------------------------------------------------------


def _weight(value: Any, budget: int) -> int:
    """About how many characters `value` becomes as a string; stops once past budget.

    Containers count their length as well as their contents, so the walk always
    progresses towards the budget, and a list of a million references to one string
    weighs what its string form would.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item) + 2
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset, range)):
            total += len(item) + 2
            if not isinstance(item, range):
                stack.extend(item)
        else:
            total += 8
        if total > budget:
            break
    return total


def _check_string_size(value: Any) -> None:
    if _weight(value, MAX_OUTPUT_CHARS) > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"a value would exceed {MAX_OUTPUT_CHARS:,} characters")


def _check_result(value: Any) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_OUTPUT_CHARS:
            raise _LimitExceeded(f"a value would exceed {MAX_OUTPUT_CHARS:,} characters")
    elif isinstance(value, (list, tuple, dict)) and len(value) > MAX_ITEMS:
        raise _LimitExceeded(f"a list would exceed {MAX_ITEMS:,} items")
    return value


def _safe_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise _LimitExceeded(f"range() is limited to {MAX_RANGE:,} numbers")
    return result


def _long_date(value: Any, locale: str = "en") -> str:
    """'2026-05-20' -> '20 May 2026' (en) or '2026년 5월 20일' (ko)."""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    if locale == Locale.KO:
        return f"{day.year}년 {day.month}월 {day.day}일"
    # Not strftime("%B"): that follows the process's C locale.
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_MONTHS = "January February March April May June July August September October November December".split()


# Filters that turn their input into a string: refuse to stringify a huge container.
_STRING_FILTERS = {
    "capitalize", "e", "escape", "forceescape", "lower", "upper", "title", "trim",
    "striptags", "string", "truncate", "wordcount", "urlencode", "filesizeformat",
}  # fmt: skip
# Filters that only rearrange or reduce what they are given.
_STRUCTURAL_FILTERS = {
    "abs", "count", "d", "default", "dictsort", "first", "float", "groupby", "int",
    "items", "last", "length", "list", "map", "max", "min", "reject", "rejectattr",
    "reverse", "round", "select", "selectattr", "sort", "unique",
}  # fmt: skip
# Left out on purpose: attr and format (sandbox escapes and printf-style padding),
# safe (would let scraped page titles inject markup), random (notices must be
# reproducible), center/indent/wordwrap/urlize/xmlattr/tojson/pprint (not needed in a
# letter, and each multiplies its input).


def _guard_filter(name: str, func: Any) -> Any:
    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        for arg in (*args, *kwargs.values()):
            if not isinstance(arg, str) and name in _STRING_FILTERS:
                _check_string_size(arg)
        return _check_result(func(*args, **kwargs))

    return guarded


def _join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    items = list(value)
    if len(items) > MAX_ITEMS:
        raise _LimitExceeded(f"a list would exceed {MAX_ITEMS:,} items")
    _check_string_size([items, [d] * max(len(items) - 1, 0)])
    return _check_result(
        jinja2.filters.sync_do_join(eval_ctx, items, d, attribute)  # type: ignore[attr-defined]
    )


_join = jinja2.pass_eval_context(_join)


def _replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, old, new = str(s), str(old), str(new)
    _check_string_size(text)
    occurrences = (len(text) + 1) if not old else text.count(old)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    if len(text) + occurrences * max(len(new) - len(old), 0) > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"a value would exceed {MAX_OUTPUT_CHARS:,} characters")
    return jinja2.filters.do_replace(eval_ctx, s, old, new, count)


_replace = jinja2.pass_eval_context(_replace)


def _limited_count(func: Any) -> Any:
    @wraps(func)
    def limited(value: Any, count: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(count, int) or not 0 < count <= MAX_ITEMS:
            raise _LimitExceeded(f"the count must be between 1 and {MAX_ITEMS:,}")
        return func(value, count, *args, **kwargs)

    return limited


def _sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    # Summing lists or strings is quadratic and unbounded in C; numbers only.
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise _LimitExceeded("sum() adds numbers only")
    return jinja2.filters.sync_do_sum(environment, iterable, attribute, start)  # type: ignore[attr-defined]


_sum = jinja2.pass_environment(_sum)


def _build_filters() -> dict[str, Any]:
    filters = {
        name: _guard_filter(name, jinja2.filters.FILTERS[name])
        for name in _STRING_FILTERS | _STRUCTURAL_FILTERS
    }
    filters["join"] = _join
    filters["replace"] = _replace
    filters["batch"] = _limited_count(jinja2.filters.do_batch)
    filters["slice"] = _limited_count(jinja2.filters.sync_do_slice)  # type: ignore[attr-defined]
    filters["sum"] = _sum
    filters["longdate"] = _long_date
    return filters


# Attributes a template may read, per type; everything else is refused. Dictionary keys
# are not attributes (`agency.email` finds the key when no attribute has that name).
_STR_METHODS = frozenset(
    "upper lower title capitalize strip lstrip rstrip startswith endswith count find "
    "isdigit isalpha isalnum isspace".split()
)
_SAFE_ATTRIBUTES: tuple[tuple[type, frozenset[str]], ...] = (
    (str, _STR_METHODS),
    (dict, frozenset({"items", "keys", "values", "get"})),
    ((list, tuple), frozenset({"index", "count"})),  # type: ignore[arg-type]
    (
        LoopContext,
        frozenset(
            "index index0 revindex revindex0 first last length depth depth0 previtem "
            "nextitem cycle changed".split()
        ),
    ),
)


class _StrictUndefined(jinja2.StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is missing:
            return f"undefined name {self._undefined_name!r}"
        return f"undefined field {self._undefined_name!r}"


# When the render in progress must stop; checked by NoticeSandbox.tick().
_DEADLINE: ContextVar[float] = ContextVar("notice_render_deadline", default=float("inf"))


class _CodeGenerator(CodeGenerator):
    """Compiles templates with two checks the stock sandbox lacks.

    - Every block body (loop iteration, macro call, if branch) starts with
      `environment.tick()`, which checks the render's deadline: a loop or a recursion
      inside a macro produces no output to check, yet must stop too.
    - The `~` operator goes through a size check before it joins its operands.
    """

    def blockvisit(self, nodes: Any, frame: Any) -> None:
        try:
            self.writeline("environment.tick()")
            for node in nodes:
                self.visit(node, frame)
        except CompilerExit:
            pass

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        if frame.eval_ctx.volatile:
            self.write("environment.checked_tilde(context.eval_ctx.autoescape, (")
        else:
            self.write(f"environment.checked_tilde({bool(frame.eval_ctx.autoescape)}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _checked_concat(parts: Any) -> str:
    # Every buffer join (macros, {% set %} blocks, {% filter %} blocks) goes through
    # here; the parts are already strings.
    if not isinstance(parts, list):
        parts = list(parts)
    if sum(map(len, parts)) > MAX_OUTPUT_CHARS:
        raise _LimitExceeded(f"the output would exceed {MAX_OUTPUT_CHARS:,} characters")
    return "".join(parts)


def _finalize(value: Any) -> Any:
    if not isinstance(value, str):
        _check_string_size(value)
    return value


class NoticeSandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _CodeGenerator
    concat = staticmethod(_checked_concat)  # type: ignore[assignment]
    # Intercepted so their size is checked before Python allocates the result; it also
    # stops the compiler from folding `'x' * 10**9` into a constant at compile time.
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=True,
            undefined=_StrictUndefined,
            finalize=_finalize,
            loader=None,
            cache_size=0,
            auto_reload=False,
        )
        self.globals.clear()
        self.globals.update(range=_safe_range, dict=dict)
        self.filters = _build_filters()

    def tick(self) -> None:
        if time.monotonic() > _DEADLINE.get():
            raise _LimitExceeded(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Report `cycler.__init__` as the undefined name it is, not as unsafe access.
        if isinstance(obj, jinja2.Undefined):
            obj._fail_with_undefined_error()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, jinja2.Undefined):
            obj._fail_with_undefined_error()
        return super().getitem(obj, argument)

    def checked_tilde(self, autoescape: bool, parts: tuple[Any, ...]) -> str:
        _check_string_size(list(parts))
        return (markup_join if autoescape else str_join)(parts)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        sized = (str, list, tuple)
        if operator_ == "%" and isinstance(left, str):
            raise SecurityError("printf-style string formatting is not available")
        if operator_ == "*":
            if isinstance(left, sized) and isinstance(right, int):
                self._check_repeat(left, right)
            elif isinstance(right, sized) and isinstance(left, int):
                self._check_repeat(right, left)
            elif isinstance(left, int) and isinstance(right, int):
                self._check_bits(abs(left).bit_length() + abs(right).bit_length())
        elif operator_ == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0:
                self._check_bits(max(abs(left).bit_length(), 1) * right)
        elif operator_ == "+" and isinstance(left, sized) and isinstance(right, sized):
            if isinstance(left, str):
                _check_string_size([left, right])
            elif len(left) + len(right) > MAX_ITEMS:
                raise _LimitExceeded(f"a list would exceed {MAX_ITEMS:,} items")
        return self.binop_table[operator_](left, right)

    @staticmethod
    def _check_repeat(value: str | list | tuple, times: int) -> None:
        if isinstance(value, str):
            if len(value) * times > MAX_OUTPUT_CHARS:
                raise _LimitExceeded(f"a value would exceed {MAX_OUTPUT_CHARS:,} characters")
        elif len(value) * times > MAX_ITEMS:
            raise _LimitExceeded(f"a list would exceed {MAX_ITEMS:,} items")

    @staticmethod
    def _check_bits(bits: int) -> None:
        if bits > 4096:
            raise _LimitExceeded("a number would be too large")

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        return any(isinstance(obj, types) and attr in names for types, names in _SAFE_ATTRIBUTES)

    def wrap_str_format(self, value: Any) -> None:
        # str.format / format_map are refused outright (is_safe_attribute does not
        # list them) instead of being wrapped: '{:>999999999}'.format(x) allocates
        # whatever the field width says, sandbox or not.
        return None

    def is_safe_callable(self, obj: Any) -> bool:
        if not super().is_safe_callable(obj):
            return False
        if obj is _safe_range or obj is dict or isinstance(obj, (Macro, LoopContext)):
            return True
        if isinstance(obj, (MethodType, BuiltinMethodType)):
            owner = getattr(obj, "__self__", None)
            return any(
                isinstance(owner, types) and obj.__name__ in names for types, names in _SAFE_ATTRIBUTES
            )
        return False


_SANDBOX = NoticeSandbox()
_FORBIDDEN_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


# -- rendering with limits ---------------------------------------------------------------


def _template_line(exc: BaseException) -> int | None:
    """The template line of the innermost template frame in the traceback."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        frame_globals = tb.tb_frame.f_globals
        if "__jinja_exception__" in frame_globals:
            line = tb.tb_lineno
        elif "__jinja_template__" in frame_globals:
            line = frame_globals["__jinja_template__"].get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def _error(part: str, exc: BaseException) -> TemplateError:
    line = _template_line(exc)
    where = f"{part}, line {line}" if line else part
    if isinstance(exc, TemplateSyntaxError):
        message = exc.message or "syntax error"
        kind = "syntax error"
    elif isinstance(exc, SecurityError):
        message, kind = str(exc), "unsafe access refused"
    elif isinstance(exc, UndefinedError):
        message, kind = str(exc), "undefined"
    elif isinstance(exc, _LimitExceeded):
        message, kind = str(exc), "too long"
    elif isinstance(exc, RecursionError):
        message, kind = "macros call each other too deeply", "too long"
    else:
        message, kind = f"{type(exc).__name__}: {exc}", "error"
    if kind == "undefined":
        return TemplateError(f"{where}: {message}")
    return TemplateError(f"{where}: {kind}: {message}")


@lru_cache(maxsize=128)
def _compile(source: str, part: str) -> jinja2.Template:
    if len(source) > MAX_SOURCE_CHARS:
        raise TemplateError(f"{part}: too long: the template exceeds {MAX_SOURCE_CHARS:,} characters")
    try:
        tree = _SANDBOX.parse(source)
        for node in tree.find_all(_FORBIDDEN_NODES):
            raise TemplateError(
                f"{part}, line {node.lineno}: include, import and extends are not "
                "available in notice templates"
            )
        return _SANDBOX.from_string(tree)
    except TemplateError:
        raise
    except Exception as exc:  # syntax errors, unknown filters, limits hit while folding
        raise _error(part, exc) from None


def _render_limited(source: str, context: Mapping[str, Any], part: str) -> str:
    template = _compile(source, part)
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    chunks: list[str] = []
    size = 0
    stream = template.generate(context)
    token = _DEADLINE.set(deadline)
    try:
        for chunk in stream:
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise _LimitExceeded(f"the output would exceed {MAX_OUTPUT_CHARS:,} characters")
            if time.monotonic() > deadline:
                raise _LimitExceeded(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")
            chunks.append(chunk)
    except Exception as exc:
        raise _error(part, exc) from None
    finally:
        stream.close()
        _DEADLINE.reset(token)
    return "".join(chunks)


def _plain(value: Any, path: str = "context") -> Any:
    """A copy of `value` made of plain data only; lazy translations become str."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return str(value) if isinstance(value, Markup) else value
    if isinstance(value, Mapping):
        copy = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a non-string key {key!r}")
            copy[key] = _plain(item, f"{path}[{key!r}]")
        return copy
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if _is_lazy_string(value):
        return str(value)
    raise TypeError(
        f"{path} is a {type(value).__name__}; notice contexts take plain data only "
        "(str, int, float, bool, None, dict, list) - dates as ISO strings"
    )


def _is_lazy_string(value: Any) -> bool:
    try:
        from django.utils.functional import Promise
    except ImportError:  # pragma: no cover - Django is a dependency
        return False
    return isinstance(value, Promise)


def _one_line(text: str) -> str:
    # The subject goes into an email header: no line breaks, no markup escapes.
    return " ".join(html_lib.unescape(text).split())


def render_notice(subject: str, body: str, context: Mapping[str, Any]) -> RenderedNotice:
    """Render a stored template (subject and body) against a plain-data context.

    Raises TemplateError (message for legal staff) if the template is invalid, uses an
    undefined name, tries an unsafe access, or exceeds a limit; TypeError if the
    context holds anything but plain data.
    """
    data = _plain(context)
    rendered_subject = _one_line(_render_limited(subject, data, "Subject"))
    if len(rendered_subject) > MAX_SUBJECT_CHARS:
        raise TemplateError(
            f"Subject: too long: {len(rendered_subject):,} characters (at most {MAX_SUBJECT_CHARS:,})"
        )
    html = _render_limited(body, data, "Body")
    return RenderedNotice(subject=rendered_subject, html=html, text=html_to_text(html))


def sample_context(locale: str | None = None, route: str | None = None) -> dict[str, Any]:
    """A copy of SAMPLE_CONTEXT set to a locale and route."""
    context = _plain(SAMPLE_CONTEXT)
    if locale:
        context["notice"]["locale"] = str(locale)
    if route:
        context["route"] = {"code": str(route), "label": _SAMPLE_ROUTE_LABELS[str(route)]}
    return context


def validate_template(
    subject: str,
    body: str,
    *,
    route: str | None = None,
    locale: str | None = None,
    limits: PdfLimits | None = None,
) -> None:
    """Check a template before it is saved; raise TemplateError saying what is wrong.

    Checks the syntax, renders against SAMPLE_CONTEXT (undefined names are errors),
    when a route is given, that every element the route requires appears in the
    rendering (legal.ROUTE_REQUIREMENTS markers for `locale`), and renders the sample
    PDF under `limits` (default: pdf_limits()); PdfLimitExceeded names the bound hit.
    """
    key = sha256(repr((subject, body, route, locale, limits or pdf_limits())).encode("utf-8")).hexdigest()
    if key in _VALIDATED:
        # The admin's form check and template_save validate the same source in one request:
        # the sample PDF (up to the time bound) is rendered once, not twice.
        return
    context = sample_context(locale, route)
    rendered = render_notice(subject, body, context)
    if not rendered.subject:
        raise TemplateError("Subject: the subject is empty")
    if route:
        missing_codes = legal.missing_from_text(str(route), str(locale or Locale.EN), rendered.text, context)
        if missing_codes:
            by_code = {r.code: r for r in legal.requirements_for(str(route))}
            lines = []
            for code in missing_codes:
                requirement = by_code[code]
                phrases = requirement.markers.get(str(locale or Locale.EN)) or requirement.markers.get(
                    "en", ()
                )
                expected = "; ".join(f"“{phrase}”" for phrase in phrases)
                lines.append(
                    f"- {requirement.label}" + (f" (expected wording: {expected})" if expected else "")
                )
            raise TemplateError(
                "Body: the notice lacks elements its legal route requires:\n" + "\n".join(lines)
            )
    # The sample PDF, under the bounds of every notice PDF: a layout that runs for
    # minutes, fills hundreds of pages or gigabytes is refused here, not at submission.
    try:
        render_pdf(
            rendered,
            title=rendered.subject,
            author=str(context["agency"]["name"]),
            lang=str(locale or Locale.EN),
            context=context,
            limits=limits,
        )
    except PdfLimitExceeded as exc:
        raise PdfLimitExceeded(
            _gettext("Body: %(problem)s (with the sample data)") % {"problem": exc}, bound=exc.bound
        ) from None
    except TemplateError as exc:
        raise TemplateError(f"Body: {exc}") from None
    _VALIDATED[key] = None
    while len(_VALIDATED) > 64:
        _VALIDATED.pop(next(iter(_VALIDATED)))


# Sources that passed validate_template lately (the result depends on nothing else: the sample
# context is fixed), so that checking the same source twice in a row costs nothing.
_VALIDATED: dict[str, None] = {}


# -- HTML to text ------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead "
    "tfoot tr ul caption".split()
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template"})
# Blocks followed by a blank line in the text version.
_SPACED_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "p", "table", "blockquote"})


class _TextConverter(HTMLParser):
    """Block elements to line breaks, table rows to lines (cells joined by " | "),
    list items to "- " or "1. ", links followed by their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.pre = 0
        self.in_cell = False  # a line break inside a table cell is a space
        self.lists: list[list[int | None]] = []  # per open list: [counter or None]
        self.cells_in_row = 0
        self.links: list[str | None] = []

    def _break(self, blank: bool = False) -> None:
        if self.in_cell:
            self.current.append(" ")
            return
        line = "".join(self.current)
        line = line.rstrip() if self.pre else " ".join(line.split())
        if line:
            self.lines.append(line)
        if blank and self.lines and self.lines[-1] != "":
            self.lines.append("")
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
            return
        if tag in ("tr", "table", "thead", "tbody", "tfoot"):
            self.in_cell = False
        if tag == "br":
            self._break()
        elif tag in _SPACED_TAGS:
            self._break(blank=True)
        elif tag in _BLOCK_TAGS:
            self._break()
        if tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append([0 if tag == "ol" else None])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [None]
            if counter[0] is None:
                self.current.append("- ")
            else:
                counter[0] += 1
                self.current.append(f"{counter[0]}. ")
        elif tag == "tr":
            self.cells_in_row = 0
        elif tag in ("td", "th"):
            if self.cells_in_row:
                self.current.append(" | ")
            self.cells_in_row += 1
            self.in_cell = True
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(self.skip - 1, 0)
            return
        if tag in ("td", "th", "tr", "table", "thead", "tbody", "tfoot"):
            self.in_cell = False
        if tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.current)
            if href and not href.startswith(("#", "mailto:")) and href not in shown:
                self.current.append(f" <{href}>")
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in _SPACED_TAGS:
            self._break(blank=True)
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self.in_cell = False
        self._break()
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n"


def html_to_text(html: str) -> str:
    """The plain-text version of a rendered notice body.

    One source for both forms: legal approves one wording, and the required-element
    markers checked on the text are in the PDF too.
    """
    converter = _TextConverter()
    converter.feed(html)
    converter.close()
    return converter.text()


# -- PDF ---------------------------------------------------------------------------------

_LAYOUT_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(LAYOUT_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


class PdfLimitExceeded(TemplateError):
    """A PDF render went past a bound (time, memory or pages); `bound` says which.

    A TemplateError, so every caller that reports a template problem (admin, API,
    template save) reports this one too, with a message that names the bound.
    """

    def __init__(self, message: str, *, bound: str) -> None:
        super().__init__(message)
        self.bound = bound


def pdf_limits() -> PdfLimits:
    """The bounds from settings (TAKEDOWN_PDF_*), or the defaults outside Django."""
    defaults = PdfLimits()
    if not _django_configured():
        return defaults
    from django.conf import settings

    return PdfLimits(
        timeout_seconds=float(getattr(settings, "TAKEDOWN_PDF_TIMEOUT_SECONDS", defaults.timeout_seconds)),
        memory_mb=int(getattr(settings, "TAKEDOWN_PDF_MEMORY_MB", defaults.memory_mb)),
        max_pages=int(getattr(settings, "TAKEDOWN_PDF_MAX_PAGES", defaults.max_pages)),
        workers=int(getattr(settings, "TAKEDOWN_PDF_WORKERS", defaults.workers)),
    )


def _django_configured() -> bool:
    # Settings are read lazily: configured once touched, or named by the environment.
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is a dependency
        return False
    return settings.configured or bool(os.environ.get("DJANGO_SETTINGS_MODULE"))


def _gettext(message: str) -> str:
    # The bound messages reach users (admin, API); outside Django they stay English.
    if not _django_configured():
        return message
    from django.utils.translation import gettext

    return gettext(message)


def _bound_message(bound: str, limits: PdfLimits) -> str:
    if bound == "time":
        return _gettext("the PDF took longer than %(seconds)s s to render") % {
            "seconds": f"{limits.timeout_seconds:g}"
        }
    if bound == "pages":
        return _gettext("the PDF would have more than %(pages)s pages") % {"pages": f"{limits.max_pages:,}"}
    size = f"{limits.memory_mb / 1024:g} GB" if limits.memory_mb >= 1024 else f"{limits.memory_mb} MB"
    return _gettext("the PDF needed more than %(size)s of memory to render") % {"size": size}


_LABELS = {
    "en": {"date": "Date", "reference": "Reference", "page": "Page"},
    "ko": {"date": "일자", "reference": "문서번호", "page": "쪽"},
}


def layout_html(
    rendered: RenderedNotice,
    *,
    title: str,
    author: str,
    lang: str,
    context: Mapping[str, Any] | None = None,
) -> str:
    """The full HTML document: the rendered body inside the trusted layout."""
    data = _plain(context or {})
    agency = data.get("agency") or {}
    notice = data.get("notice") or {}
    notice_date = str(notice.get("date") or "")
    created = notice_date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", notice_date) else ""
    return _LAYOUT_ENV.get_template("layout.html").render(
        title=title,
        author=author,
        lang=lang,
        labels=_LABELS.get(lang[:2], _LABELS["en"]),
        agency=agency,
        reference=str(notice.get("reference") or ""),
        date=_long_date(notice_date, lang[:2]) if notice_date else "",
        created=created,
        body=Markup(rendered.html),
    )


def render_pdf(
    rendered: RenderedNotice,
    *,
    title: str,
    author: str,
    lang: str,
    context: Mapping[str, Any] | None = None,
    limits: PdfLimits | None = None,
) -> bytes:
    """The notice as PDF bytes: the body inside the print layout, via WeasyPrint.

    `context` (the notice context) fills the letterhead: agency name and address,
    notice reference and date. The PDF's creation date is the notice date, and nothing
    else varies between runs, so the same input gives the same bytes (and SHA-256).
    Resources are fetched only from the layout folder; anything else is skipped with a
    WeasyPrint error in the log (see pdf_warnings()).

    The layout runs in a worker process (takedown.pdfworker) under `limits` (default:
    pdf_limits()). Raises PdfLimitExceeded naming the bound that was hit, or
    TemplateError if WeasyPrint fails on the document.
    """
    limits = limits or pdf_limits()
    document = layout_html(rendered, title=title, author=author, lang=lang, context=context)
    try:
        pdf, warnings = pdfworker.pool().render(document, limits)
    except pdfworker.PdfBoundExceeded as exc:
        raise PdfLimitExceeded(_bound_message(exc.bound, limits), bound=exc.bound) from None
    except pdfworker.PdfWorkerError as exc:
        # WeasyPrint failed on this document (not on the server): the template's fault.
        raise TemplateError(f"{_gettext('the PDF could not be rendered')}: {exc}") from None
    # Replayed here, in the calling thread, for pdf_warnings() and the server's log.
    logger = logging.getLogger("weasyprint")
    for level, message in warnings:
        logger.log(level, "%s", message)
    return pdf


class _ListHandler(logging.Handler):
    def __init__(self, thread: int) -> None:
        super().__init__(level=logging.WARNING)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def pdf_warnings() -> Iterator[list[str]]:
    """Collect WeasyPrint's warnings and errors raised in this thread.

    A glyph missing from every font ("tofu") is logged as
    '.notdef glyph rendered for Unicode string unsupported by fonts: ...' - the text
    still extracts correctly, so this log is the only way to notice it. Refused
    resources are logged as errors too.
    """
    logger = logging.getLogger("weasyprint")
    handler = _ListHandler(threading.get_ident())
    previous_level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def missing_glyphs(warnings: list[str]) -> list[str]:
    """The '.notdef' (missing glyph) messages among pdf_warnings()."""
    return [message for message in warnings if ".notdef" in message]


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()


# -- default templates shipped in fixtures/ ----------------------------------------------


@dataclass(frozen=True)
class DefaultTemplate:
    route: str
    locale: str
    subject: str
    body: str
    path: Path


_SUBJECT_LINE = re.compile(r"\A\{#\s*subject:\s*(?P<subject>.*?)\s*#\}[ \t]*\r?\n")


def load_default_templates(directory: Path = DEFAULT_TEMPLATES_DIR) -> list[DefaultTemplate]:
    """The default templates: one `<route>.<locale>.html.j2` file per route and locale,
    whose first line is `{# subject: ... #}` (see the README in that folder)."""
    templates = []
    for path in sorted(Path(directory).glob("*.html.j2")):
        route, locale = path.name.removesuffix(".html.j2").split(".")
        LegalRoute(route)
        Locale(locale)
        source = path.read_text(encoding="utf-8")
        match = _SUBJECT_LINE.match(source)
        if not match:
            raise ValueError(f"{path.name}: the first line must be {{# subject: ... #}}")
        templates.append(
            DefaultTemplate(
                route=route,
                locale=locale,
                subject=match["subject"],
                body=source[match.end() :],
                path=path,
            )
        )
    return templates
