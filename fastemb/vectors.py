"""Word vectors and their files under their public name (``fastemb.vectors.load_vectors``); models/vectors.py."""
from .models.vectors import Vectors, load_vectors, save_vectors

__all__ = ["Vectors", "load_vectors", "save_vectors"]
