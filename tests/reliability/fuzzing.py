"""Shared pieces of the fuzz tests: case counts, strategies for JSON and for byte mutations, a time bound per case.

`make test` runs a fixed, derandomised number of cases per target (the same inputs every run, so a failure
reproduces). `make fuzz` sets FANREMIX_FUZZ_EXAMPLES to run many more, randomised; a crash found there is
printed by hypothesis with a reproduction blob, and its input is kept under `regressions/`.
"""

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from fanremix.domain.errors import FanRemixError

LONG_RUN = bool(os.environ.get("FANREMIX_FUZZ_EXAMPLES"))
MAX_SECONDS_PER_CASE = 5.0  # nothing a parser does with one input may take longer (a hang is a failure)
CASES: Counter[str] = Counter()  # cases run per target in this session, printed at the end (see conftest)


def fuzz_settings(fast_examples: int) -> settings:
    examples = int(os.environ.get("FANREMIX_FUZZ_EXAMPLES") or fast_examples)
    return settings(
        max_examples=examples,
        deadline=None,  # the per-case bound below is ours, and is checked on every input
        derandomize=not LONG_RUN,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def only_typed_errors(target: str, call: Callable[[], Any]) -> Any:
    """Run `call`; a FanRemixError is a fine answer, any other exception fails the case, and so does slowness."""
    CASES[target] += 1
    started = time.perf_counter()
    try:
        return call()
    except FanRemixError as error:
        assert str(error).strip(), f"{target}: {type(error).__name__} with an empty message"
        return error
    finally:
        elapsed = time.perf_counter() - started
        assert elapsed < MAX_SECONDS_PER_CASE, f"{target}: one input took {elapsed:.1f} s"


# -- JSON ---------------------------------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)


@st.composite
def mutated_document(draw: st.DrawFn, document: Any) -> Any:
    """`document` with a few of its values replaced, deleted or retyped, at any depth."""
    doc = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        parent, key = _locate(doc, path)
        if parent is None:
            doc = draw(json_values)
            continue
        action = draw(st.sampled_from(["replace", "delete", "retype", "grow"]))
        if action == "delete" and isinstance(parent, dict):
            parent.pop(key, None)
        elif action == "retype":
            parent[key] = draw(st.sampled_from([[], {}, "", 0, -1, 1e308, None, True, "x" * 300, [[[]]]]))
        elif action == "grow" and isinstance(parent[key], list) and parent[key]:
            parent[key] = parent[key] * draw(st.integers(2, 80))
        else:
            parent[key] = draw(json_values)
    return doc


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _locate(doc: Any, path: tuple) -> tuple[Any, Any]:
    if not path:
        return None, None
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


def json_text(value: Any) -> bytes:
    """JSON as a hostile writer might send it: NaN and Infinity included (Python's json reads them)."""
    return json.dumps(value, allow_nan=True).encode("utf-8")


# -- bytes ----------------------------------------------------------------------------------------------------------


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes, focus: tuple[int, int] | None = None) -> bytes:
    """`data` with bytes flipped, overwritten with interesting values, cut, or spliced; `focus` biases where."""
    raw = bytearray(data)
    low, high = focus or (0, len(raw))
    for _ in range(draw(st.integers(1, 8))):
        if not raw:
            break
        high = min(high, len(raw))
        where = draw(st.integers(min(low, high - 1), max(high - 1, 0)))
        action = draw(st.sampled_from(["flip", "interesting", "cut", "insert", "duplicate"]))
        if action == "flip":
            raw[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "interesting":
            value = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, 0xFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000]))
            width = draw(st.sampled_from([1, 2, 4]))
            raw[where : where + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        elif action == "cut":
            del raw[where : where + draw(st.integers(1, 64))]
        elif action == "insert":
            raw[where:where] = draw(st.binary(min_size=1, max_size=16))
        else:
            raw[where:where] = raw[where : where + draw(st.integers(1, 64))]
    return bytes(raw)
