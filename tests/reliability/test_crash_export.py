"""An export killed with SIGKILL in the middle of writing leaves no file at its destination, and the next start of
the app removes the partial file and the work folders it left behind, but never those of a run still going."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fanremix.domain import policy_templates
from fanremix.domain.atomic import TEMP_PREFIX
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack
from tests.conftest import write_tone_stems

# The child exports for real and, once the export has written part of its file, says so and waits to be killed.
EXPORTER = r"""
import sys, time
from pathlib import Path
from fanremix.audio.offline import render_to_file
from fanremix.domain.recipe import Recipe
from fanremix.rights.packfile import open_pack
from fanremix.workspace import Workspace

mode, pack_path, destination = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
opened = open_pack(pack_path, Workspace.from_environment().keyring())
manifest = opened.manifest
recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems])


def caught_in_the_act(stage, fraction):
    if stage == "encode" and 0.2 < fraction < 1.0:
        print("WRITING", flush=True)
        time.sleep(600)


if mode == "render":
    render_to_file(manifest, opened.stem_paths, recipe, destination, progress=caught_in_the_act)
else:
    from fanremix.provenance_flow import export_with_provenance
    from fanremix.rights import c2pa
    from fanremix.rights.identity import create_fan_identity

    identity = create_fan_identity(Path(sys.argv[4]), "Ada")
    write_tags = c2pa.write_credit_tags

    def tags_then_wait(path, record):  # the tagged copy exists beside the destination; signing comes next
        write_tags(path, record)
        print("WRITING", flush=True)
        time.sleep(600)

    c2pa.write_credit_tags = tags_then_wait
    export_with_provenance(opened, recipe, destination, "wav", identity)
print("FINISHED", flush=True)
"""


@pytest.fixture
def ten_second_pack(tmp_path: Path, publisher_key) -> Path:
    write_tone_stems(tmp_path / "stems", {"drums": 110.0, "bass": 55.0}, seconds=10.0)
    sources = [StemSource(tmp_path / "stems" / f"{n}.wav", role=n) for n in ("drums", "bass")]
    metadata = PackMetadata(id="crash-test", title="Crash Test", artists=("Tester",), bpm=120, key="A minor")
    build_pack(sources, metadata, policy_templates.open_remix(), publisher_key, tmp_path / "song.fanpack")
    return tmp_path / "song.fanpack"


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    """The children's environment: the test's user folders, and a private system temp dir to look into."""
    temp = tmp_path / "system-temp"
    temp.mkdir()
    return {**os.environ, "TMPDIR": str(temp)}


def start_export(mode: str, pack: Path, destination: Path, env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", EXPORTER, mode, str(pack), str(destination), str(tmp_path / "identity")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = child.stdout.readline().strip()
    assert line == "WRITING", f"the export did not get to writing: {line!r} {child.stderr.read()[-2000:]}"
    return child


def next_start(env: dict[str, str]) -> None:
    """Start the app's command as a user would (any sub-command cleans up first)."""
    subprocess.run([sys.executable, "-m", "fanremix", "keys", "list"], env=env, check=True, capture_output=True)


def leftovers(destination: Path, env: dict[str, str]) -> list[str]:
    beside = [p.name for p in destination.parent.glob(TEMP_PREFIX + "*")]
    temp = [p.name for p in Path(env["TMPDIR"]).glob("fanremix-*") if not p.name.startswith("fanremix-partials-")]
    return sorted(beside + temp)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["render", "sign"])
def test_an_export_killed_mid_write_leaves_nothing_once_the_app_starts_again(
    mode: str, ten_second_pack: Path, child_env, tmp_path: Path
) -> None:
    destination = tmp_path / "exports" / "remix.wav"
    child = start_export(mode, ten_second_pack, destination, child_env, tmp_path)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdout.close()
    child.stderr.close()

    assert not destination.exists(), "a partial export sits at the destination"
    left = leftovers(destination, child_env)
    assert any(name.startswith(TEMP_PREFIX) for name in left), f"the kill did not land mid-write: {left}"
    assert any(name.startswith("fanremix-pack-") for name in left), left
    if mode == "sign":
        assert any(name.startswith("fanremix-export-") for name in left), left

    next_start(child_env)
    assert leftovers(destination, child_env) == []
    assert not destination.exists()


@pytest.mark.slow
def test_the_next_start_leaves_the_files_of_an_export_still_running_alone(
    ten_second_pack: Path, child_env, tmp_path: Path
) -> None:
    destination = tmp_path / "exports" / "remix.wav"
    running = start_export("render", ten_second_pack, destination, child_env, tmp_path)
    try:
        before = leftovers(destination, child_env)
        next_start(child_env)  # another window or command starts while the export runs
        assert leftovers(destination, child_env) == before and before
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait(10)
        running.stdout.close()
        running.stderr.close()
    next_start(child_env)
    assert leftovers(destination, child_env) == []
