"""Web: the HTTP layer the modules share (live fan-out, SSE, templating, errors, layout routes).

Its parts are imported by name (``chiffon.web.live``, ``chiffon.web.sse``, ...) rather than
re-exported here, so that the CLI, which needs ``live`` but no web server, does not import
Litestar.
"""
