"""Coverage-guided fuzzing with atheris (libFuzzer) of the parsers of untrusted input, for `make fuzz`.

    python -m tests.reliability.fuzz_atheris -atheris_runs=200000 [corpus_dir]

The first byte of an input picks the target (pack.json, recipe, project file, C2PA manifest JSON, a whole .fanpack);
the rest is the input. A FanRemixError is a fine answer; anything else is a crash, which libFuzzer saves as
`crash-<sha1>`: replay it, fix the module, and keep the input under `tests/reliability/regressions/`.
"""

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from fanremix.domain.errors import FanRemixError
    from fanremix.domain.recipe import Recipe
    from fanremix.domain.stem_pack import PackManifest
    from fanremix.gui.project import load_project
    from fanremix.rights.c2pa import record_from_manifest
    from fanremix.rights.keyring import Keyring
    from fanremix.rights.packfile import open_pack

WORK = Path(tempfile.mkdtemp(prefix="fanremix-atheris-"))
KEYRING = Keyring(WORK / "keyring")


def _pack(data: bytes) -> None:
    path = WORK / "input.fanpack"
    path.write_bytes(data)
    open_pack(path, KEYRING, workdir=WORK).close()


def _project(data: bytes) -> None:
    path = WORK / "input.fanremix"
    path.write_bytes(data)
    with contextlib.suppress(RecursionError):  # known, reported to the GUI's owners: KNOWN_OPEN, test_regressions.py
        load_project(path)


def _c2pa_manifest(data: bytes) -> None:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return
    if isinstance(document, dict):
        record_from_manifest(document)


TARGETS = (
    lambda data: PackManifest.from_json(data).pack_hash(),
    lambda data: Recipe.from_json(data).recipe_hash(),
    _project,
    _c2pa_manifest,
    _pack,
)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    with contextlib.suppress(FanRemixError):
        target(data[1:])


def seed_corpus(folder: Path) -> None:
    """Start from real documents: the regression files, keyed to their targets."""
    folder.mkdir(parents=True, exist_ok=True)
    prefixes = {"pack-json": 0, "recipe": 1, "project": 2, "c2pa-manifest": 3, "fanpack": 4}
    for path in (Path(__file__).parent / "regressions").iterdir():
        index = prefixes.get(path.name.split("--")[0])
        if index is not None:
            (folder / f"seed-{path.name}").write_bytes(bytes([index]) + path.read_bytes())


def main() -> None:
    corpus = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if corpus:
        seed_corpus(Path(corpus[0]))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
