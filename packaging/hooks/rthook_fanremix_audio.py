"""Runtime hook: make sounddevice load the PortAudio bundled with the app.

sounddevice finds PortAudio with `ctypes.util.find_library("portaudio")`, which on Linux asks ldconfig about the
system's libraries and never looks inside the bundle. This points it at the bundled copy instead.

The bundled PortAudio needs libjack.so.0 and libasound.so.2. Neither is bundled on purpose (see
packaging/README.md): a JACK client library must match the JACK or PipeWire server of the system it runs on, and
ALSA loads its plugins (PulseAudio, PipeWire) from a path compiled into the system's own libasound. When the system
has no libjack at all, the copy kept in `audio-fallback/` is loaded first, so PortAudio still loads and plays through
ALSA.
"""


def _install() -> None:
    import ctypes
    import ctypes.util
    import os
    import sys

    bundle = getattr(sys, "_MEIPASS", None)
    if not bundle:
        return
    portaudio = os.path.join(bundle, "libportaudio.so.2")
    if not os.path.isfile(portaudio):
        return

    def preload_jack() -> None:
        try:
            ctypes.CDLL("libjack.so.0", mode=ctypes.RTLD_GLOBAL)  # the system's: matches its JACK or PipeWire server
        except OSError:
            # the fallback's own dependency first, by path: the dynamic loader does not search the bundle
            fallback = [os.path.join(bundle, "libdb-5.3.so"), os.path.join(bundle, "audio-fallback", "libjack.so.0")]
            try:
                for library in fallback:
                    if os.path.isfile(library):
                        ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
            except OSError:
                pass  # sounddevice then fails to import, and the app falls back to its silent null output

    system_find_library = ctypes.util.find_library
    preloaded = []

    def find_library(name: str):
        if name == "portaudio":
            if not preloaded:
                preload_jack()
                preloaded.append(True)
            return portaudio
        return system_find_library(name)

    ctypes.util.find_library = find_library


_install()
