"""Pure models: stem packs, remix policies, recipes and provenance records.

Nothing here imports Qt, audio, network or file-format libraries, or any other part of fanremix.
"""
