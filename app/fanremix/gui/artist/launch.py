"""Start the desktop app in artist mode: `fanremix artist [PACK]` (and `fanremix --artist`)."""

import sys
from pathlib import Path

from fanremix.workspace import Workspace


def launch_artist(argv_pack: str | None, workspace: Workspace, *, use_device: bool = True) -> int:
    """Open the artist window (with `argv_pack`, a .fanpack, if given) and run until it closes; the exit code."""
    from ..app import create_application, no_display_problem

    problem = no_display_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = create_application(sys.argv[:1])
    from .window import ArtistWindow

    window = ArtistWindow(workspace, use_device=use_device)
    window.show()
    if argv_pack:
        window.open_pack_file(Path(argv_pack))
    return app.exec()
