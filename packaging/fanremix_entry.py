"""The bundle's entry point (PyInstaller runs this as `__main__`; the console script runs `fanremix.cli:main`).

Two things a frozen app has to do that an installed package does not:

- `multiprocessing.freeze_support()`: `fanremix serve --workers N` starts uvicorn workers with the `spawn` method,
  which re-runs this executable with multiprocessing's own arguments.
- `-m fanremix.service ...`: the desktop app and `fanremix submit` start the local rights service as
  `[sys.executable, "-m", "fanremix.service", ...]` (see `fanremix.local_service`). In a bundle `sys.executable` is
  this program, not a Python interpreter, so that one module is run here. Nothing else is accepted after `-m`: the
  bundle is not a general Python interpreter.
"""

import multiprocessing
import runpy
import sys

RUNNABLE_MODULES = frozenset({"fanremix.service"})


def main() -> int:
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if argv[:1] == ["-m"]:
        module = argv[1] if len(argv) > 1 else ""
        if module not in RUNNABLE_MODULES:
            print(f"fanremix: -m runs only {', '.join(sorted(RUNNABLE_MODULES))}, not '{module}'.", file=sys.stderr)
            return 2
        sys.argv = [sys.argv[0], *argv[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)  # the module calls sys.exit itself
        return 0
    from fanremix.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
