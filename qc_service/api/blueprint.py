"""The one blueprint every ``/api/v1`` endpoint hangs on."""

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/v1")
