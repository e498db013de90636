"""python -m bench [pages|load|crash] — see the Makefile targets bench, load and crash."""

from __future__ import annotations

import sys


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "pages"
    if what == "pages":
        from .pages import main as run
    elif what == "load":
        from .load import main as run
    elif what == "crash":
        from .crash import main as run
    else:
        sys.exit(f"unknown benchmark {what!r}: pages, load or crash")
    run()


if __name__ == "__main__":
    main()
