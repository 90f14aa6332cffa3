"""What changed in the store → files in the output folder, written atomically."""

from feeder.publish.build import BuildReport, Publisher, build

__all__ = ["BuildReport", "Publisher", "build"]
