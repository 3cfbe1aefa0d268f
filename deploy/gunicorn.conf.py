# gunicorn -c deploy/gunicorn.conf.py "qc_service.app:create_app()"
# The settings live in the package so that `qc-service serve --gunicorn` uses them too.
from qc_service.gunicorn_conf import *  # noqa: F403
