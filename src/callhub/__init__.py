"""callhub: a computer-telephony gateway for service desks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("callhub")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
