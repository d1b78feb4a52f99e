"""Fetch a model's weights from the Hugging Face Hub into the Hub cache ahead of time.

    python -m genmodels.download NAME [NAME ...]

Afterwards the app and `genmodels.hub.load` find them offline. Models with a folder under `checkpoints/` need no
download; this fetches the Hub copy anyway, so the two can be compared.
"""

from __future__ import annotations

import argparse

from . import hub, registry


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="+", choices=list(registry.REGISTRY), metavar="NAME")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the Hub's first answer")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            entry = registry.get(name)
            files = (entry.hub_file,) if entry.hub_file else hub.FILES
            print(name, hub.hub_paths(entry, files, args.timeout)[0].parent)
        except ValueError as exc:
            parser.exit(1, f"{exc}\n")


if __name__ == "__main__":
    main()
