"""fastemb: embedding layers trained by word2vec (skip-gram, CBOW) or by a task, on one sparse row-update core."""

__version__ = "0.1.0"


_LAZY = {"load_vectors": "models.vectors", "save_vectors": "models.vectors", "Vectors": "models.vectors",
         "train_unsupervised": "api", "train_supervised": "api", "load_model": "api",
         "Word2VecConfig": "base.config", "SupervisedConfig": "base.config", "FastembError": "base.errors"}


def __getattr__(name):
    """``fastemb.load_vectors`` etc., imported on first use so that ``fastemb --help`` stays instant."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'fastemb' has no attribute {name!r}")
