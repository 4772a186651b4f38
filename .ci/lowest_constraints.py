"""Print pip constraints pinning every dependency of pyproject.toml to its declared lower bound.

Used by `make test-oldest`: the suite must pass with the oldest versions nnft claims to support,
as well as with the newest ones the registry serves (`make test`).
"""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())["project"]
reqs = list(project["dependencies"])
for extra in ("test", "plot"):
    reqs += project.get("optional-dependencies", {}).get(extra, [])
for req in reqs:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    name, spec = m.group(1), m.group(3)
    low = re.search(r">=\s*([0-9][^,;\s]*)", spec)
    if low:
        print(f"{name}=={low.group(1)}")
