"""Fuzzing the JSON documents that arrive from outside: pack.json, recipes, projects (and autosaves), policies,
grants and the provenance record read back from a C2PA manifest. Every input ends in a result or a typed error."""

import base64
import datetime as dt
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fanremix.domain import policy_templates
from fanremix.domain.policy import Policy, Use
from fanremix.domain.provenance import ProvenanceRecord
from fanremix.domain.recipe import Effect, Recipe
from fanremix.domain.stem_pack import PackManifest
from fanremix.gui.project import Project, load_project
from fanremix.rights.c2pa import build_manifest, record_from_manifest
from fanremix.rights.grants import Grant, GrantSigner, verify_grant
from fanremix.rights.grants import signing_bytes as grant_signing_bytes
from fanremix.rights.signing import PublisherKey, verify_signature

from .fuzzing import fuzz_settings, json_text, json_values, mutated_bytes, mutated_document, only_typed_errors
from .hostile import Forge, flac_bytes, tone, wav_bytes

KEY = PublisherKey.generate()
FORGE = Forge(key=KEY, folder=Path("."))
_drums, _bass = wav_bytes(tone()), flac_bytes(tone())
MANIFEST = KEY.sign(
    FORGE.manifest([FORGE.stem("drums", _drums, role="drums"), FORGE.stem("bass", _bass, file="bass.flac")])
)
MANIFEST = KEY.sign(
    PackManifest.from_dict({**MANIFEST.to_dict(), "policy": policy_templates.demo().to_dict(), "signature": None})
)
RECIPE = (
    Recipe.for_stems(MANIFEST.id, MANIFEST.pack_hash(), ["drums", "bass"], app_version="0.1.0")
    .with_stem("drums", gain_db=-3.0, pan=0.25, chain=(Effect.of("Reverb", room_size=0.7),))
    .with_chain("master", (Effect.of("Limiter", threshold_db=-1.0),))
)
PROJECT = Project(recipe=RECIPE, pack_path=Path("song.fanpack"), pack_id=MANIFEST.id, pack_hash=MANIFEST.pack_hash())
SIGNER_KEY = PublisherKey.generate()
SIGNER = GrantSigner(SIGNER_KEY)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
GRANT = SIGNER.sign(
    Grant.for_recipe(
        fan_id="acc_1", fan_name="Ada", recipe=RECIPE, policy=MANIFEST.policy, pack_hash=MANIFEST.pack_hash(), now=NOW
    )
)
RECORD = ProvenanceRecord.for_export(
    MANIFEST,
    RECIPE,
    "wav",
    publisher_key_id=KEY.key_id,
    publisher_name="Label",
    app_name="Fan Remix Studio",
    app_version="0.1.0",
    grant=GRANT,
    remixer="Ada",
)


def _as_read_back(definition: dict) -> dict:
    """build_manifest's definition in the shape c2pa's Reader reports an active manifest (close enough to parse)."""
    manifest = json.loads(json.dumps(definition))
    manifest["assertions"] = [{"label": a["label"], "data": a["data"]} for a in manifest.get("assertions", [])]
    return manifest


MANIFEST_READ_BACK = _as_read_back(build_manifest(RECORD))


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


# -- pack.json --------------------------------------------------------------------------------------------------


def _use_manifest(manifest: PackManifest) -> None:
    """What the app does with a parsed pack.json before trusting it: hash it and check its signature."""
    manifest.pack_hash()
    verify_signature(manifest, KEY.public_key)


@given(json_values)
@fuzz_settings(300)
def test_pack_json_any_json(value) -> None:
    only_typed_errors("pack.json (any JSON)", lambda: _use_manifest(PackManifest.from_json(json_text(value))))


@given(mutated_document(MANIFEST.to_dict()))
@fuzz_settings(600)
def test_pack_json_mutated(document) -> None:
    only_typed_errors("pack.json (mutated)", lambda: _use_manifest(PackManifest.from_json(json_text(document))))


@given(mutated_bytes(MANIFEST.to_json().encode()))
@fuzz_settings(300)
def test_pack_json_bytes(data) -> None:
    only_typed_errors("pack.json (bytes)", lambda: _use_manifest(PackManifest.from_json(data)))


