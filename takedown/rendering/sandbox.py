"""The Jinja2 sandbox that renders notice templates, and its limits.

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
"""

from __future__ import annotations

import html as html_lib
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, wraps
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

from takedown.choices import Locale
from takedown.rendering.text import html_to_text

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
