"""``python -m degenet``: the ``degenet`` command."""

from degenet.cli import main

if __name__ == "__main__":
    main()
