"""WSGI entry point for gunicorn (``web.wsgi:app``)."""

import gc

from web import create_app

app = create_app()
# What importing and building the app made lives as long as the process: frozen, it is out of the
# collector's reach, and a full collection under load walks only what requests allocate. Unfrozen, each
# full pass stalled every request in flight of the (one-core) gevent worker for ~80 ms at 32 connections.
gc.freeze()
