"""``make bench``: loader, pipeline and scale benchmarks (see BENCHMARKS.md and
``python -m bench --help``). Not part of ``make test``."""
