"""`launch()` as the `fanremix` command runs it: a fresh process, the demo song (or a pack given on the command line),
the loaded window, a clean exit."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

CHILD = (
    "import sys\n"
    "from fanremix.gui.launch import launch\n"
    "from fanremix.workspace import Workspace\n"
    "sys.exit(launch(sys.argv[1] or None, Workspace.from_environment(), use_device=False))\n"
)


def run_app(tmp_path: Path, pack: str, demo: Path | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["FANREMIX_STARTUP_MARK"] = "1"  # report the loaded window, then quit
    for name in ("CONFIG", "DATA", "CACHE"):
        env[f"FANREMIX_{name}_DIR"] = str(tmp_path / name.lower())
    if demo is not None:
        (tmp_path / "cache").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo, tmp_path / "cache" / "demo.fanpack")
    return subprocess.run([sys.executable, "-c", CHILD, pack], env=env, capture_output=True, text=True, timeout=120)


def test_launch_opens_the_demo_song_and_exits_cleanly(tmp_path, short_demo_pack) -> None:
    result = run_app(tmp_path, "", short_demo_pack)
    assert result.returncode == 0, result.stderr
    assert "FANREMIX_WINDOW_SHOWN" in result.stdout and "FANREMIX_WINDOW_READY" in result.stdout
    assert not (tmp_path / "data" / "autosave").exists() or not any((tmp_path / "data" / "autosave").iterdir())


def test_launch_with_a_missing_pack_reports_it(tmp_path) -> None:
    result = run_app(tmp_path, str(tmp_path / "nowhere.fanpack"), None)
    assert result.returncode == 3  # the startup mark makes a refused pack end the process
    assert "FANREMIX_WINDOW_READY" not in result.stdout


def test_sigterm_closes_the_app_cleanly(tmp_path, short_demo_pack) -> None:
    """Logout and service managers send SIGTERM: the window closes as Quit does and the process exits 0."""
    import signal

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FANREMIX_STARTUP_MARK="stay")
    for name in ("CONFIG", "DATA", "CACHE"):
        env[f"FANREMIX_{name}_DIR"] = str(tmp_path / name.lower())
    (tmp_path / "cache").mkdir(parents=True)
    shutil.copyfile(short_demo_pack, tmp_path / "cache" / "demo.fanpack")
    process = subprocess.Popen([sys.executable, "-c", CHILD, ""], env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:  # blocks until the app reports the loaded window
            if line.startswith("FANREMIX_WINDOW_READY"):
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
