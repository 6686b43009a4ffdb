"""Widgets of the main window; each is a thin view over the Session."""
