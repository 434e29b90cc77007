"""The artlens command line (placeholder until the Typer app lands in this commit series)."""

def main() -> None:
    raise SystemExit("artlens: command line under construction")
