"""The ``ldl`` command: the composition root for the command line (in-process, no server needed)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ldl_backend.commands import evaluate as evaluate_command
from ldl_backend.commands import models as models_command
from ldl_backend.commands import serve as serve_command
from ldl_backend.commands import train as train_command
from ldl_backend.commands import upscale as upscale_command
from ldl_backend.errors import LdlError
from ldl_backend.models.catalog import builtin_catalog
from ldl_backend.models.store import ModelStore
from ldl_backend.paths import models_root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ldl", description="LDL Studio: super-resolution that shows its artifacts")
    commands = parser.add_subparsers(dest="command", required=True)
    upscale = commands.add_parser("upscale", help="upscale images or folders of images")
    upscale_command.add_arguments(upscale)
    upscale.set_defaults(handler=upscale_command.run)
    models = commands.add_parser("models", help="list, install and remove models")
    models_command.add_subcommands(models.add_subparsers(dest="models_command", required=True))
    evaluate = commands.add_parser("eval", help="score models on an image set (PSNR-Y, SSIM-Y, NIQE, LPIPS)")
    evaluate_command.add_arguments(evaluate)
    evaluate.set_defaults(handler=evaluate_command.run)
    serve = commands.add_parser("serve", help="run the local backend for the app and plug-ins (127.0.0.1)")
    serve_command.add_arguments(serve)
    serve.set_defaults(handler=serve_command.run)
    train = commands.add_parser("train", help="fine-tune a generator with LDL's loss (--preset or a TOML recipe)")
    train_command.add_arguments(train)
    train.set_defaults(handler=train_command.run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
