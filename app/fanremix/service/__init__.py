"""The reference rights service (FastAPI + SQLAlchemy). Start it with `fanremix serve` or `serve(settings)`."""
