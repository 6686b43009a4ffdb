"""Dialogs: export, audio device, errors."""
