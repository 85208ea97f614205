"""Print requirements.txt with every lower bound pinned: ``name>=1.2`` -> ``name==1.2``.

``tox -e oldest`` installs what this prints, so the floors are read from
requirements.txt itself and never kept in a second list. A requirement with no
lower bound is an error: then its floor would be a guess.

    python tests/floors.py requirements.txt floors.txt
"""

import re
import sys
from pathlib import Path

FLOOR = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*[^#]*?>=\s*(?P<v>[^,;\s#]+)"
)


def floors(text):
    """Yield ``name==floor`` for each requirement line of ``text``."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = FLOOR.match(line)
        if match is None:
            raise ValueError(f"no lower bound (>=) in requirement {line!r}")
        yield f"{match['name']}=={match['v']}"


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    pins = floors(source.read_text(encoding="utf-8"))
    target.write_text("\n".join(pins) + "\n", encoding="utf-8")
