"""The interop check: an independent implementation of PROTOCOL.md against every
vector file, and (with --relay) the whole lifecycle live against a running relay.

    python3 interop/check.py [--relay http://127.0.0.1:PORT]

Prints every failure and a pass/fail count; exits 1 on any failure."""

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import live  # noqa: E402
import vectors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=Path, default=HERE.parent / "sdk" / "vectors")
    ap.add_argument("--relay", help="base URL of a relay started with the interop settings")
    args = ap.parse_args()
    total_failed = 0
    started = time.time()
    passed, failures = vectors.check_all(args.vectors)
    for f in failures:
        print(f"FAIL vectors: {f}")
    print(f"interop vectors: {passed} passed, {len(failures)} failed ({time.time() - started:.1f} s)")
    total_failed += len(failures)
    if args.relay:
        started = time.time()
        c = live.Checks()
        try:
            live.run(c, args.relay, HERE.parent / "PROTOCOL.md")
        except Exception as e:  # an answer the spec does not allow for stops the run
            c.failures.append(f"stopped by {type(e).__name__}: {e}")
        for f in c.failures:
            print(f"FAIL live: {f}")
        print(f"interop live: {c.passed} passed, {len(c.failures)} failed ({time.time() - started:.1f} s)")
        total_failed += len(c.failures)
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
