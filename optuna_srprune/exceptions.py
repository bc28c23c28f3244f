"""Error types of optuna-srprune.

Every error the package raises on bad input derives from :class:`SRPruneError`, so the command line can
turn it into a one-line message and a non-zero exit status instead of a traceback.
"""

from __future__ import annotations


class SRPruneError(Exception):
    """Base class of every error raised by optuna-srprune on bad input or bad state."""


class ConfigError(SRPruneError, ValueError):
    """A :class:`~optuna_srprune.config.SubnetConfig` or search-space setting is invalid."""


class DataError(SRPruneError, ValueError):
    """An image or data folder cannot be used (missing, unreadable, too small...)."""


class CheckpointError(SRPruneError):
    """A supernet checkpoint is corrupt or does not match the search space or scale."""


class LatencyTableError(SRPruneError):
    """A latency lookup table is missing, incomplete or belongs to another device."""


class StudyError(SRPruneError):
    """A study cannot be created or joined with the given settings."""


class MissingDependencyError(SRPruneError, ImportError):
    """An optional dependency is not installed."""
