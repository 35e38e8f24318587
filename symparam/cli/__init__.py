"""The command line: a thin layer over the API and the renderers, one module a command.

A command's module is imported only when it runs (or when help lists it), so a count
does not pay for defining every other command's options.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

COMMANDS = {  # name: the module in this package that defines it, and the command in it
    "count": ("count", "count"),
    "summary": ("summary", "summary"),
    "explain": ("explain", "explain"),
    "solve": ("solve", "solve"),
    "sweep": ("sweep", "sweep"),
    "layers": ("layers", "layers"),
    "check": ("check", "check_command"),
    "export": ("export", "export_command"),
    "flops": ("flops", "flops"),
    "memory": ("memory", "memory"),
}


class LazyGroup(click.Group):
    """click's recipe for lazily loaded subcommands: each is imported on first use."""

    def list_commands(self, ctx) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx, name: str):
        if name not in COMMANDS:
            return None
        module, command = COMMANDS[name]
        return getattr(import_module(f"{__name__}.{module}"), command)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symparam")
def main():
    """symparam: exact formulas for the number of parameters of a neural network."""
    # Counts are exact at any size; Python limits int -> str to 4300 digits by default.
    # values.py lifts it where a count is written; this covers the rest of a CLI process.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)


if __name__ == "__main__":
    main()
