"""Type checks for the fields of untrusted JSON documents, written once for every reader of them.

In Python `True` is an `int`, and the json module reads NaN and Infinity, so "a number" and "a whole number" need
more than an `isinstance`. Each reader words its own refusals: a `FieldReader` is made with a function that turns
(field name, what the field must be) into that reader's error.
"""

import math
from collections.abc import Callable, Mapping
from typing import Any

FieldError = Callable[[str, str], Exception]  # (field name, "text" / "a whole number" / ...) -> the error to raise


def is_number(value: Any) -> bool:
    """An int or a float, but not a bool (NaN and infinities included: see `is_finite_number`)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def is_whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class FieldReader:
    """Reads typed fields of a JSON object. A missing field, or `data` that is not an object, is refused like a field
    of the wrong type."""

    def __init__(self, error: FieldError):
        self.error = error

    def _field(self, data: Any, name: str, valid: Callable[[Any], bool], kind: str) -> Any:
        value = data.get(name) if isinstance(data, Mapping) else None
        if not valid(value):
            raise self.error(name, kind)
        return value

    def text(self, data: Any, name: str) -> str:
        return self._field(data, name, lambda v: isinstance(v, str), "text")

    def optional_text(self, data: Any, name: str) -> str | None:
        return self._field(data, name, lambda v: v is None or isinstance(v, str), "text or null")

    def whole_number(self, data: Any, name: str) -> int:
        return self._field(data, name, is_whole_number, "a whole number")

    def flag(self, data: Any, name: str) -> bool:
        return self._field(data, name, lambda v: isinstance(v, bool), "true or false")

    def array(self, data: Any, name: str) -> list[Any]:
        return self._field(data, name, lambda v: isinstance(v, list), "a list")

    def mapping(self, data: Any, name: str) -> Mapping[str, Any]:
        return self._field(data, name, lambda v: isinstance(v, Mapping), "an object")
