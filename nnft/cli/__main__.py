"""``python -m nnft.cli``: the ``nnft`` command."""

from nnft.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
