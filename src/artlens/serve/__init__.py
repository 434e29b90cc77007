"""``artlens serve``: the HTTP service (``pip install artlens[serve]``).

:func:`create_app` builds the FastAPI app from :class:`ServeSettings`; :class:`KeyStore` manages its API keys.
"""

from artlens.lazy import lazy_exports

# FastAPI is imported only when the app is built.
__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ApiKey": "artlens.serve.auth",
    "KeyStore": "artlens.serve.auth",
    "ServeSettings": "artlens.serve.settings",
    "create_app": "artlens.serve.app",
    "is_loopback": "artlens.serve.settings",
})
