"""Settings live in modules: ``local`` (default), ``test`` and ``production``."""
