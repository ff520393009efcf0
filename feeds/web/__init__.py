"""The web layer: the Flask app that serves the published tree (app), HTTP conditional
requests, the image proxy endpoint, /metrics and the production WSGI server.
It reads the tree through feeds.tree, never the builder's internals.
"""
