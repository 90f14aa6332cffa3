"""The benchmark scripts still run: tiny sizes, no timing asserted (numbers vary by machine)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.run import main


def test_quick_benchmarks_run_and_write_results(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    assert main(["--quick", "--only", "parse", "rebuild", "--results", str(results)]) == 0
    text = results.read_text(encoding="utf-8")
    assert "Parse throughput" in text and "Rebuild cost" in text
    assert "| cores |" in text
