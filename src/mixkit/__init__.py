"""mixkit: the data side of continuing to train an existing LLM without losing what it knows."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mixkit")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from mixkit.records import Document

__all__ = ["Document", "__version__"]
