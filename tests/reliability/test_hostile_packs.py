"""Hostile packs on disk: each is refused with its own typed error, within a time and memory bound, leaving nothing
behind. The attacks are in `hostile.py`; the bounds are stated here and printed with `-s`."""

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from fanremix.audio.stems import decode_stems
from fanremix.domain.errors import FanRemixError
from fanremix.rights.packfile import open_pack

from .hostile import ATTACKS, Attack, Forge

# Stated bounds. Refusal is decided from headers, pack.json and at most two 0.25 s stems, so a fraction of a second
# is plenty; the slack is for a loaded two-core CI machine. Memory is what Python allocates while refusing (the
# zip bombs would need a GiB if they were inflated); the RSS bound below covers what native code allocates too.
MAX_SECONDS = 2.0
MAX_PYTHON_HEAP_BYTES = 48 << 20
MAX_RSS_GROWTH_BYTES = 256 << 20


@pytest.fixture
def forge(tmp_path: Path, publisher_key) -> Forge:
    folder = tmp_path / "hostile"
    folder.mkdir()
    return Forge(key=publisher_key, folder=folder)


def refuse(attack: Attack, path: Path, keyring, workdir: Path) -> FanRemixError:
    """Open (and, for decode-stage attacks, decode) `path`; return the typed error it was refused with."""
    try:
        with open_pack(path, keyring, workdir=workdir) as opened:
            if not attack.on_decode:
                raise AssertionError(f"{attack.name}: the pack opened")
            decode_stems(opened.manifest, opened.stem_paths)
    except FanRemixError as error:
        return error
    raise AssertionError(f"{attack.name}: the pack was decoded without complaint")


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_a_hostile_pack_is_refused_with_a_typed_error_within_bounds(attack: Attack, forge, workspace, tmp_path) -> None:
    path = attack.build(forge)
    workdir = tmp_path / "extract"
    workdir.mkdir()
    keyring = workspace.keyring()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        error = refuse(attack, path, keyring, workdir)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(error)
    print(
        f"\n{attack.name}: {type(error).__name__} in {seconds * 1000:.1f} ms, heap peak {peak / 1e6:.2f} MB: {message}"
    )
    assert isinstance(error, attack.refused_with), (
        f"{attack.name} ({attack.what}): {type(error).__name__}: {message:.300}"
    )
    assert 20 < len(message) < 1000, "the message must be a sentence a person reads"
    assert seconds < MAX_SECONDS, f"{attack.name} took {seconds:.2f} s"
    if not attack.on_decode:  # decoding allocates the declared length up front (untouched pages; see the RSS test)
        assert peak < MAX_PYTHON_HEAP_BYTES, f"{attack.name} allocated {peak / 1e6:.0f} MB"
    assert list(workdir.iterdir()) == [], "the refused pack's temp files were left behind"


def test_the_planted_trust_entry_was_not_read(forge, workspace) -> None:
    """The key-id traversal attack must fail because the id is refused, not because the planted file was missing."""
    attack = next(a for a in ATTACKS if a.name == "signature-key-id-traversal")
    path = attack.build(forge)
    assert (forge.folder / "planted.json").is_file()
    with pytest.raises(attack.refused_with, match=r"does not trust|not a valid key id"):
        open_pack(path, workspace.keyring())


RUNNER = """
import json, resource, sys, time
from pathlib import Path
from fanremix.audio.stems import decode_stems
from fanremix.domain.errors import FanRemixError
from fanremix.rights.packfile import open_pack
from fanremix.workspace import Workspace

keyring = Workspace.from_environment().keyring()
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"baseline": baseline}), flush=True)
for line in sys.stdin:
    name, path, decode = json.loads(line)
    started = time.perf_counter()
    try:
        with open_pack(Path(path), keyring) as opened:
            if decode:
                decode_stems(opened.manifest, opened.stem_paths)
        outcome = "opened"
    except FanRemixError as error:
        outcome = type(error).__name__
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"name": name, "outcome": outcome, "seconds": seconds, "max_rss": rss}), flush=True)
"""


@pytest.mark.slow
def test_every_hostile_pack_in_one_process_stays_within_the_rss_bound(forge, workspace) -> None:
    """All attacks in one real process: its peak resident memory (native allocations included) stays bounded."""
    lines = [json.dumps([a.name, str(a.build(forge)), a.on_decode]) for a in ATTACKS]
    result = subprocess.run(
        [sys.executable, "-c", RUNNER],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    baseline = rows[0]["baseline"]
    for row in rows[1:]:
        growth = row["max_rss"] - baseline
        print(
            f"{row['name']}: {row['outcome']} in {row['seconds'] * 1000:.1f} ms, RSS high-water +{growth / 1e6:.1f} MB"
        )
    assert all(row["outcome"] != "opened" for row in rows[1:])
    assert rows[-1]["max_rss"] - baseline < MAX_RSS_GROWTH_BYTES
