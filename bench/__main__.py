"""`python -m bench [--only S1,S2] [--quick] [--full]`: see bench/README.md."""

from bench.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
