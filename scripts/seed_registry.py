"""Fill an empty registry with N synthetic cases (for benchmarks and UI work).

    PYTHONPATH=src python scripts/seed_registry.py --db sqlite:///tmp/seed.db --n 100000

Prints API tokens of the seeded admin, reporter, lab assessor and outsider regulator.
"""

from __future__ import annotations

import argparse
import time

from jbgrade.registry import (
    Keyring,
    Registry,
    make_engine,
    resolve_database_url,
    seed_cases,
    upgrade,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default=None, help="database URL (default: as jbgrade db upgrade)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--labs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    eng = make_engine(resolve_database_url(args.db))
    upgrade(eng)
    with Registry(eng, Keyring.generate()) as reg:
        t = time.perf_counter()
        res = seed_cases(reg, args.n, labs=args.labs, seed=args.seed)
        print(
            f"seeded {res.cases} cases, {res.assessments} assessments "
            f"in {time.perf_counter() - t:.1f} s"
        )
        for label, actor in (
            ("admin", res.admin),
            ("reporter", res.reporter),
            ("lab assessor", res.lab_assessor),
            ("outsider regulator", res.outsider),
        ):
            tok = reg.issue_token(actor, name="seed")
            print(f"{label:20} {actor.username:32} {tok.token.get_secret_value()}")


if __name__ == "__main__":
    main()
