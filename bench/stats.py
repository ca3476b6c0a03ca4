"""The benchmarks' one way to turn measurements into figures: a percentile, a summary of samples, failures, and the
facts of the machine the figures were taken on.

One percentile definition for every bench, nearest rank: the p-th percentile of n values is the value at rank
ceil(p / 100 * n) of the sorted values (rank 1 at least), always a value that was measured. The median of a bench's
samples is the same 50th percentile (for an even count, the lower of the two middle values), so a p50 and a median
never differ by a rank between two benches. Standard library only: the unit tests import it without services.
"""

from __future__ import annotations

import math
import os
import platform
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0-100) of `values` by the nearest-rank method.

    Raises:
        ValueError: no values, or p outside 0-100.
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("the percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is not within 0-100")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def median(values: Iterable[float]) -> float:
    """The 50th percentile by nearest rank (the lower middle value for an even count) of the values that are not NaN
    (a sample without the figure); NaN when none is left."""
    kept = [value for value in values if not math.isnan(value)]
    return percentile(kept, 50) if kept else math.nan


@dataclass(frozen=True)
class Spread:
    """A figure over a bench's samples: its median, the lowest and highest sample, and how many samples."""

    median: float
    low: float
    high: float
    n: int

    def text(self, fmt: str = ".1f", unit: str = "") -> str:
        """`12.3 ms (10.1-14.2, n=3)`; `-` without samples."""
        if not self.n:
            return "- (n=0)"
        unit = f" {unit}" if unit else ""
        return f"{self.median:{fmt}}{unit} ({self.low:{fmt}}-{self.high:{fmt}}, n={self.n})"


def spread(values: Iterable[float]) -> Spread:
    """The median, min and max of the samples' values (NaN ones, a sample without the figure, are left out)."""
    kept = [value for value in values if not math.isnan(value)]
    if not kept:
        return Spread(math.nan, math.nan, math.nan, 0)
    return Spread(median(kept), min(kept), max(kept), len(kept))


class Failures:
    """Failed operations of a run, counted by kind, with the first message of each kind (thread-safe)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._first: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, kind: str, message: str = "", count: int = 1) -> None:
        """Count `count` failures of `kind` (0 is allowed: nothing is recorded)."""
        if count <= 0:
            return
        with self._lock:
            self._counts[kind] += count
            self._first.setdefault(kind, message)

    @property
    def total(self) -> int:
        """How many failures in all."""
        return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """{kind: count}, sorted by kind."""
        return dict(sorted(self._counts.items()))

    def text(self) -> str:
        """`failures: 0`, or `failures: 3 (read: 2, write: 1); first read: ...; first write: ...`."""
        if not self.total:
            return "failures: 0"
        kinds = ", ".join(f"{kind}: {n}" for kind, n in self.counts().items())
        firsts = "; ".join(f"first {kind}: {self._first[kind][:160]}" for kind in self.counts() if self._first[kind])
        return f"failures: {self.total} ({kinds})" + (f"; {firsts}" if firsts else "")


@dataclass(frozen=True)
class MachineFacts:
    """What a figure depends on beyond the code: cores, memory, and how busy the machine was."""

    cores: int
    usable_cores: int
    memory_mib: int | None
    available_mib: int | None
    load: tuple[float, float, float]
    python: str
    system: str

    def text(self) -> str:
        """One line: cores, memory, load averages over 1, 5 and 15 minutes."""
        memory = "memory unknown"
        if self.memory_mib is not None:
            memory = f"{self.memory_mib / 1024:.1f} GiB memory"
            if self.available_mib is not None:
                memory += f" ({self.available_mib / 1024:.1f} GiB available)"
        usable = "" if self.usable_cores == self.cores else f" ({self.usable_cores} usable)"
        one, five, fifteen = self.load
        return (
            f"{self.cores} cores{usable}, {memory}, load average {one:.2f} / {five:.2f} / {fifteen:.2f} "
            f"(1 / 5 / 15 min); Python {self.python} on {self.system}"
        )


def _meminfo(path: Path) -> dict[str, int]:
    """{field: kB} from /proc/meminfo; empty where there is none."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    out = {}
    for line in lines:
        name, _, rest = line.partition(":")
        if rest.split() and rest.split()[0].isdigit():
            out[name] = int(rest.split()[0])
    return out


def machine_facts(
    meminfo: Path = Path("/proc/meminfo"), loadavg: Callable[[], tuple[float, float, float]] = os.getloadavg
) -> MachineFacts:
    """The machine now (memory from /proc/meminfo where there is one)."""
    memory = _meminfo(meminfo)
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    total, available = memory.get("MemTotal"), memory.get("MemAvailable")
    return MachineFacts(
        cores=cores,
        usable_cores=usable,
        memory_mib=None if total is None else total // 1024,
        available_mib=None if available is None else available // 1024,
        load=tuple(loadavg()),  # type: ignore[arg-type]
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()}",
    )


def machine_line(when: str) -> str:
    """`machine (before): ...`, the line each bench prints first and last."""
    return f"machine ({when}): {machine_facts().text()}"
