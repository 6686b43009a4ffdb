"""`fanremix recipe` and `fanremix render`, end to end through an argparse parser, as the main CLI wires them."""

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix import cli
from fanremix.audio import loudness
from fanremix.cli_render import ProgressBar, add_render_commands
from fanremix.domain import policy_templates
from fanremix.domain.errors import FanRemixError
from fanremix.domain.recipe import Recipe
from fanremix.workspace import Workspace
from tests.audio.conftest import PackFactory, ToyPack, program, tone


def wired_into_the_main_cli() -> bool:
    parser = cli.build_parser()
    return any(isinstance(a, argparse._SubParsersAction) and "render" in a.choices for a in parser._actions)


def run(argv: list[str]) -> int:
    """`fanremix.cli.main(argv)` once cli.py wires the commands in; until then, the same steps by hand."""
    if wired_into_the_main_cli():
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="fanremix")
    add_render_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.handler(args, Workspace.from_environment())
    except FanRemixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


@pytest.fixture
def pack(make_pack: PackFactory) -> ToyPack:
    return make_pack(
        {
            "vocals": ("vocals", tone(440.0, 2.0, 0.2)),
            "drums": ("drums", program(2.0, seed=2)),
            "bass": ("bass", tone(110.0, 2.0, 0.3)),
        },
        policy=policy_templates.demo(),
    )


def test_recipe_writes_every_option_into_the_recipe(pack: ToyPack, tmp_path: Path, capsys) -> None:
    out = tmp_path / "remix.json"
    argv = ["recipe", str(pack.path), "-o", str(out), "--tempo", "1.1", "--pitch", "-2"]
    argv += ["--gain", "Vocals=-3.5", "--pan", "drums=-0.5", "--mute", "bass", "--solo", "drums", "--solo", "vocals"]
    argv += ["--effect", "vocals=reverb:hall", "--effect", "vocals=Delay", "--effect", "master=Compressor:Punchy"]
    argv += ["--region", "0.25:1.5", "--fade-in", "0.1", "--fade-out", "0.2", "--loudness", "-16"]
    assert run(argv) == 0
    recipe = Recipe.from_json(out.read_bytes())
    assert recipe.pack_id == pack.manifest.id and recipe.pack_hash == pack.manifest.pack_hash()
    assert (recipe.tempo_ratio, recipe.pitch_semitones) == (1.1, -2.0)
    assert (recipe.region_start_s, recipe.region_end_s, recipe.fade_in_s, recipe.fade_out_s) == (0.25, 1.5, 0.1, 0.2)
    assert recipe.loudness_lufs == -16.0
    vocals, drums, bass = (recipe.stem(s) for s in ("vocals", "drums", "bass"))
    assert vocals.gain_db == -3.5 and vocals.solo and drums.pan == -0.5 and drums.solo and bass.mute
    assert [(e.kind, e.preset) for e in vocals.chain] == [("Reverb", "Hall"), ("Delay", "Echo")]
    assert vocals.chain[0].param_dict["room_size"] == 0.85  # the preset's numbers are written out in full
    assert [(e.kind, e.preset) for e in recipe.master] == [("Compressor", "Punchy")]
    printed = capsys.readouterr().out
    assert "Reverb (Hall)" in printed and "tempo 1.1×" in printed


def test_recipe_loudness_off_and_open_regions(pack: ToyPack, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert run(["recipe", str(pack.path), "-o", str(out), "--loudness", "off", "--region", "0.5:"]) == 0
    data = json.loads(out.read_text())
    assert data["loudness_lufs"] is None and data["region"] == {"start_s": 0.5, "end_s": None}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--effect", "vocals=Flanger"], "unknown effect 'Flanger'"),
        (["--effect", "vocals=Reverb:Cave"], "no preset 'Cave'"),
        (["--gain", "nobody=3"], "no stem 'nobody'"),
        (["--gain", "vocals"], "--gain takes STEM=DB"),
        (["--pan", "vocals=2"], "pan runs from -1"),
        (["--region", "5"], "--region takes START:END"),
        (["--loudness", "loud"], "'loud' is not a number"),
    ],
)
def test_recipe_refuses_malformed_options(pack: ToyPack, tmp_path: Path, capsys, option, message) -> None:
    out = tmp_path / "r.json"
    assert run(["recipe", str(pack.path), "-o", str(out), *option]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_render_writes_the_file_and_prints_its_figures(pack: ToyPack, tmp_path: Path, capsys) -> None:
    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.flac"
    assert (
        run(["recipe", str(pack.path), "-o", str(recipe_path), "--tempo", "1.25", "--effect", "drums=Compressor"]) == 0
    )
    capsys.readouterr()
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert hashlib.sha256(out.read_bytes()).hexdigest() in printed
    audio, rate = soundfile.read(str(out))
    assert len(audio) / rate == pytest.approx(2.0 / 1.25, abs=0.010)
    measured = loudness.integrated_loudness(audio, rate)
    assert measured == pytest.approx(-14.0, abs=0.3)
    assert f"integrated loudness: {measured:.1f} LUFS" in printed
    assert "true peak:" in printed and "dBTP" in printed
    assert f"duration:            {len(audio) / rate:.3f} s" in printed


def test_render_with_no_normalize_and_an_explicit_format(pack: ToyPack, tmp_path: Path) -> None:
    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.bin"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path)]) == 0
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--format", "wav16", "--no-normalize"]) == 0
    audio, _ = soundfile.read(str(out), dtype="float32")
    assert soundfile.info(str(out)).subtype == "PCM_16"
    expected = np.clip(sum(pack.arrays[s] for s in ("vocals", "drums", "bass")), -1.0, 1.0 - 2**-15)
    assert np.max(np.abs(audio - expected)) < 2**-14  # the plain sum, only dithered (and clipped) to 16 bits


def test_render_refuses_a_forbidden_recipe_and_lists_every_violation(pack: ToyPack, tmp_path: Path, capsys) -> None:
    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.wav"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path), "--tempo", "1.5", "--solo", "vocals"]) == 0
    warning = capsys.readouterr().err
    assert "would refuse" in warning
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out)]) == cli.EXIT_REFUSED
    error = capsys.readouterr().err
    for code in ("tempo.above_max", "role.solo_forbidden", "role.alone_forbidden", "stems.too_few_audible"):
        assert f"[{code}]" in error
    assert not out.exists()


