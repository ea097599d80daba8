"""The error class under its public name (``fastemb.errors.FastembError``); it lives in base/errors.py."""
from .base.errors import FastembError

__all__ = ["FastembError"]
