"""The words every layer shares, and nothing else: this package imports nothing of the app.

- ``refusals``: why a connection is refused (a closed set, for metrics labels), the callback
  that is told, the exception a credential refusal raises, and close reasons cut to size;
- ``close_codes``: the close codes the server uses, and which codes a metric may label.
"""
