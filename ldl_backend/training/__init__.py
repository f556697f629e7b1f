"""LDL training: typed recipes, the loss terms (with the locally discriminative artifact term), the EMA and the
GAN step. The package re-exports nothing: its users (the ``ldl train`` command, the tests, the benchmarks) import
the modules themselves (``ldl_backend.training.config``, ``.trainer``, ``.step``, ...)."""
