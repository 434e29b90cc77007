"""The versioned JSON Schemas (draft 2020-12) of artlens's outputs, shipped as package data.

``<name>-<version>.json`` describes the documents whose ``schema`` field reads ``artlens.<name>/<version>``.
"""

from __future__ import annotations

from artlens.schemas.read import read_schema

__all__ = ["read_schema"]
