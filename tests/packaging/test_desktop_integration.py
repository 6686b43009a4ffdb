"""Fast checks of the packaging files (no bundle is built here; `make package-test` does that).

The freedesktop validators run when they are installed (Debian: desktop-file-utils, appstream, shared-mime-info).
"""

import ast
import configparser
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from fanremix import __version__
from fanremix.cli import OPENABLE_SUFFIXES
from fanremix.licences import COMPONENTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_ID = "org.fanremix.FanRemixStudio"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
MIME = PACKAGING / f"{APP_ID}.mime.xml"
ICON_SVG = ROOT / "resources" / "icons" / f"{APP_ID}.svg"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
SHELL_SCRIPTS = (
    PACKAGING / "install.sh",
    PACKAGING / "appimage" / "build-appimage.sh",
    PACKAGING / "appimage" / "AppRun",
    PACKAGING / "makeself" / "build-installer.sh",
    ROOT / "scripts" / "package-test.sh",
)


def run_tool(*command: str) -> subprocess.CompletedProcess:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed")
    return subprocess.run(command, capture_output=True, text=True, check=False)


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- validators ---------------------------------------------------------------------------------------------------


def test_desktop_file_passes_desktop_file_validate():
    result = run_tool("desktop-file-validate", str(DESKTOP))
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_metainfo_passes_appstreamcli_validate():
    result = run_tool("appstreamcli", "validate", "--no-net", str(METAINFO))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "E:" not in result.stdout and "W:" not in result.stdout, result.stdout


def test_mime_package_is_accepted_by_update_mime_database(tmp_path):
    (tmp_path / "packages").mkdir()
    shutil.copyfile(MIME, tmp_path / "packages" / f"{APP_ID}.xml")
    result = run_tool("update-mime-database", str(tmp_path))
    assert result.returncode == 0, result.stderr
    globs = (tmp_path / "globs2").read_text()
    assert "application/x-fanremix-pack:*.fanpack" in globs
    assert "application/x-fanremix-project:*.fanremix" in globs


# -- the files agree with each other and with the app ---------------------------------------------------------------


def test_one_app_id_everywhere():
    from fanremix.gui.app import DESKTOP_FILE  # what Qt tells Wayland and X11 the window belongs to

    assert DESKTOP_FILE == APP_ID
    component = ElementTree.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.find("launchable").text == f"{APP_ID}.desktop"
    assert desktop_entry()["Icon"] == APP_ID
    assert ICON_SVG.is_file()


def test_metainfo_release_is_the_app_version():
    releases = ElementTree.parse(METAINFO).getroot().find("releases")
    assert releases[0].get("version") == __version__, "add a <release> for the new version to the metainfo file"


def test_version_has_one_source():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fanremix.__version__"}


def test_file_types_match_what_the_app_opens():
    mime_types = {
        node.get("type"): [glob.get("pattern") for glob in node.iter(f"{MIME_NS}glob")]
        for node in ElementTree.parse(MIME).getroot().iter(f"{MIME_NS}mime-type")
    }
    assert {pattern[1:] for patterns in mime_types.values() for pattern in patterns} == set(OPENABLE_SUFFIXES)
    desktop_types = {t for t in desktop_entry()["MimeType"].split(";") if t}
    assert desktop_types == set(mime_types)
    provides = {node.text for node in ElementTree.parse(METAINFO).getroot().find("provides").iter("mediatype")}
    assert provides == set(mime_types)


def test_desktop_entry_opens_a_file_with_the_fanremix_command():
    entry = desktop_entry()
    assert entry["Exec"] == "fanremix %f"  # install.sh makes it absolute; the AppImage keeps the bare name
    assert entry["TryExec"] == "fanremix"
    assert entry["Terminal"] == "false"


def test_every_runtime_dependency_is_in_the_licence_list():
    # distribution name in pyproject.toml -> the component the About box lists it under
    listed_as = {
        "pyside6-essentials": "PySide6 and Shiboken6",
        "soundfile": "python-soundfile",
        "sounddevice": "python-sounddevice",
        "c2pa-python": "c2pa-python and the C2PA Rust SDK",
        "scipy": "SciPy",
        "numpy": "NumPy",
        "requests": "Requests",
        "fastapi": "FastAPI",
        "uvicorn": "Uvicorn",
        "sqlalchemy": "SQLAlchemy",
        "alembic": "Alembic",
        "mutagen": "Mutagen",
    }
    names = {component.name for component in COMPONENTS}
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    for requirement in dependencies:
        distribution = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()
        assert listed_as.get(distribution, distribution) in names, f"add {distribution} to fanremix/licences.py"


