"""Benchmarks of fastemb against gensim, fastText and word2vec C: ``python -m bench --help``.

Everything here runs from a source checkout (``python -m bench ...`` in the
repository root); it is not part of the installed ``fastemb`` package.
"""
