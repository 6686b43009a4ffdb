"""`fanremix` builds only the sub-command it runs: the same help as the whole parser, without the heavy imports."""

import argparse
import subprocess
import sys

import pytest

from fanremix.cli import COMMAND_GROUPS, _command_in, build_parser

HEAVY_MODULES = ("numpy", "cryptography", "requests", "PySide6", "fanremix.audio", "fanremix.rights", "fanremix.gui")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_top_level_help_is_the_whole_parsers_help() -> None:
    full = build_parser()
    for argv in ([], ["--help"], ["--version"], ["--artist"], ["no-such-command"]):
        lazy = build_parser(argv)
        assert lazy.format_help() == full.format_help()
        assert list(_subcommands(lazy)) == list(_subcommands(full))


def test_the_command_groups_name_every_sub_command_with_its_help_line() -> None:
    listed = {name: text for commands, _add in COMMAND_GROUPS for name, text in commands.items()}
    full = build_parser()
    action = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert listed == {choice.dest: choice.help for choice in action._choices_actions}


@pytest.mark.parametrize("command", [name for commands, _add in COMMAND_GROUPS for name in commands])
def test_the_command_being_run_is_built_in_full(command: str) -> None:
    lazy = _subcommands(build_parser(["--artist", command, "x"]))[command]
    assert lazy.format_help() == _subcommands(build_parser())[command].format_help()


def test_the_command_is_the_first_word_that_is_not_an_option() -> None:
    assert _command_in([]) is None
    assert _command_in(["--artist"]) is None
    assert _command_in(["--artist", "render", "--format", "wav"]) == "render"
    assert _command_in(["--", "verify", "x.wav"]) == "verify"


def test_version_and_help_import_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from fanremix.cli import main\n"
        "for argv in (['--version'], ['--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY_MODULES!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
