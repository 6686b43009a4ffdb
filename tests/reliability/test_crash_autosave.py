"""The real app window, offscreen in its own process, killed with SIGKILL while a fan is editing: the next start
offers the autosave, and restoring it brings back the remix as it was at most 30 s before the kill.

The child edits through the session (what the mixer's buttons and faders call): a mute (a discrete edit, autosaved
after the 1.5 s debounce), then a fader move (autosaved by the 30 s timer), then one more fader move right before
the kill, which is the work that may be lost.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fanremix.demo import make_demo_pack
from fanremix.gui.project import AUTOSAVE_NAME, load_project

AUTOSAVE_INTERVAL_S = 30.0  # gui.main_window.AUTOSAVE_INTERVAL_MS: the most edits a crash may cost

EDITOR = r"""
import json, sys, time
from pathlib import Path
from fanremix.gui.app import create_application
from fanremix.gui.main_window import MainWindow
from fanremix.workspace import Workspace

mode = sys.argv[1]
app = create_application([sys.argv[0]])
window = MainWindow(Workspace.from_environment(), use_device=False)
window.show()


def say(**message):
    print(json.dumps(message), flush=True)


if mode == "edit":
    state = {"step": 0, "edited_at": 0.0}

    def edit(session):
        stems = session.stem_ids
        step = state["step"]
        state["step"] += 1
        if step == 0:
            session.set_mute(stems[-1], True)  # a button: a discrete edit
        elif step == 1:
            session.set_gain(stems[0], -7.5)  # a fader held down: no discrete edit, the timer saves it
        else:
            session.set_gain(stems[0], -12.0)  # made just before the crash: may be lost
        state["edited_at"] = time.monotonic()
        say(event="edited", step=step, recipe=session.recipe.recipe_hash())

    def autosaved(path):
        session = window.session
        say(event="autosaved", after_s=time.monotonic() - state["edited_at"], recipe=session.recipe.recipe_hash())
        edit(session)

    window.autosaved.connect(autosaved)
    window.session_loaded.connect(edit)
    window.open_path(Path(sys.argv[2]))
else:
    def restored(session):
        say(event="restored", recipe=session.recipe.recipe_hash(), dirty=session.is_dirty)
        window.discard_and_close()
        app.quit()

    window.session_loaded.connect(restored)
    banner = window.offer_restore()
    say(event="offered", offered=banner is not None)
    if banner is None:
        app.quit()
    else:
        banner.restore_button.click()
sys.exit(app.exec())
"""


def events(child: subprocess.Popen, until, timeout: float) -> list[dict]:
    """The child's JSON lines until one satisfies `until` (an event name, or a predicate)."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        if not line.startswith("{"):
            continue
        seen.append(json.loads(line))
        if until(seen[-1]):
            return seen
    raise AssertionError(
        f"the app did not get to {until}: {seen} {child.stderr.read()[-3000:] if child.poll() else ''}"
    )


@pytest.mark.slow
def test_the_app_killed_while_editing_restores_its_autosave(tmp_path: Path, workspace) -> None:
    pack = tmp_path / "song.fanpack"
    make_demo_pack(pack, seconds=6.0)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-c", EDITOR]
    editor = subprocess.Popen(
        [*command, "edit", str(pack)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        log = events(editor, lambda e: e["event"] == "edited" and e["step"] == 2, 120)
        editor.send_signal(signal.SIGKILL)  # right after the last edit, before it could be saved
        editor.wait(10)
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait(10)
        editor.stdout.close()
        editor.stderr.close()
    saves = [e for e in log if e["event"] == "autosaved"]
    edits = [e for e in log if e["event"] == "edited"]
    delays = ", ".join(f"{e['after_s']:.1f} s" for e in saves)
    print(f"\nautosaves came {delays} after the edit before them")
    assert len(saves) == 2 and saves[0]["after_s"] < 5.0  # the mute: the debounce
    assert saves[1]["after_s"] <= AUTOSAVE_INTERVAL_S + 2.0  # the fader move: the periodic timer
    last_saved = saves[-1]["recipe"]
    assert last_saved == edits[1]["recipe"] != edits[2]["recipe"]

    autosave = workspace.paths.data / "autosave" / AUTOSAVE_NAME
    assert load_project(autosave).recipe.recipe_hash() == last_saved  # on disk, whole, as the app last saved it

    restorer = subprocess.run([*command, "restore"], capture_output=True, text=True, env=env, timeout=120)
    answers = [json.loads(line) for line in restorer.stdout.splitlines() if line.startswith("{")]
    assert answers and answers[0] == {"event": "offered", "offered": True}, restorer.stderr[-3000:]
    restored = answers[-1]
    assert restored["event"] == "restored" and restored["recipe"] == last_saved and restored["dirty"]
