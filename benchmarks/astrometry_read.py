"""Check and timing: every real astrometry file in ../shared/data/neo/observations reads completely
(issue #16), with the record counts published with them (NEOs.jl; SOURCES.md there); baseline in
the same run: a bare split of each file into lines (the floor of any reader).

Needs ../shared/data/neo/observations (or SPACECOMMONS_OBSERVATIONS=folder).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from spacecommons.neo.astrometry import mpc_observatories, observation_observers, read_observations_text

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/neo/observations"
COUNTS = {  # optical or radar records per file
    "99942.dat": 7819,
    "99942_Tholen_etal_2013.dat": 432,
    "2008TC3.txt": 883,
    "2023DW.txt": 123,
    "2024MK.txt": 843,
    "101955_OPTICAL_1999_2006.dat": 293,
    "101955_OPTICAL_2011_2018.dat": 287,
    "99942_RADAR_2005_2013.dat": 46,
    "99942_RADAR_2021.dat": 4,
    "101955_RADAR_1999_2005.dat": 23,
    "101955_RADAR_2011.dat": 6,
}


def main() -> int:
    folder = Path(os.environ.get("SPACECOMMONS_OBSERVATIONS", DEFAULT))
    if not folder.is_dir():
        print(f"needs {folder} (set SPACECOMMONS_OBSERVATIONS)", file=sys.stderr)
        return 2
    texts = {name: (folder / name).read_text() for name in COUNTS}
    t0 = time.perf_counter()
    for text in texts.values():
        text.splitlines()
    baseline = time.perf_counter() - t0
    t0 = time.perf_counter()
    batches = {name: read_observations_text(text, name) for name, text in texts.items()}
    ours = time.perf_counter() - t0
    bad = 0
    for name, batch in batches.items():
        n = len(batch.optical) + len(batch.radar)
        ok = n == COUNTS[name] and not batch.issues
        bad += not ok
        print(f"{name:32s} {batch.format:10s} {n:6d} records  {len(batch.issues)} issues  {'ok' if ok else 'MISMATCH'}")
    apophis = batches["99942.dat"].optical
    missing = {o.station for o in apophis} - set(mpc_observatories())
    t0 = time.perf_counter()
    observation_observers(apophis)
    positions = time.perf_counter() - t0
    print("\n| workload | ours | baseline (split lines) | ratio |\n|---|---|---|---|")
    print(
        f"| read {sum(COUNTS.values())} records, 11 files | {ours:.3f} s | {baseline:.4f} s | {ours / baseline:.0f} |"
    )
    print(f"| GCRS positions of Apophis's {len(apophis)} observers | {positions:.3f} s | - | - |")
    print(f"stations of 99942.dat missing from the observatory list: {sorted(missing) or 'none'}")
    return 1 if bad or missing else 0


if __name__ == "__main__":
    sys.exit(main())
