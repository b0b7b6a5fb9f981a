"""Reading quantities: a cell padded with tens of thousands of spaces is read in linear time.

The unit pattern once backtracked quadratically ("1 k" + 60,000 spaces + "g" took 13 s).
Prints the time of each cell length and the ratio of the longest to the shortest per
character; a ratio near 1 means linear.

Run: ``.venv/bin/python benchmarks/bench_units.py``.
"""

from __future__ import annotations

import contextlib
import time

from studylib.units import parse_quantity

SHAPES = {
    "spaces inside the unit": lambda n: "1 k" + " " * n + "g",
    "spaces then a word": lambda n: "1 mg/dL" + " " * n + "x",
    "many words": lambda n: "1 " + " x" * (n // 2),
    "digits": lambda n: "1" * n + " mg/dL",
}


def read(text: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(ValueError):
        parse_quantity(text, "mg/dL")
    return time.perf_counter() - start


def main() -> None:
    for name, make in SHAPES.items():
        small, large = 6_000, 60_000
        short, long = read(make(small)), read(make(large))
        ratio = (long / large) / max(short / small, 1e-9)
        print(
            f"{name:24} {small:>6} chars {short:7.4f} s  {large:>6} chars {long:7.4f} s"
            f"  per-character ratio {ratio:5.1f}"
        )


if __name__ == "__main__":
    main()
