"""``python -m artlens`` runs the command line."""

from artlens.cli import main

if __name__ == "__main__":
    main()
