"""Every input a fuzzer or a hostile-pack test once crashed on, kept as a file and replayed: each must now end in a
typed error. A file's name says what reads it: `<reader>--<what was wrong>.<ext>`."""

import zipfile
from pathlib import Path

import pytest

from fanremix.audio.stems import decode_stem
from fanremix.domain.errors import FanRemixError
from fanremix.domain.policy import Policy
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest
from fanremix.gui.project import load_project
from fanremix.rights.c2pa import record_from_manifest
from fanremix.rights.packfile import open_pack

REGRESSIONS = Path(__file__).parent / "regressions"
# Readers outside what this suite may change: the crash is reported to the module's owners and kept failing here
# (strictly, so the test says so once it is fixed).
KNOWN_OPEN: dict[str, str] = {}


def _open_manifest_in_a_pack(path: Path, workspace, tmp_path: Path) -> None:
    pack = tmp_path / "regression.fanpack"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr("pack.json", path.read_bytes())
    open_pack(pack, workspace.keyring()).close()


READERS = {
    "pack-json": lambda path, **_: PackManifest.from_json(path.read_bytes()).pack_hash(),
    "pack-json-open": lambda path, workspace, tmp_path: _open_manifest_in_a_pack(path, workspace, tmp_path),
    "recipe": lambda path, **_: Recipe.from_json(path.read_bytes()).recipe_hash(),
    "policy": lambda path, **_: Policy.from_json(path.read_bytes()).policy_hash(),
    "project": lambda path, **_: load_project(path),
    "c2pa-manifest": lambda path, **_: record_from_manifest(__import__("json").loads(path.read_text())),
    "fanpack": lambda path, workspace, **_: open_pack(path, workspace.keyring()).close(),
    "stem": lambda path, **_: decode_stem(path, 4410, 44100),
}


def _cases() -> list:
    cases = []
    for path in sorted(REGRESSIONS.iterdir()):
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_OPEN[path.name])] if path.name in KNOWN_OPEN else []
        cases.append(pytest.param(path, id=path.name, marks=marks))
    return cases


@pytest.mark.parametrize("path", _cases())
def test_a_kept_crash_input_now_ends_in_a_typed_error(path: Path, workspace, tmp_path) -> None:
    reader = READERS[path.name.split("--")[0]]
    with pytest.raises(FanRemixError) as refused:
        reader(path, workspace=workspace, tmp_path=tmp_path)
    assert str(refused.value).strip()
