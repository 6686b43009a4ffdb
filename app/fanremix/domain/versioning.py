"""Versioned JSON documents: a `format` field and a chain of migrations up to the current version."""

from collections.abc import Callable, Mapping
from typing import Any

from .errors import FormatError
from .fields import is_whole_number

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def migrate(
    data: Any,
    *,
    kind: str,
    current: int,
    migrations: Mapping[int, Migration],
    error: type[FormatError] = FormatError,
) -> dict[str, Any]:
    """Upgrade `data` to format `current`. `migrations[n]` turns format n into format n + 1."""
    if not isinstance(data, dict):
        raise error(f"The {kind} must be a JSON object, not {type(data).__name__}.")
    version = data.get("format")
    if not is_whole_number(version) or version < 1:
        raise error(f"The {kind} has no valid 'format' version number.")
    if version > current:
        raise error(
            f"The {kind} uses format {version}, but this app reads up to format {current}. "
            "Update Fan Remix Studio to open it."
        )
    data = dict(data)
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise error(f"No migration of the {kind} from format {version} to {version + 1}.")
        data = step(data)
        version += 1
        data["format"] = version
    return data
