"""fastemb: embedding layers trained by skip-gram or by a task, on one sparse row-update core."""

__version__ = "0.1.0"
