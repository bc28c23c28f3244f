"""Defaults that several levels share, each defined once (torch-free, imports nothing of ours)."""

from __future__ import annotations

# Where studies and latency tables live unless told otherwise: a SQLite file in the working folder.
DEFAULT_STORAGE = "sqlite:///srprune.db"
# The output size latency is predicted and MACs are counted at: 720p, (height, width).
DEFAULT_HR_SIZE: tuple[int, int] = (720, 1280)
