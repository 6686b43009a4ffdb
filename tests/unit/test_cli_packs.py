"""`fanremix keys` and `fanremix pack`, driven through the real entry point."""

import json
import zipfile
from pathlib import Path

import pytest

from fanremix.cli import EXIT_ERROR, EXIT_REFUSED, main
from tests.conftest import write_tone_stems


@pytest.fixture
def stem_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "stems"
    write_tone_stems(folder, {"Lead Vox": 440.0, "Kick and Snare": 100.0, "Sub Bass": 55.0, "Pad": 220.0})
    return folder


def test_keys_new_trusts_the_key_and_lists_it(tmp_path, capsys) -> None:
    assert main(["keys", "new", "-o", str(tmp_path / "me.pem"), "--name", "Me"]) == 0
    assert (tmp_path / "me.pem.pub").is_file()
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Me" in listing and "created on this machine" in listing
    assert "demo publisher [demo only]" in listing


def test_keys_new_refuses_to_overwrite(tmp_path, capsys) -> None:
    key = tmp_path / "me.pem"
    assert main(["keys", "new", "-o", str(key)]) == 0
    before = key.read_bytes()
    assert main(["keys", "new", "-o", str(key)]) == EXIT_ERROR
    assert "already exists" in capsys.readouterr().err
    assert key.read_bytes() == before


def test_keys_trust_rejects_a_non_key(tmp_path, capsys) -> None:
    bogus = tmp_path / "x.pub"
    bogus.write_text("hello")
    assert main(["keys", "trust", str(bogus)]) == EXIT_ERROR
    assert "not a PEM public key" in capsys.readouterr().err


def create_pack(tmp_path: Path, stem_folder: Path, *extra: str) -> Path:
    key = tmp_path / "pub.pem"
    if not key.exists():
        assert main(["keys", "new", "-o", str(key)]) == 0
    out = tmp_path / "song.fanpack"
    argv = ["pack", "create", str(stem_folder), "--key", str(key), "-o", str(out), "--title", "My Song"]
    argv += ["--artist", "Band", "--bpm", "120", "--key-name", "A minor", "--isrc", "GB-ABC-26-00042", *extra]
    assert main(argv) == 0
    return out


