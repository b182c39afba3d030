"""Starts kura's emulator: moto's server (moto_server) with kura's patches.

Usage: python3 local/moto/serve.py -H 127.0.0.1 -p 5000 [--list]
Exit code 3 with a one-line reason on stderr when moto cannot be imported or
has an unsupported version (kura reports it as a missing prerequisite).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    argv = sys.argv[1:]
    try:
        import kura_moto

        applied = kura_moto.apply()
    except ImportError as err:
        sys.stderr.write(
            f"kura-emulator: cannot import moto ({err}); install moto's server mode: pip install 'moto[server]>=5.2,<5.3'\n"
        )
        sys.exit(3)
    except RuntimeError as err:
        sys.stderr.write(f"kura-emulator: {err}\n")
        sys.exit(3)
    if "--list" in argv:
        for line in applied:
            print(line)
        return
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main()
