"""Chiffon: run your homelab by asking for it in plain words."""

__version__ = "0.1.0"
