"""Gather the licence texts of everything the bundle ships into one folder (the bundle's `licences/`).

Called by fanremix.spec with the Analysis' module and binary lists. Writes:
  README.txt            the app's licence notice and one line per component (from fanremix.licences)
  python/<dist>/...     each bundled Python distribution's LICENSE / COPYING / NOTICE files
  system/<package>.copyright   the Debian copyright file of each bundled system library's package
  common/GPL-3 ...      the full GPL and LGPL texts (the app's own licence and the LGPL libraries')
"""

import importlib.metadata
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from fanremix.licences import APP_LICENCE, DISTRIBUTION_NOTICE, licence_summary

LICENCE_FILE = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)([.-].*)?", re.IGNORECASE)
COMMON_LICENCES = Path("/usr/share/common-licenses")
COMMON_NAMES = ("GPL-3", "GPL-2", "LGPL-3", "LGPL-2.1", "Apache-2.0")
SYSTEM_LIBRARY_DIRS = ("/usr/lib/", "/lib/", "/usr/lib64/", "/lib64/")


def python_licence_files(top_level_names: Iterable[str]) -> dict[str, list[Path]]:
    """Licence files of the distributions that provide the given top-level modules."""
    providers = importlib.metadata.packages_distributions()
    found: dict[str, list[Path]] = {}
    for name in sorted(set(top_level_names)):
        for dist_name in providers.get(name, ()):
            if dist_name in found:
                continue
            dist = importlib.metadata.distribution(dist_name)
            files = [
                Path(str(dist.locate_file(entry)))
                for entry in dist.files or ()
                if LICENCE_FILE.fullmatch(entry.name) or "licenses" in entry.parts[:-1]
            ]
            found[dist_name] = [path for path in files if path.is_file()]
    return found


def debian_package_of(path: str) -> str | None:
    try:
        result = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    if result.returncode != 0 or ":" not in result.stdout:
        return None
    return result.stdout.split(":", 1)[0].strip() or None


def collect(out_dir: Path, module_names: Iterable[str], binary_sources: Iterable[str]) -> Path:
    """Write the licences folder; return it. `binary_sources` are the source paths of the bundled libraries."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    top_level = {name.split(".", 1)[0] for name in module_names}
    missing = []
    for dist_name, files in python_licence_files(top_level).items():
        if not files:
            missing.append(dist_name)
        for source in files:
            target = out_dir / "python" / dist_name / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    packages = set()
    for source in binary_sources:
        resolved = str(Path(source).resolve())
        if resolved.startswith(SYSTEM_LIBRARY_DIRS):
            package = debian_package_of(resolved) or debian_package_of(source)
            if package:
                packages.add(package.split(":")[0])
    for package in sorted(packages):
        copyright_file = Path("/usr/share/doc") / package / "copyright"
        if copyright_file.is_file():
            (out_dir / "system").mkdir(exist_ok=True)
            shutil.copyfile(copyright_file, out_dir / "system" / f"{package}.copyright")
    for name in COMMON_NAMES:
        if (COMMON_LICENCES / name).is_file():
            (out_dir / "common").mkdir(exist_ok=True)
            shutil.copyfile(COMMON_LICENCES / name, out_dir / "common" / name)
    readme = [
        f"Fan Remix Studio is licensed under {APP_LICENCE}; the full text is common/GPL-3.",
        "",
        DISTRIBUTION_NOTICE,
        "",
        "Components:",
        licence_summary(),
        "",
        "python/: the licence files each bundled Python package ships.",
        "system/: the Debian copyright files of the system libraries bundled with the app.",
    ]
    if missing:
        readme += ["", "Packages that ship no licence file (see the list above for their licences):"]
        readme += [f"  {name}" for name in sorted(missing)]
    (out_dir / "README.txt").write_text("\n".join(readme) + "\n", encoding="utf-8")
    return out_dir
