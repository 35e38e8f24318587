"""What a parameter takes in memory, by the type it is stored as."""

from __future__ import annotations

from .errors import SymparamError

BYTES_PER_PARAM = {"fp64": 8, "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def bytes_per_param(dtype: str) -> int:
    if dtype not in BYTES_PER_PARAM:
        raise SymparamError(f"unknown dtype '{dtype}': one of {', '.join(BYTES_PER_PARAM)}")
    return BYTES_PER_PARAM[dtype]
