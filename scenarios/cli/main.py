"""Entry point of the ``twin`` command.

Exit status: 0 success, 1 runtime failure (one ``Error:`` line), 2 bad input or
usage (one line naming the file and the problem), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from twin.errors import TwinError, TwinInputError

#: The commands, in the order ``--help`` lists them: name -> module under scenarios.cli.
#: Adding a command is one line here and one module.
COMMANDS = {
    "demo": "scenarios.cli.demo",
    "info": "scenarios.cli.info",
    "run": "scenarios.cli.run",
    "compare": "scenarios.cli.compare",
    "render": "scenarios.cli.render",
    "build": "scenarios.cli.build",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="twin",
        description="jumeau: a 3D digital twin and scenario engine for French territories.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars or status lines")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.__doc__)
        p.add_argument("--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="no progress bars or status lines")
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run, _command=name)
    return parser


def _version() -> str:
    from twin import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    from twin.progress import set_quiet

    set_quiet(args.quiet)
    prog = f"twin {args._command}"
    try:
        return int(args._run(args) or 0)
    except TwinInputError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except TwinError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # an unexpected failure: one line, traceback on --debug
        if args.debug:
            raise
        print(f"Error: internal error: {type(err).__name__}: {err} (run with --debug for details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
