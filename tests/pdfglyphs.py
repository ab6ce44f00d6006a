"""Where every glyph of a PDF lands on its page, read back from the content streams.

A small interpreter of the PDF text operators (PDF 32000-1 §9.4) over pypdf's parsed
content streams: graphics state (q, Q, cm), text state (Tf, Tc, Tw, Tz, TL, Ts), text
positioning (Tm, Td, TD, T*) and showing (Tj, TJ, ', "), with glyph widths from the
fonts' /W or /Widths arrays, following form XObjects (Do). Each glyph's box runs from its
origin to its advance along the baseline, from its font's descent to its ascent.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """m × n in PDF's row-vector convention (apply m first, then n)."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return (x * a + y * c + e, x * b + y * d + f)


@dataclass(frozen=True)
class Glyph:
    page: int
    code: int
    x0: float
    y0: float
    x1: float
    y1: float


class _Font:
    def __init__(self, font: Any) -> None:
        font = font.get_object()
        self.two_byte = font.get("/Subtype") == "/Type0"
        self.widths: dict[int, float] = {}
        descriptor: Any = None
        if self.two_byte:
            cid_font = font["/DescendantFonts"][0].get_object()
            self.default = float(cid_font.get("/DW", 1000))
            descriptor = cid_font.get("/FontDescriptor")
            w = list(cid_font.get("/W", []))
            i = 0
            while i < len(w):
                first = int(w[i])
                if isinstance(w[i + 1].get_object(), list):
                    for offset, width in enumerate(w[i + 1].get_object()):
                        self.widths[first + offset] = float(width)
                    i += 2
                else:
                    last, width = int(w[i + 1]), float(w[i + 2])
                    for code in range(first, last + 1):
                        self.widths[code] = width
                    i += 3
        else:
            self.default = 0.0
            descriptor = font.get("/FontDescriptor")
            first = int(font.get("/FirstChar", 0))
            for offset, width in enumerate(font.get("/Widths", [])):
                self.widths[first + offset] = float(width)
        descriptor = descriptor.get_object() if descriptor is not None else {}
        self.ascent = float(descriptor.get("/Ascent", 800)) / 1000
        self.descent = float(descriptor.get("/Descent", -200)) / 1000

    def codes(self, data: bytes) -> list[int]:
        if self.two_byte:
            return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return list(data)

    def width(self, code: int) -> float:
        return self.widths.get(code, self.default) / 1000


def _raw(operand: Any) -> bytes:
    if isinstance(operand, bytes):
        return bytes(operand)
    # pypdf decodes content-stream strings to text; re-encoding gives the original
    # bytes back, behind a byte-order mark when it had decoded them as UTF-16.
    data = operand.get_original_bytes()
    return data[2:] if data.startswith(b"\xfe\xff") else data


_SHOWING = ("Tj", "TJ", "'", '"')


