"""Fan Remix Studio: remix licensed stems within the rights holder's policy."""

__version__ = "0.1.0"
APP_NAME = "Fan Remix Studio"
