"""Reading uploaded bytes: size, encoding, JSON syntax and nesting, and JSON Schema messages.

Everything here turns a failure into ``Problem``s a student can act on: the JSON module's and
jsonschema's own messages are rewritten (jsonschema's repeat the offending value with ``repr``,
which for a big or deeply nested value is long, and recursive).
"""

from __future__ import annotations

import difflib
import json
import math
import re
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .limits import Limits, exceeded
from .problems import Collector, FormatError, Problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

# What load() accepts: text, or bytes that must be UTF-8.
Source = str | bytes | bytearray | memoryview

SCHEMA_DIR = Path(__file__).resolve().parent


def decode(source: Source, limits: Limits) -> str:
    """The text of an upload: UTF-8 within ``max_bytes``, BOM dropped, newlines as \\n."""
    if isinstance(source, bytearray | memoryview):
        source = bytes(source)
    if isinstance(source, bytes):
        _check_size(len(source), limits)
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = source[: exc.start]
            line = before.count(b"\n") + 1
            col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
            raise FormatError([Problem(f"{line}:{col}", (
                f"the file is not UTF-8 text: byte 0x{source[exc.start]:02x} at line {line}, "
                f"column {col} cannot be read; save the file as UTF-8"))]) from None
    elif isinstance(source, str):
        if len(source) > limits.max_bytes:  # a character is at least one byte
            _check_size(len(source), limits)
        try:
            _check_size(len(source.encode("utf-8")), limits)
        except UnicodeEncodeError as exc:
            raise FormatError([Problem(_line_col(source, exc.start),
                                       "the text contains an invalid character (a lone "
                                       "surrogate); save the file as UTF-8")]) from None
        text = source
    else:
        raise TypeError(f"load() takes str or bytes, not {type(source).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    # Python and JSON both accept \r\n; one convention keeps every line:column consistent.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_bytes:
        raise FormatError([exceeded("", "max_bytes", limits.max_bytes,
                                    f"the file is {size:,} bytes")])


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"{line}:{pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


# -- JSON text --------------------------------------------------------------------------------
_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')
_JSON_MESSAGES = {
    "Expecting value": "expected a value here (a number, \"text\", [list] or {object})",
    "Expecting ',' delimiter": "expected a comma or a closing bracket here",
    "Expecting ':' delimiter": "expected a colon after the field name",
    "Expecting property name enclosed in double quotes":
        "expected a field name in double quotes (JSON allows no comma before } or ])",
    "Extra data": "unexpected text after the end of the JSON document",
}


class _Object(dict):
    """A JSON object that remembers keys it saw twice (json keeps only the last silently)."""

    duplicates: tuple[str, ...] = ()


def _parse_int(text: str) -> int | float:
    # Python refuses to convert integers of more than 4,300 digits (a ValueError); such a
    # number is over any sensible max_literal anyway, and the semantic checks will say so.
    return int(text) if len(text) < 100 else float(text)


def read_json(text: str, limits: Limits) -> Any:
    """The JSON value in ``text``; its nesting is checked before ``json.loads`` recurses."""
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_SPECIAL.finditer(text):
        pos = match.start()
        if pos == escaped_at:
            continue
        char = text[pos]
        if in_string:
            if char == "\\":
                escaped_at = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limits.max_depth:
                raise FormatError([exceeded(_line_col(text, pos), "max_depth", limits.max_depth,
                                            f"brackets are nested more than "
                                            f"{limits.max_depth} levels deep")])
        elif char in "]}":
            depth = max(depth - 1, 0)
    repeated: list[_Object] = []

    def make_object(pairs: list[tuple[str, Any]]) -> _Object:
        result = _Object(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            duplicates = []  # every repeat of a key, in order
            for k, _ in pairs:
                if k in seen:
                    duplicates.append(k)
                seen.add(k)
            result.duplicates = tuple(duplicates)
            repeated.append(result)
        return result

    try:
        data = json.loads(text, object_pairs_hook=make_object, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        message = _JSON_MESSAGES.get(exc.msg, exc.msg[:1].lower() + exc.msg[1:])
        raise FormatError([Problem(f"{exc.lineno}:{exc.colno}",
                                   f"JSON syntax error: {message}")]) from None
    except (RecursionError, MemoryError):
        raise FormatError([exceeded("", "max_depth", limits.max_depth,
                                    "the JSON is nested too deeply to read")]) from None
    except ValueError as exc:
        raise FormatError([Problem("", f"the JSON could not be read: {exc}")]) from None
    if repeated:  # rare, so only then is the document walked to say where
        raise FormatError(_duplicate_keys(data)[: limits.max_problems])
    return data


def _duplicate_keys(data: Any) -> list[Problem]:
    """Objects that repeat a field, found with an explicit stack (the document may be deep)."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                problems.append(Problem(f"{where}/{escape(key)}", f"the field {key!r} appears "
                                        "more than once in this object; write it once"))
            stack.extend((v, f"{where}/{escape(k)}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(value))
    return sorted(problems, key=lambda p: p.location)


# -- JSON pointers and values -----------------------------------------------------------------
def escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def pointer(path: Iterable[object]) -> str:
    return "".join(f"/{escape(part)}" for part in path)


def show(value: object) -> str:
    """A short description of a JSON value for messages (never a full, recursive repr)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value if len(value) <= 40 else value[:37] + "...")
        return f"the text {text}"
    if isinstance(value, int | float):
        return repr(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
    return "an object"


def finite_number(value: object, where: str, limits: Limits, problems: Collector) -> bool:
    """Report (into ``problems``, a Collector) a number that is not finite or too large."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.add(where, f"expected a number, got {show(value)}")
        return False
    if isinstance(value, float) and not math.isfinite(value):
        problems.add(where, f"{value} is not a finite number: values must be finite")
        return False
    if abs(value) > limits.max_literal:
        p = exceeded(where, "max_literal", float(limits.max_literal),
                     f"the number {value:.6g} is too large in magnitude")
        problems.add(p.location, p.message, p.limit)
        return False
    return True


# -- JSON Schema ------------------------------------------------------------------------------
@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@cache
def validator(name: str, definition: str | None = None) -> Draft202012Validator:
    """A validator for a schema file, or for one of its ``$defs`` (sharing its references)."""
    Draft202012Validator = _jsonschema_validator()
    whole = schema(name)
    if definition is None:
        return Draft202012Validator(whole)
    part = {"$ref": f"#/$defs/{definition}", "$defs": whole["$defs"]}
    return Draft202012Validator(part)


def _jsonschema_validator():
    """jsonschema's validator class, imported on first use and without its IRI format checker.
    When rfc3987-syntax is installed (JupyterLab brings it), jsonschema's import builds that
    checker's grammar: ~1.4 s, which every command line paid, and ~20 MB that stay resident in
    the server. Our schemas use no ``format``, and jsonschema checks formats only when asked;
    it skips a checker whose module does not import."""
    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # its import fails
        try:
            from jsonschema import Draft202012Validator
        finally:
            del sys.modules["rfc3987_syntax"]
        return Draft202012Validator
    from jsonschema import Draft202012Validator

    return Draft202012Validator


_TYPES = {"object": "an object {...}", "array": "a list [...]", "string": "text in quotes",
          "number": "a number", "integer": "a whole number", "boolean": "true or false",
          "null": "null"}


def schema_problems(found: Any, instance: Any, prefix: str = "") -> list[Problem]:
    """jsonschema errors (``found``: a validator, or errors) as problems at JSON pointers."""
    errors = found.iter_errors(instance) if hasattr(found, "iter_errors") else found
    problems = []
    for error in errors:
        where = prefix + pointer(error.absolute_path)
        problems.extend(_translate(error, where))
    return sorted(set(problems), key=lambda p: pointer_key(p.location))


def _translate(error: Any, where: str) -> list[Problem]:
    kind, rule, value = error.validator, error.validator_value, error.instance
    if kind == "type":
        expected = " or ".join(_TYPES.get(t, t) for t in ([rule] if isinstance(rule, str)
                                                          else rule))
        return [Problem(where, f"expected {expected}, got {show(value)}")]
    if kind == "required":
        return [Problem(where, f"missing the field {key!r}") for key in rule
                if isinstance(value, dict) and key not in value]
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        out = []
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                out.append(Problem(f"{where}/{escape(key)}", f"unknown field {key!r}; {hint}"
                                   f"the fields here are: {', '.join(allowed)}"))
        return out
    if kind == "const":
        return [Problem(where, f"must be {json.dumps(rule)}, got {show(value)}")]
    if kind == "enum":
        options = [str(o) for o in rule]
        close = difflib.get_close_matches(str(value), options, n=1) if isinstance(value,
                                                                                  str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return [Problem(where, f"{show(value)} is not one of: {', '.join(options)}{hint}")]
    messages = {
        "minItems": lambda: f"needs at least {rule} item{'s' * (rule != 1)}",
        "maxItems": lambda: f"has {len(value)} items; at most {rule} allowed",
        "minimum": lambda: f"must be at least {rule}, got {show(value)}",
        "maximum": lambda: f"must be at most {rule}, got {show(value)}",
        "minLength": lambda: "must not be empty" if rule == 1 else f"needs {rule}+ characters",
        "maxLength": lambda: f"is {len(value)} characters long; at most {rule} allowed",
        "pattern": lambda: f"{show(value)} is not a valid name: start with a letter or _, then "
                           "letters, digits, _ . or -",
        "uniqueItems": lambda: "lists the same item more than once",
        "minProperties": lambda: "must not be empty",
    }
    make = messages.get(kind)
    return [Problem(where, make() if make else f"breaks the schema rule {kind!r}")]


def pointer_key(location: str) -> list[tuple[int, int, str]]:
    return [(0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p)
            for p in location.split("/")]