class _TextState:
    """The graphics and text state of one content stream, as its operators change it."""

    def __init__(self, fonts: dict[str, _Font], ctm: Matrix) -> None:
        self.fonts = fonts
        self.ctm = ctm
        self.stack: list[tuple[Matrix, dict]] = []
        self.state: dict[str, Any] = {"Tc": 0.0, "Tw": 0.0, "Th": 1.0, "TL": 0.0, "Ts": 0.0, "size": 0.0}
        self.tm = self.tlm = IDENTITY

    def set(self, op: str, operands: list[Any]) -> None:
        """Graphics and text state: q, Q, cm, BT, Tf, Tc, Tw, TL, Ts, Tz."""
        if op == "q":
            self.stack.append((self.ctm, dict(self.state)))
        elif op == "Q":
            self.ctm, self.state = self.stack.pop()
        elif op == "cm":
            self.ctm = multiply(tuple(float(v) for v in operands), self.ctm)  # type: ignore[arg-type]
        elif op == "BT":
            self.tm = self.tlm = IDENTITY
        elif op == "Tf":
            self.state["font"], self.state["size"] = self.fonts[operands[0]], float(operands[1])
        elif op in ("Tc", "Tw", "TL", "Ts"):
            self.state[op] = float(operands[0])
        elif op == "Tz":
            self.state["Th"] = float(operands[0]) / 100

    def move(self, op: str, operands: list[Any]) -> None:
        """Text positioning: Tm, Td, TD, T*, and the next line that ' and " start with."""
        if op == "Tm":
            self.tm = self.tlm = tuple(float(v) for v in operands)  # type: ignore[assignment]
        elif op in ("Td", "TD"):
            tx, ty = float(operands[0]), float(operands[1])
            if op == "TD":
                self.state["TL"] = -ty
            self.tm = self.tlm = multiply((1, 0, 0, 1, tx, ty), self.tlm)
        elif op in ("T*", "'", '"'):
            if op == '"':
                self.state["Tw"], self.state["Tc"] = float(operands[0]), float(operands[1])
            self.tm = self.tlm = multiply((1, 0, 0, 1, 0, -self.state["TL"]), self.tlm)

    def show(self, page_number: int, op: str, operands: list[Any]) -> Iterator[Glyph]:
        """The glyphs of Tj, TJ, ' and ", advancing the text matrix past each."""
        font: _Font = self.state["font"]
        size, th = self.state["size"], self.state["Th"]
        for part in operands[0] if op == "TJ" else [operands[-1]]:
            if not isinstance(part, (bytes, str)):  # a TJ adjustment, in thousandths of a unit
                self.tm = multiply((1, 0, 0, 1, -float(part) / 1000 * size * th, 0), self.tm)
                continue
            for code in font.codes(_raw(part)):
                w0 = font.width(code)
                trm = multiply((size * th, 0, 0, size, 0, self.state["Ts"]), multiply(self.tm, self.ctm))
                corners = [apply(trm, x, y) for x in (0, w0) for y in (font.descent, font.ascent)]
                xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                yield Glyph(page_number, code, min(xs), min(ys), max(xs), max(ys))
                space = self.state["Tw"] if (not font.two_byte and code == 32) else 0.0
                self.tm = multiply((1, 0, 0, 1, (w0 * size + self.state["Tc"] + space) * th, 0), self.tm)


def _glyphs_in(
    reader: PdfReader, page_number: int, content: Any, resources: Any, ctm: Matrix
) -> Iterator[Glyph]:
    fonts = {name: _Font(font) for name, font in (resources.get("/Font") or {}).items()}
    xobjects = resources.get("/XObject") or {}
    text = _TextState(fonts, ctm)

    for operands, operator in ContentStream(content, reader).operations:
        op = operator.decode("latin-1") if isinstance(operator, bytes) else str(operator)
        if op == "Do":
            yield from _form_glyphs(reader, page_number, xobjects[operands[0]], resources, text.ctm)
        text.set(op, operands)
        text.move(op, operands)
        if op in _SHOWING:
            yield from text.show(page_number, op, operands)


def _form_glyphs(
    reader: PdfReader, page_number: int, xobject: Any, resources: Any, ctm: Matrix
) -> Iterator[Glyph]:
    """The glyphs of a form XObject (Do), in its own resources and matrix."""
    xobject = xobject.get_object()
    if xobject.get("/Subtype") == "/Form":
        matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
        inner = xobject.get("/Resources") or resources
        yield from _glyphs_in(reader, page_number, xobject, inner, multiply(matrix, ctm))  # type: ignore[arg-type]


def glyphs(pdf: bytes) -> Iterator[tuple[Glyph, tuple[float, float, float, float]]]:
    """Every glyph drawn in the PDF with its page's media box (x0, y0, x1, y1)."""
    reader = PdfReader(io.BytesIO(pdf))
    for number, page in enumerate(reader.pages, start=1):
        box = tuple(float(v) for v in page.mediabox)
        for glyph in _glyphs_in(reader, number, page.get_contents(), page["/Resources"], IDENTITY):
            yield glyph, box  # type: ignore[misc]


def glyphs_outside(pdf: bytes, *, inset: float) -> list[Glyph]:
    """The glyphs that reach closer than `inset` points to their page's edge."""
    outside = []
    for glyph, (left, bottom, right, top) in glyphs(pdf):
        if (
            glyph.x0 < left + inset
            or glyph.x1 > right - inset
            or glyph.y0 < bottom + inset
            or glyph.y1 > top - inset
        ):
            outside.append(glyph)
    return outside
