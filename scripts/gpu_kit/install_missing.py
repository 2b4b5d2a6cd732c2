"""Install, from carried wheels only, the packages of wheels.txt whose module does not import.

    python scripts/gpu_kit/install_missing.py WHEEL_DIR TARGET_DIR   # then PYTHONPATH=TARGET_DIR

The GPU machine reaches no package registry; what it lacks travels as wheels
(`scripts/gpu_kit/prepare.sh`). Installed with `pip --no-index --no-deps --target`, so nothing
already there is replaced. Prints one line per package: present, installed or failed.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wanted() -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / "wheels.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            spec, module = line.split()
            rows.append((spec, module))
    return rows


def main() -> int:
    wheels, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(target))
    failed = 0
    for spec, module in wanted():
        if importlib.util.find_spec(module) is not None:
            print(f"present    {module}")
            continue
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index",
                               "--no-deps", "--find-links", str(wheels), "--target", str(target),
                               spec], capture_output=True, text=True)
        ok = done.returncode == 0
        failed += not ok
        print(f"{'installed' if ok else 'FAILED   '}  {spec}"
              + ("" if ok else f": {(done.stderr.strip().splitlines() or ['?'])[-1]}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
