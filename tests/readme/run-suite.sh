#!/bin/sh
# readme/run-suite.sh - README.md's C blocks compile and the options it
# shows for each tool are in that tool's --help (check_readme.py).
here=$(cd "$(dirname "$0")" && pwd)
exec timeout 120 python3 "$here/check_readme.py" "${WSX_BUILD:-build}"
