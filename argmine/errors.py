"""Errors a user can act on; the CLI prints them as one line and exits non-zero."""


class ArgmineError(Exception):
    """Base class: a problem with the user's input, model or settings (exit code 2)."""

    exit_code = 2


class InputError(ArgmineError):
    """The input file cannot be read as a thread (empty, binary, malformed, inconsistent)."""


class ModelError(ArgmineError):
    """A relation model cannot be loaded or its labels cannot be mapped."""


class ConfigError(ArgmineError):
    """A settings file or override is invalid."""