def test_pack_create_guesses_roles_and_verify_prints_a_summary(tmp_path, stem_folder, capsys) -> None:
    out = create_pack(tmp_path, stem_folder, "--role", "Pad.wav=keys")
    capsys.readouterr()
    assert main(["pack", "verify", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "My Song — Band" in summary
    assert "GB-ABC-26-00042" in summary
    roles = {line.split()[0]: line.split()[-3] for line in summary.splitlines() if line.strip().endswith(".wav")}
    assert roles == {"lead-vox": "vocals", "kick-and-snare": "drums", "sub-bass": "bass", "pad": "keys"}
    assert "Soloing the vocals." in summary
    assert "Signature: valid" in summary


def test_pack_verify_names_the_exact_problem_in_a_tampered_copy(tmp_path, stem_folder, capsys) -> None:
    out = create_pack(tmp_path, stem_folder)
    tampered = tmp_path / "tampered.fanpack"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = bytearray(source.read(name))
            if name == "sub-bass.wav":
                data[-100] ^= 0x40
            target.writestr(name, bytes(data))
    capsys.readouterr()
    assert main(["pack", "verify", str(tampered)]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "REFUSED (HashMismatchError): sub-bass.wav: its content does not match pack.json" in err


def test_pack_create_with_a_policy_file_and_meta_file(tmp_path, stem_folder, capsys) -> None:
    from fanremix.domain.policy_templates import strict

    (tmp_path / "policy.json").write_text(strict().to_json())
    meta = {"title": "Other", "artists": ["X", "Y"], "bpm": 90, "key": "C major", "id": "other-song"}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    key = tmp_path / "k.pem"
    assert main(["keys", "new", "-o", str(key)]) == 0
    out = tmp_path / "other.fanpack"
    argv = ["pack", "create", str(stem_folder), "--key", str(key), "-o", str(out)]
    assert main([*argv, "--meta", str(tmp_path / "meta.json"), "--policy", str(tmp_path / "policy.json")]) == 0
    capsys.readouterr()
    assert main(["pack", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "Other — X, Y" in info and "urn:fanremix:policy:strict" in info


def test_pack_create_reports_missing_metadata(tmp_path, stem_folder, capsys) -> None:
    assert main(["keys", "new", "-o", str(tmp_path / "k.pem")]) == 0
    argv = ["pack", "create", str(stem_folder), "--key", str(tmp_path / "k.pem"), "-o", str(tmp_path / "x.fanpack")]
    assert main(argv) == EXIT_ERROR
    assert "Missing metadata: title, artists, bpm, key" in capsys.readouterr().err
    assert not (tmp_path / "x.fanpack").exists()


def test_pack_create_rejects_a_bad_isrc(tmp_path, stem_folder, capsys) -> None:
    assert main(["keys", "new", "-o", str(tmp_path / "k.pem")]) == 0
    argv = ["pack", "create", str(stem_folder), "--key", str(tmp_path / "k.pem"), "-o", str(tmp_path / "x.fanpack")]
    argv += ["--title", "T", "--artist", "A", "--bpm", "100", "--key-name", "C", "--isrc", "nope"]
    assert main(argv) == EXIT_ERROR
    assert "is not an ISRC" in capsys.readouterr().err


def test_pack_verify_on_a_missing_file(tmp_path, capsys) -> None:
    assert main(["pack", "verify", str(tmp_path / "none.fanpack")]) == EXIT_REFUSED
    assert "no such pack" in capsys.readouterr().err


def test_keys_trust_lets_packs_from_another_publisher_open(tmp_path, stem_folder, monkeypatch, capsys) -> None:
    """An artist's key made on another machine (its own config folder) signs a pack; trusting its public key here
    makes the pack verify, and `keys list` says where the key came from."""
    monkeypatch.setenv("FANREMIX_CONFIG_DIR", str(tmp_path / "artist-machine"))
    out = create_pack(tmp_path, stem_folder)
    monkeypatch.setenv("FANREMIX_CONFIG_DIR", str(tmp_path / "fan-machine"))
    capsys.readouterr()
    assert main(["pack", "verify", str(out)]) == EXIT_REFUSED
    assert "UntrustedKeyError" in capsys.readouterr().err
    assert main(["keys", "trust", str(tmp_path / "pub.pem.pub"), "--name", "The Band"]) == 0
    assert main(["pack", "verify", str(out)]) == 0
    assert "Signature: valid, by The Band" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    assert f"trusted from {(tmp_path / 'pub.pem.pub').resolve()}" in capsys.readouterr().out


def test_the_isrc_given_on_the_command_line_is_stored_in_its_standard_form(tmp_path, stem_folder) -> None:
    out = create_pack(tmp_path, stem_folder)  # --isrc GB-ABC-26-00042
    with zipfile.ZipFile(out) as archive:
        assert json.loads(archive.read("pack.json"))["isrc"] == "GBABC2600042"


def _bad_meta(tmp_path: Path, content: str) -> list[str]:
    (tmp_path / "meta.json").write_text(content)
    return ["--meta", str(tmp_path / "meta.json")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--seconds", "0"], "the song length is 1 to 3600 seconds, not '0'"),
        (["demo", "--seconds", "nan"], "not 'nan'"),
        (["demo", "--seconds", "-5"], "not '-5'"),
        (["demo", "--seconds", "2", "-o", "/proc/no-such-folder/x.fanpack"], "/proc/no-such-folder"),
        (["pack", "create", "{stems}", "--key", "{key}", "-o", "{out}", "META:[1, 2]"], "must hold a JSON object"),
        (
            ["pack", "create", "{stems}", "--key", "{key}", "-o", "{out}", 'META:{"bpm": "fast"}'],
            "'bpm' must be a number of beats per minute, not \"fast\"",
        ),
        (
            ["pack", "create", "{stems}", "--key", "{key}", "-o", "{out}", 'META:{"artists": [1]}'],
            "'artists' must be a name or a list of names",
        ),
        (["pack", "create", "{stems}", "--key", "{key}", "-o", "{out}", "--resample", "abc"], "not 'abc'"),
        (["stems", "{stems}", "--resample", "12"], "from 8000 to 192000 Hz, not '12'"),
        (["pack", "create", "{stems}", "--key", "{key}", "-o", "/proc/no-such-folder/x.fanpack", "META:{}"], "error"),
    ],
)
def test_mistakes_on_the_command_line_get_one_line_errors(tmp_path, stem_folder, capsys, argv, message) -> None:
    """Each mistake ends the command with a non-zero status and a message on stderr, never a traceback (an exception
    escaping `main` would fail this test)."""
    key = tmp_path / "k.pem"
    assert main(["keys", "new", "-o", str(key)]) == 0
    capsys.readouterr()
    words: list[str] = []
    for word in argv:
        if word.startswith("META:"):
            words += _bad_meta(tmp_path, word[5:])
            words += ["--title", "T", "--artist", "A", "--bpm", "100", "--key-name", "C major"]
        else:
            words.append(word.format(stems=stem_folder, key=key, out=tmp_path / "x.fanpack"))
    try:
        status = main(words)
    except SystemExit as exit_:  # the parser's own refusals
        status = exit_.code
    assert status not in (0, None)
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.fanpack").exists()


def test_a_closed_pipe_ends_the_command_quietly(tmp_path) -> None:
    """`fanremix keys list | head -1`: the reader has gone before the command writes. Python ignores SIGPIPE, so the
    write raises BrokenPipeError; the command must end without a traceback."""
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to write_end now fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "fanremix", "keys", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, "FANREMIX_CONFIG_DIR": str(tmp_path / "config")},
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == b""
