"""The `yutang` command line (Typer)."""
