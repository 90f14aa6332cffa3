"""feeder's benchmarks: run them with ``make bench`` or ``python -m benchmarks.run [--quick]``."""
