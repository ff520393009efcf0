"""Allow `python -m feeds`."""

from feeds.cli import main

if __name__ == "__main__":
    main()