def test_render_refuses_a_recipe_for_another_pack(
    pack: ToyPack, make_pack: PackFactory, tmp_path: Path, capsys
) -> None:
    other = make_pack({"keys": ("keys", tone(300.0, 1.0))}, pack_id="other-pack")
    recipe_path = tmp_path / "r.json"
    assert run(["recipe", str(other.path), "-o", str(recipe_path)]) == 0
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(tmp_path / "x.wav")]) == cli.EXIT_REFUSED
    assert "recipe.wrong_pack" in capsys.readouterr().err


def test_render_reports_unreadable_recipes_and_unknown_formats(pack: ToyPack, tmp_path: Path, capsys) -> None:
    assert run(["render", str(pack.path), str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.wav")]) == 1
    assert "Cannot read the recipe" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run(["render", str(pack.path), str(bad), "-o", str(tmp_path / "x.wav")]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    good = tmp_path / "good.json"
    assert run(["recipe", str(pack.path), "-o", str(good)]) == 0
    assert run(["render", str(pack.path), str(good), "-o", str(tmp_path / "x.m4a")]) == 1
    assert "Cannot tell the format" in capsys.readouterr().err


def test_the_progress_bar_draws_one_line_and_ends_it() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, min_interval_s=0.0)
    bar("decode", 0.0)
    bar("stretch", 0.5)
    bar("hash", 1.0)
    bar.finish()
    lines = stream.getvalue().split("\r")
    assert lines[0] == "" and len(lines) == 4
    assert lines[2] == "stretch   [###############...............]  50.0%"
    assert lines[3] == "hash      [##############################] 100.0%\n"


# -- Content Credentials -----------------------------------------------------------------------------------------


def test_render_signs_the_file_with_its_recipe_by_default(pack: ToyPack, tmp_path: Path, capsys) -> None:
    """Every derivative that leaves the app carries its record: `render` signs unless told not to."""
    from fanremix.rights.c2pa import ValidationState, read_provenance

    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.flac"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path), "--gain", "drums=-3"]) == 0
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--title", "My mix"]) == 0
    printed = capsys.readouterr().out
    assert "Content Credentials: signed by Fan Remix Studio user with a local development certificate" in printed
    report = read_provenance(out)
    assert report.state == ValidationState.VALID  # the local development CA is no trust anchor
    assert report.record is not None and report.record.title == "My mix"
    assert report.record.recipe_hash() == Recipe.from_json(recipe_path.read_bytes()).recipe_hash()


def test_render_without_normalisation_records_that_in_the_recipe(pack: ToyPack, tmp_path: Path) -> None:
    """The record's recipe must render the same audio again, so --no-normalize is written into it."""
    from fanremix.rights.c2pa import read_provenance

    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.wav"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path)]) == 0
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--no-normalize"]) == 0
    record = read_provenance(out).record
    assert record is not None and record.recipe.loudness_lufs is None


def test_render_no_credentials_writes_a_plain_file_and_warns(pack: ToyPack, tmp_path: Path, capsys) -> None:
    from fanremix.rights.c2pa import NoCredentialsError, read_provenance

    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.wav"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path)]) == 0
    capsys.readouterr()
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--no-credentials"]) == 0
    assert "WITHOUT Content Credentials" in capsys.readouterr().err
    with pytest.raises(NoCredentialsError):
        read_provenance(out)


def test_a_signing_key_with_a_passphrase(pack: ToyPack, tmp_path: Path, monkeypatch, capsys) -> None:
    """`identity new --passphrase` protects the key; `render` then needs --passphrase, and refuses a wrong one
    without writing anything."""
    from fanremix.passphrase import PASSPHRASE_ENV
    from fanremix.rights.c2pa import read_provenance

    recipe_path, out = tmp_path / "r.json", tmp_path / "mix.flac"
    assert run(["recipe", str(pack.path), "-o", str(recipe_path)]) == 0
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert cli.main(["identity", "new", "--name", "Ada", "--passphrase"]) == 0
    key_file = Workspace.from_environment().paths.config / "identity" / "fan-key.pem"
    assert b"ENCRYPTED" in key_file.read_bytes()
    capsys.readouterr()

    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out)]) == 1
    assert "protected by a passphrase" in capsys.readouterr().err
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--passphrase"]) == 1
    assert "passphrase is wrong" in capsys.readouterr().err
    assert not out.exists()

    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert run(["render", str(pack.path), str(recipe_path), "-o", str(out), "--passphrase"]) == 0
    record = read_provenance(out).record
    assert record is not None and record.remixer == "Ada"
    assert cli.main(["identity", "show", "--passphrase"]) == 0
    assert "Signs as:      Ada" in capsys.readouterr().out
    assert cli.main(["identity", "new"]) == 1  # never replaced by accident
    assert "already exists" in capsys.readouterr().err