# -- recipes and projects -----------------------------------------------------------------------------------------


def _use_recipe(recipe: Recipe) -> None:
    """What every consumer of a recipe does: hash it and check it against the pack's policy."""
    recipe.recipe_hash()
    MANIFEST.policy.check(recipe, MANIFEST, today=NOW.date(), use=Use())


@given(mutated_document(RECIPE.to_dict()))
@fuzz_settings(600)
def test_recipe_mutated(document) -> None:
    only_typed_errors("recipe (mutated)", lambda: _use_recipe(Recipe.from_json(json_text(document))))


@given(json_values)
@fuzz_settings(200)
def test_recipe_any_json(value) -> None:
    only_typed_errors("recipe (any JSON)", lambda: _use_recipe(Recipe.from_json(json_text(value))))


@given(mutated_bytes(RECIPE.to_json().encode()))
@fuzz_settings(200)
def test_recipe_bytes(data) -> None:
    only_typed_errors("recipe (bytes)", lambda: _use_recipe(Recipe.from_json(data)))


@given(st.one_of(mutated_document(PROJECT.to_dict()).map(json_text), mutated_bytes(json_text(PROJECT.to_dict()))))
@fuzz_settings(400)
def test_project_and_autosave_files(tmp_path_factory, data) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.fanremix"
    path.write_bytes(data)

    def load() -> None:
        project = load_project(path)
        _use_recipe(project.recipe)
        project.candidate_pack_paths(path)

    only_typed_errors("project file", load)


# -- policies and grants ----------------------------------------------------------------------------------------


@given(mutated_document(MANIFEST.policy.to_dict()))
@fuzz_settings(400)
def test_policy_mutated(document) -> None:
    def use() -> None:
        policy = Policy.from_dict(json.loads(json_text(document)))
        policy.policy_hash()
        policy.check(RECIPE, MANIFEST, today=NOW.date(), use=Use())

    only_typed_errors("policy (mutated)", use)


@given(mutated_document(GRANT))
@fuzz_settings(400)
def test_grant_mutated(document) -> None:
    keys = SIGNER.key_set()
    only_typed_errors("grant (mutated)", lambda: verify_grant(json.loads(json_text(document)), keys, now=NOW))


@given(mutated_document({k: v for k, v in GRANT.items() if k != "signature"}))
@fuzz_settings(300)
def test_grant_mutated_then_signed(document) -> None:
    """Odd content under a genuine signature (the service's own key) still ends in a grant or a typed error."""
    document = json.loads(json_text(document))

    def verify() -> None:
        if isinstance(document, dict):
            document.pop("signature", None)
            try:
                value = SIGNER_KEY.private_key.sign(grant_signing_bytes(document))
            except ValueError:  # NaN or infinity: canonical JSON (and so the service) cannot sign it
                return
            document["signature"] = {"algorithm": "ed25519", "key_id": SIGNER.key_id, "value": b64(value)}
        verify_grant(document, SIGNER.key_set(), now=NOW, fan_id="acc_1")

    only_typed_errors("grant (signed)", verify)


# -- the provenance record read back from a C2PA manifest --------------------------------------------------------


@given(mutated_document(MANIFEST_READ_BACK))
@fuzz_settings(500)
def test_provenance_record_from_manifest(document) -> None:
    manifest = json.loads(json_text(document))
    if not isinstance(manifest, dict):  # the reader hands over only objects (see c2pa._report)
        return

    def parse() -> None:
        record = record_from_manifest(manifest)
        record.recipe_hash()

    only_typed_errors("C2PA manifest -> record", parse)


def test_the_unmutated_documents_parse() -> None:
    """The fuzzers start from real documents (otherwise every case would fail at the first check)."""
    assert PackManifest.from_json(MANIFEST.to_json()) == MANIFEST
    assert Recipe.from_json(RECIPE.to_json()).recipe_hash() == RECIPE.recipe_hash()
    assert record_from_manifest(MANIFEST_READ_BACK).recipe_hash() == RECIPE.recipe_hash()
    assert verify_grant(GRANT, SIGNER.key_set(), now=NOW).fan_id == "acc_1"
