"""The ``ldl`` command: the composition root for the command line (in-process, no server needed).

Only the chosen command's module is imported: ``ldl upscale`` does not pay for the server's web stack or the
trainer's imports before its first pixel (``ldl --help`` imports none of them)."""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Command:
    """A subcommand: its module defines ``add_arguments(parser)`` and ``run(arguments, store)``, or, with
    subcommands of its own, ``add_subcommands(subparsers)`` setting each one's handler."""

    name: str
    module: str
    help: str

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)


COMMANDS = (
    Command("upscale", "ldl_backend.commands.upscale", "upscale images or folders of images"),
    Command("batch", "ldl_backend.commands.batch", "upscale a folder tree, in process or on a Ray cluster, resumable"),
    Command("models", "ldl_backend.commands.models", "list, install and remove models"),
    Command("eval", "ldl_backend.commands.evaluate", "score models on an image set (PSNR-Y, SSIM-Y, NIQE, LPIPS)"),
    Command("serve", "ldl_backend.commands.serve", "run the local backend for the app and plug-ins (127.0.0.1)"),
    Command("train", "ldl_backend.commands.train", "fine-tune a generator with LDL's loss (--preset or a TOML recipe)"),
)


def main(argv: Sequence[str] | None = None) -> int:
    return execute(parse(argv))


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, parsed by the parser of the command they name (whose module, and PyTorch, it imports)."""
    # OpenMP threads that spin at every barrier stall whenever other programs' threads spin too: a 16×16 upscale
    # beside two PyTorch processes took 10.5-17.6 s with GNU OpenMP's default spinning (300,000 rounds), 7.2-7.5 s
    # with 10,000, while a quiet machine sees no difference (2.0 s either way; benchmarks/engine.py). Set before
    # torch starts OpenMP (the backend's worker inherits it); a user's own setting wins.
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    arguments_list = list(sys.argv[1:] if argv is None else argv)
    return build_parser(_chosen(arguments_list)).parse_args(arguments_list)


def execute(arguments: argparse.Namespace) -> int:
    """Run the parsed command; its errors are printed with their hints. Returns the exit status."""
    # Imported here, after parsing: ``ldl --help`` and argument errors stay instant.
    from ldl_backend.errors import LdlError
    from ldl_backend.models.catalog import builtin_catalog
    from ldl_backend.models.store import ModelStore
    from ldl_backend.paths import models_root

    store = ModelStore(models_root(), builtin_catalog())
    try:
        return int(arguments.handler(arguments, store))
    except LdlError as error:
        print(f"error: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"hint: {error.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no partial output was written", file=sys.stderr)
        return 130


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``only``) every command listed but only the one named ``only`` built, if any."""
    parser = argparse.ArgumentParser(prog="ldl", description="LDL Studio: super-resolution that shows its artifacts")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        if only is not None and command.name != only:
            continue
        module = command.load()
        if hasattr(module, "add_subcommands"):
            module.add_subcommands(sub.add_subparsers(dest=f"{command.name}_command", required=True))
        else:
            module.add_arguments(sub)
            sub.set_defaults(handler=module.run)
    return parser


def _chosen(argv: Sequence[str]) -> str:
    """The command the arguments name: the first word (``ldl`` itself takes no option but --help). Any other word,
    or none, builds no command's arguments: argparse then lists the commands or names the unknown one."""
    return next((word for word in argv if not word.startswith("-")), "")


# Commands whose process has nothing left to do when they return: outputs written and closed, threads joined and
# scratch folders removed inside the command. Tearing down an interpreter that has loaded PyTorch and a model takes
# about 0.7 s more (a 16×16 upscale: 3.44 against 2.72 s, benchmarks/startup.py), so these end at once.
_ENDS_AT_ONCE = frozenset({"upscale"})


def run() -> None:
    """The ``ldl`` console script: ``main`` with the process's start-up and exit made cheaper."""
    # Importing PyTorch and the command creates about a million objects that live as long as the process; the
    # cyclic garbage collector would scan them all, again and again, while they are created and at every full
    # collection after. Off while importing, then those objects set aside for good: a 16×16 upscale took 0.3 s
    # less (2.02 against 2.32 s, median of 8). The in-process ``main`` (tests, benchmarks) leaves the collector alone.
    gc.disable()
    try:
        arguments = parse()
    finally:
        gc.freeze()
        gc.enable()
    code = execute(arguments)
    if _chosen(sys.argv[1:]) in _ENDS_AT_ONCE:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
