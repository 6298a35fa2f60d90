"""Options shared by several ``twin`` commands, defined once."""

from __future__ import annotations

import argparse

LANGS = ("en", "fr")


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="replace the output if it exists")


def add_lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of labels and reports (default: en)")


def add_out(parser: argparse.ArgumentParser, *, required: bool = True, help: str = "output directory") -> None:
    parser.add_argument("--out", "-o", required=required, metavar="DIR", help=help)


def add_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size", default="1600x1000", metavar="WxH", type=parse_size, help="picture size in pixels (default: 1600x1000)"
    )


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (expected WIDTHxHEIGHT, e.g. 1600x1000)") from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"invalid size {text!r} (each side must be within 16..8192 pixels)")
    return (w, h)
