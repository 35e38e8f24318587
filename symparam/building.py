"""Parsing and counting without pauses of the cyclic garbage collector.

Both build a tree whose every object stays alive until the tree is done: nothing for
the collector to free. Left on, it would walk the growing tree again and again as the
allocations pile up, so a chain twice as long would take more than twice the time.
Reference counting still frees what it frees; cycles, if any, wait for the next run.
"""

from __future__ import annotations

import gc
from functools import wraps


def building(function):
    """Run `function` with the cyclic collector paused (left as found when already off)."""

    @wraps(function)
    def built(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return built
