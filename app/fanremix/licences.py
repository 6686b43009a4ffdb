"""Who made what the app ships, under which licence: shown by Help → About and written into the bundle's licences/.

Pure data (standard library only), so the About dialog, the CLI and the packaging scripts can all read it. Licences
are SPDX identifiers. When a dependency is added to pyproject.toml, or the bundle starts shipping another native
library, add it here too (tests/packaging checks that every runtime dependency is listed).
"""

from dataclasses import dataclass

APP_LICENCE = "GPL-3.0-or-later"
# Where the complete source of each released version is published. There is no public home yet: set this before the
# first binary is given to anyone, because the GPL requires the source to be offered with it.
SOURCE_URL: str | None = None

DISTRIBUTION_NOTICE = (
    "Fan Remix Studio is free software under the GNU General Public License, version 3 or (at your option) any "
    "later version. It has to be: it is built on pedalboard, which is licensed under the GPL version 3, and pedalboard "
    "contains the Rubber Band Library, licensed under the GPL. So the app as distributed, with everything bundled in "
    "it, is GPL-3.0-or-later as a whole. Anyone who passes on this app in binary form (the bundle, the AppImage, an "
    "installer) must pass on its licence and offer the complete corresponding source code of that exact version, "
    "under the same terms, and may not add restrictions. The libraries under other licences (LGPL, BSD, MIT, Apache) "
    "stay under their own terms; the LGPL ones (Qt, PySide6, libsndfile, the JACK client library) are loaded as "
    "separate shared libraries that you may replace with your own builds. There is no warranty."
)


@dataclass(frozen=True)
class Component:
    name: str
    licence: str  # SPDX expression
    url: str
    note: str = ""


COMPONENTS: tuple[Component, ...] = (
    Component("Fan Remix Studio", APP_LICENCE, SOURCE_URL or "", "This app."),
    Component("Python", "PSF-2.0", "https://www.python.org/", "The interpreter bundled with the app."),
    Component(
        "pedalboard",
        "GPL-3.0-only",
        "https://github.com/spotify/pedalboard",
        "Effects, audio file I/O and time-stretching, by Spotify. Makes the whole app GPL.",
    ),
    Component(
        "JUCE",
        "GPL-3.0-only",
        "https://juce.com/",
        "Audio framework compiled into pedalboard (used under its GPL option).",
    ),
    Component(
        "Rubber Band Library",
        "GPL-2.0-or-later",
        "https://breakfastquay.com/rubberband/",
        "Tempo and key changes; compiled into pedalboard. A closed-source build would need its commercial licence.",
    ),
    Component("LAME", "LGPL-2.0-or-later", "https://lame.sourceforge.io/", "MP3 encoding, inside pedalboard."),
    Component("FLAC, Ogg and Vorbis", "BSD-3-Clause", "https://xiph.org/", "FLAC and OGG codecs, inside pedalboard."),
    Component(
        "Qt 6",
        "LGPL-3.0-only",
        "https://www.qt.io/",
        "The GUI toolkit (QtCore, QtGui, QtWidgets), as shared libraries you may replace.",
    ),
    Component("PySide6 and Shiboken6", "LGPL-3.0-only", "https://wiki.qt.io/Qt_for_Python", "Qt for Python."),
    Component("NumPy", "BSD-3-Clause", "https://numpy.org/", "Includes OpenBLAS (BSD-3-Clause)."),
    Component("SciPy", "BSD-3-Clause", "https://scipy.org/", "Filters and resampling."),
    Component(
        "GCC runtime libraries",
        "GPL-3.0-or-later WITH GCC-exception-3.1",
        "https://gcc.gnu.org/",
        "libstdc++, libgcc, libgfortran and libquadmath, under the runtime library exception.",
    ),
    Component("python-soundfile", "BSD-3-Clause", "https://github.com/bastibe/python-soundfile", "Reads stems."),
    Component("libsndfile", "LGPL-2.1-or-later", "https://libsndfile.github.io/libsndfile/", "Used by soundfile."),
    Component("python-sounddevice", "MIT", "https://github.com/spatialaudio/python-sounddevice", "Audio output."),
    Component("PortAudio", "MIT", "https://www.portaudio.com/", "Audio output (bundled)."),
    Component(
        "JACK client library",
        "LGPL-2.1-or-later",
        "https://jackaudio.org/",
        "Bundled only as a fallback for systems that have none (with Berkeley DB 5.3, Sleepycat licence).",
    ),
    Component("pyloudnorm", "MIT", "https://github.com/csteinmetz1/pyloudnorm", "ITU-R BS.1770 loudness."),
    Component(
        "c2pa-python and the C2PA Rust SDK",
        "MIT OR Apache-2.0",
        "https://github.com/contentauth/c2pa-python",
        "Content Credentials, by the Content Authenticity Initiative.",
    ),
    Component("cryptography", "Apache-2.0 OR BSD-3-Clause", "https://cryptography.io/", "Keys and signatures."),
    Component("OpenSSL", "Apache-2.0", "https://www.openssl.org/", "Used by cryptography and Python."),
    Component("Mutagen", "GPL-2.0-or-later", "https://github.com/quodlibet/mutagen", "Credit tags in exported files."),
    Component("Requests", "Apache-2.0", "https://requests.readthedocs.io/", "The rights-service client."),
    Component("urllib3", "MIT", "https://urllib3.readthedocs.io/", "Used by Requests."),
    Component("certifi", "MPL-2.0", "https://github.com/certifi/python-certifi", "Root certificates."),
    Component("keyring", "MIT", "https://github.com/jaraco/keyring", "Keeps the service token in the OS keyring."),
    Component("platformdirs", "MIT", "https://github.com/tox-dev/platformdirs", "Config, data and cache folders."),
    Component("FastAPI", "MIT", "https://fastapi.tiangolo.com/", "The local rights service."),
    Component("Starlette", "BSD-3-Clause", "https://www.starlette.io/", "Used by FastAPI."),
    Component("Pydantic", "MIT", "https://docs.pydantic.dev/", "Used by FastAPI."),
    Component("Uvicorn", "BSD-3-Clause", "https://www.uvicorn.org/", "Serves the rights service."),
    Component("python-multipart", "Apache-2.0", "https://github.com/Kludex/python-multipart", "Uploads."),
    Component("SQLAlchemy", "MIT", "https://www.sqlalchemy.org/", "The rights service's database."),
    Component("Alembic", "MIT", "https://alembic.sqlalchemy.org/", "Database migrations."),
    Component("SQLite", "blessing", "https://sqlite.org/", "Public domain."),
)

CREDITS: tuple[str, ...] = (
    "Spotify's Audio Intelligence Lab, for pedalboard.",
    "Chris Cannam and Particular Programs, for the Rubber Band Library.",
    "Raw Material Software, for JUCE.",
    "The Qt Company and the Qt Project, for Qt and Qt for Python.",
    "The Content Authenticity Initiative, for the C2PA SDKs.",
    "The PortAudio, JACK and libsndfile developers.",
    "Christian Steinmetz, for pyloudnorm.",
    "The NumPy, SciPy, FastAPI, SQLAlchemy and Python communities.",
)


def licence_summary() -> str:
    """One line per component, for `fanremix --licences` and the bundle's licences/README.txt."""
    width = max(len(component.name) for component in COMPONENTS)
    lines = [f"{component.name:<{width}}  {component.licence}  {component.url}" for component in COMPONENTS]
    return "\n".join(lines)
