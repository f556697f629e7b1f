"""Summarises one module's mutmut run for scripts/mutation.sh (run inside that module's copy of the tree).

Prints one line: mutants generated, killed (timeouts and type-check catches included), survived, and how many of
the survivors are explained in tests/MUTATION.md, then every unexplained survivor with its diff. A survivor is
explained when it falls under one of the two rules tests/MUTATION.md states (a codec name in another case; the
wording of a message or hint only) or is listed there by name with its reason. Exits 1 when any is unexplained.

Usage: mutation_report.py MODULE MUTMUT MUTATION_MD SECONDS
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant

KILLED = {"killed", "timeout", "caught by type check"}
# Python's codec lookup ignores case (and "-" vs "_"): "ASCII" is "ascii".
CODECS = {"ascii", "latin-1", "latin1", "utf-8", "utf8"}
_STRING = re.compile(r"""([bfr]*"(?:[^"\\]|\\.)*"|[bfr]*'(?:[^'\\]|\\.)*')""")


def main() -> int:
    module, mutmut, listing, seconds = sys.argv[1:5]
    results = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    statuses = dict(line.strip().rsplit(": ", 1) for line in results.stdout.splitlines() if ": " in line)
    listed = set(re.findall(r"`([^`\s]+__mutmut_\d+)`", Path(listing).read_text(encoding="utf-8")))
    survivors = [name for name, status in statuses.items() if status not in KILLED]
    unexplained: list[tuple[str, str, str]] = []
    counts = {"codec": 0, "wording": 0, "listed": 0}
    for name in survivors:
        diff = get_diff_for_mutant(name, path=find_mutant(name).path)  # in process: `mutmut show` takes a second
        rule = "listed" if name in listed else classify(diff)
        if rule is None:
            unexplained.append((name, statuses[name], diff))
        else:
            counts[rule] += 1
    explained = sum(counts.values())
    print(
        f"{module:<16} generated {len(statuses):4d}  killed {len(statuses) - len(survivors):4d}  "
        f"survived {len(survivors):3d}  equivalent {counts['codec'] + counts['listed']:3d}  "
        f"wording {counts['wording']:3d}  unexplained {len(survivors) - explained:3d}  ({seconds} s)"
    )
    for name, status, diff in unexplained:
        changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
        print(f"    {status}: {name}")
        for line in changed:
            print(f"        {line}")
    return 1 if unexplained else 0


def classify(diff: str) -> str | None:
    """ "codec" or "wording" when the mutant changes one string literal and nothing else, else None."""
    removed = " ".join(line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    added = " ".join(line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    before, after = _STRING.split(removed), _STRING.split(added)
    if len(before) != len(after):
        return None
    changed = [index for index, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    if len(changed) != 1 or changed[0] % 2 == 0:  # odd pieces are the string literals
        return None
    try:
        old, new = ast.literal_eval(before[changed[0]]), ast.literal_eval(after[changed[0]])
    except (ValueError, SyntaxError):
        return None
    old_text = old.decode("latin-1") if isinstance(old, bytes) else str(old)
    new_text = new.decode("latin-1") if isinstance(new, bytes) else str(new)
    if old_text.lower() in CODECS and new_text.lower() == old_text.lower():
        return "codec"
    # Prose: words separated by spaces, changed only in case or wrapped in XX…XX, on a line that compares nothing
    # (a phrase searched for in another message is logic, not wording).
    code = " ".join(before[0::2])
    compares = re.search(r" in |==|!=|startswith|endswith|match|search|find", code)
    prose = " " in old_text.strip() and not compares
    if prose and new_text in (old_text.lower(), old_text.upper(), f"XX{old_text}XX"):
        return "wording"
    return None


if __name__ == "__main__":
    sys.exit(main())