# -- build inputs --------------------------------------------------------------------------------------------------


def test_spec_parses_and_names_files_that_exist():
    source = (PACKAGING / "fanremix.spec").read_text("utf-8")
    ast.parse(source)
    for relative in (
        "packaging/fanremix_entry.py",
        "packaging/hooks/rthook_fanremix_audio.py",
        "packaging/hooks/hook-c2pa.py",
        "packaging/collect_licences.py",
        "app/fanremix/service/migrations/script.py.mako",
        "resources/keys/demo-publisher.pem",
    ):
        assert (ROOT / relative).is_file(), relative
    for part in ("fanremix_entry.py", "rthook_fanremix_audio.py", '"hooks"', "collect_licences", "migrations"):
        assert part in source, part


def test_bundle_entry_point_runs_only_the_rights_service_with_dash_m(capsys, monkeypatch):
    entry = load_module(PACKAGING / "fanremix_entry.py", "fanremix_entry_under_test")
    monkeypatch.setattr(sys, "argv", ["fanremix", "-m", "os", "--help"])
    assert entry.main() == 2
    assert "runs only fanremix.service" in capsys.readouterr().err
    runnable = entry.RUNNABLE_MODULES
    assert runnable == {"fanremix.service"}


def test_shell_scripts_are_executable_and_parse():
    for script in SHELL_SCRIPTS:
        assert script.stat().st_mode & stat.S_IXUSR, f"{script} is not executable"
        shell = "sh" if script.name == "AppRun" else "bash"
        result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{script}: {result.stderr}"


def test_icon_renders_at_the_smallest_and_largest_size(tmp_path, qapp):
    render_icons = load_module(PACKAGING / "render_icons.py", "render_icons_under_test")
    from PySide6.QtGui import QImage

    for size in (16, 512):
        out = tmp_path / f"{size}.png"
        render_icons.render_png(ICON_SVG, size, out)
        image = QImage(str(out))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # opaque in the middle
        assert image.pixelColor(0, 0).alpha() == 0  # transparent corner (rounded square)


def test_install_sh_installs_and_uninstalls_under_a_prefix(tmp_path, qapp):
    bundle = tmp_path / "bundle"
    (bundle / "_internal" / "licences").mkdir(parents=True)
    (bundle / "_internal" / "licences" / "README.txt").write_text("licences\n")
    program = bundle / "fanremix"
    program.write_text("#!/bin/sh\necho fanremix test\n")
    program.chmod(0o755)
    icons = tmp_path / "icons"
    load_module(PACKAGING / "render_icons.py", "render_icons_for_install").render_tree(icons)
    prefix = tmp_path / "prefix"
    env = {**os.environ, "BUNDLE": str(bundle), "ICONS": str(icons / "hicolor")}
    install = [str(PACKAGING / "install.sh"), "--prefix", str(prefix)]
    subprocess.run(install, env=env, check=True, capture_output=True)

    assert subprocess.run([prefix / "bin" / "fanremix"], capture_output=True, text=True).stdout == "fanremix test\n"
    desktop = (prefix / "share" / "applications" / f"{APP_ID}.desktop").read_text()
    assert f"Exec={prefix}/bin/fanremix %f" in desktop
    for relative in (
        f"share/metainfo/{APP_ID}.metainfo.xml",
        f"share/mime/packages/{APP_ID}.xml",
        f"share/icons/hicolor/48x48/apps/{APP_ID}.png",
        f"share/icons/hicolor/scalable/apps/{APP_ID}.svg",
        "share/doc/fanremix/README.txt",
    ):
        assert (prefix / relative).is_file(), relative

    subprocess.run([*install, "--uninstall"], env=env, check=True, capture_output=True)
    assert not (prefix / "bin" / "fanremix").exists()
    assert not (prefix / "lib" / "fanremix").exists()
    assert not (prefix / "share" / "applications" / f"{APP_ID}.desktop").exists()
