"""qc-service: quality control for crowdsourced labels."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("qc-service")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__", "create_app"]


def create_app(config: dict | None = None):
    """Build the Flask application; see :func:`qc_service.app.create_app`."""
    from qc_service.app import create_app as _create_app

    return _create_app(config)
