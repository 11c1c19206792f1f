"""dealgate: objective stage exit criteria for sales pipelines."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dealgate")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+source"
