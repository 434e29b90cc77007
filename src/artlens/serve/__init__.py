"""``artlens serve``: the HTTP service (``pip install artlens[serve]``).

:func:`create_app` builds the FastAPI app from :class:`ServeSettings`; :class:`KeyStore` manages its API keys.
"""

from artlens.serve.auth import ApiKey, KeyStore
from artlens.serve.settings import ServeSettings, is_loopback

__all__ = ["ApiKey", "KeyStore", "ServeSettings", "create_app", "is_loopback"]


def __getattr__(name: str) -> object:
    if name == "create_app":  # FastAPI is imported only when the app is built
        from artlens.serve.app import create_app

        return create_app
    raise AttributeError(name)
