"""One error class for everything a user can get wrong, printed for people."""

from __future__ import annotations

from typing import Iterable

from .ast import Span


class SymparamError(ValueError):
    """A mistake in an expression, a size or a binding.

    `message` is one line; when the mistake has a place in the source, `line` and
    `column` say where and `str()` adds that line of source with a caret under it.
    """

    def __init__(self, message: str, span: Span | None = None, source: str | None = None):
        self.message = message
        self.span = span if span is not None and span.line > 0 else None
        self.source = source
        super().__init__(self.render())

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def with_source(self, source: str) -> "SymparamError":
        """The same error, told which text its position refers to."""
        return SymparamError(self.message, self.span, self.source or source)

    def render(self) -> str:
        if self.span is not None and self.span.origin is not None:  # in a file it uses
            origin = self.span.origin
            where = f"{origin.name}:{self.span.line}:{self.span.column}"
            return f"{where}: {self.message}\n{caret(origin.text, self.span)}"
        if self.span is None or self.source is None:
            return self.message
        return f"{self.span.line}:{self.span.column}: {self.message}\n{caret(self.source, self.span)}"


def caret(source: str, span: Span) -> str:
    """The source line of `span` with a caret under its first character (and ~ after).
    Lines end at "\n" alone, as the parser counts them: a lone "\r", a form feed or
    U+2028 is shown as a space, so that the caret stays under its column."""
    lines = source.split("\n")
    text = "".join(
        char if char.isprintable() or char == "\t" else " "
        for char in lines[min(span.line, len(lines)) - 1]
    )
    width = max(1, min(span.end - span.start, len(text) - span.column + 1))
    indent = "".join("\t" if char == "\t" else " " for char in text[: span.column - 1])
    return f"  {text}\n  {indent}^{'~' * (width - 1)}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'dense'?' for the closest choice, or '' when nothing is close."""
    import difflib  # only on the error path

    choices = list(choices)
    lowered: dict[str, str] = {}
    for choice in choices:  # the first spelling wins: canonical names come before aliases
        lowered.setdefault(choice.lower(), choice)
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean '{lowered[close[0]]}'?" if close else ""
