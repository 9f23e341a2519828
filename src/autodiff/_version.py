"""The version, at the bottom of the package: the command line prints it, the API exports it."""

__version__ = "0.1.0"
