"""c2pa-python loads its native library (libc2pa_c.so) with ctypes from the `libs/` folder beside its own modules.

Collect that library, and only it: the wheel's `libs/` also holds the Rust static library (.rlib, ~31 MB) and a
make-style dependency file, which are build artefacts nothing loads at run time.
"""

from pathlib import Path

from PyInstaller.utils.hooks import get_module_file_attribute

_LIBS = Path(get_module_file_attribute("c2pa")).parent / "libs"

binaries = [(str(lib), "c2pa/libs") for lib in sorted(_LIBS.glob("libc2pa_c.so*"))]
