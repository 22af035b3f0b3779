"""dev.lock = the full development lock minus what runtime.lock pins (one block per package: the pin line and its
indented hash lines); both files lose the temporary constraint file's path from their "via" notes. Used by
scripts/lock."""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==")


def blocks(text: str) -> list[list[str]]:
    out: list[list[str]] = []
    for line in text.splitlines():
        if PIN.match(line):
            out.append([line])
        elif out and line.startswith((" ", "\t")):
            out[-1].append(line)
    return out


def name(block: list[str]) -> str:
    match = PIN.match(block[0])
    assert match is not None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def without_temporary_paths(text: str) -> str:
    return re.sub(r"-[cr] /tmp/[^,\s]*(, )?", "", text)


def main(runtime: str, full: str, dev: str) -> None:
    Path(runtime).write_text(without_temporary_paths(Path(runtime).read_text()))
    pinned = {name(b) for b in blocks(Path(runtime).read_text())}
    extra = [b for b in blocks(Path(full).read_text()) if name(b) not in pinned]
    header = "# Development and evaluation packages on top of requirements/runtime.lock (scripts/lock writes both).\n"
    Path(dev).write_text(without_temporary_paths(header + "".join("\n".join(b) + "\n" for b in extra)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
