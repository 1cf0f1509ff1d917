"""Start-up time of ``spacecommons --help`` against a bare ``python -c pass`` in the same run (issue #10).

Each command is run N times in fresh interpreters, alternating, so that a busy machine slows both
alike; the table gives the median and the fastest run of each and their ratio, and the imports
that dominate one ``--help`` (``python -X importtime``).

    python benchmarks/cli_startup.py            # 20 runs each
    python benchmarks/cli_startup.py -n 50

Target: ``--help`` <= 0.3 s (it was 2.7 s when every command module imported scipy, SQLAlchemy,
matplotlib and the service at start).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HELP = [
    sys.executable,
    "-c",
    "import sys; sys.argv = ['spacecommons', '--help']; from spacecommons.cli.main import app; app()",
]
BARE = [sys.executable, "-c", "pass"]


def _env(src: Path) -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(src), extra]))}


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr.decode()}")
    return elapsed


def _heaviest_imports(env: dict[str, str], top: int = 8) -> list[tuple[float, str]]:
    """The top-level packages with the largest cumulative import time in one ``--help``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *HELP[1:]], env=env, capture_output=True, text=True, check=True
    )
    cumulative: dict[str, float] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = line.split("|", 2)
        if name.strip().startswith(" ") or name != name.rstrip() or not cum.strip().isdigit():
            continue
        if len(name) - len(name.lstrip()) == 1:  # imported directly, not by another module
            cumulative[name.strip()] = int(cum) / 1e6
    return sorted(((s, n) for n, s in cumulative.items()), reverse=True)[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("-n", type=int, default=20, help="runs of each command")
    ap.add_argument("--src", type=Path, default=SRC, help="the sources to time (e.g. an older checkout's src/)")
    args = ap.parse_args()
    env = _env(args.src)
    _time(HELP, env)  # warm the file cache and the bytecode
    help_s, bare_s = [], []
    for _ in range(args.n):
        help_s.append(_time(HELP, env))
        bare_s.append(_time(BARE, env))
    med_h, med_b = statistics.median(help_s), statistics.median(bare_s)
    print(f"sources: {args.src}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| workload | runs | median (s) | fastest (s) | baseline `python -c pass` median (s) | ratio (median) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| `spacecommons --help` | {args.n} | {med_h:.3f} | {min(help_s):.3f} | {med_b:.3f} | {med_h / med_b:.1f}x |"
    )
    print()
    print("largest direct imports of one `--help` (cumulative s):")
    for seconds, name in _heaviest_imports(env):
        print(f"  {seconds:6.3f}  {name}")


if __name__ == "__main__":
    main()
