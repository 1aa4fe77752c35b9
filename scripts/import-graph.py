#!/usr/bin/env python3
"""The import graph between conductor's top-level concerns, and its cycles.

A concern is a top-level module of crates/conductor/src (`runtime`, `task`, `time`, ...). The
drivers are files inside concerns but a floor of their own (ARCHITECTURE.md, "Floors"), so each
driver file in `UNITS` is a node by itself. An edge A -> B means a file of A names B: a
`crate::B` path (in a `use` or in code), or, for a unit, its sibling's `super::unit` path or its
folder's `unit::` path. Comments are skipped, doc comments included, so an intra-doc link does
not count as an import.

The script prints the strongly connected components of more than one node, and fails when such
a component is not one that ARCHITECTURE.md names as one part (a line `Import cycle: a, b, c`
there, in any order, allows exactly that set), or when a driver or `context` imports anything
but drivers.

    scripts/import-graph.py            # check; exit 1 on an unnamed cycle
    scripts/import-graph.py --edges    # also print every edge with the files that make it
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "crates" / "conductor" / "src"
ARCH = ROOT / "ARCHITECTURE.md"

# The drivers: files that import nothing above them, each a node of the graph.
UNITS = {
    "time::clock",
    "time::wheel",
    "io::driver",
    "io::waiters",
    "blocking::pool",
    "signal::registry",
}

PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?")
# `use crate::{a::X, b::Y}` names several concerns in one braced group.
GROUP = re.compile(r"\bcrate::\{([^}]*)\}", re.S)
SUPER = re.compile(r"\bsuper::([a-z_][a-z0-9_]*)")
CHILD = re.compile(r"(?<![:\w])([a-z_][a-z0-9_]*)::")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def node(concern, sub):
    """The node of `concern::sub`: the unit if it is one, else the concern."""
    unit = f"{concern}::{sub}"
    return unit if unit in UNITS else concern


def node_of(path):
    rel = path.relative_to(SRC)
    if len(rel.parts) == 1:
        return rel.stem  # lib.rs, loom.rs, or a one-file concern
    return node(rel.parts[0], Path(rel.parts[1]).stem)


def root_items():
    """What the crate root re-exports, by name: `crate::spawn` is `task`'s."""
    items = {}
    text = strip_comments((SRC / "lib.rs").read_text())
    for concern, body in re.findall(r"\bpub use ([a-z_][a-z0-9_]*)::\{([^}]*)\}", text, re.S):
        for item in body.split(","):
            name = item.split(" as ")[-1].strip().split("::")[-1]
            if name:
                items[name] = concern
    for concern, name, alias in re.findall(
        r"\bpub use ([a-z_][a-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)(?: as ([A-Za-z_]\w*))?;", text
    ):
        items[alias or name] = concern
    return items


ROOT_ITEMS = root_items()
ROOT_PATH = re.compile(r"\bcrate::([A-Za-z_][A-Za-z0-9_]*)\b(?!::)")


def names_in(path, text):
    """The nodes that `text` (the file at `path`) names."""
    rel = path.relative_to(SRC)
    names = {node(a, b) for a, b in PATH.findall(text)}
    names |= {ROOT_ITEMS[n] for n in ROOT_PATH.findall(text) if n in ROOT_ITEMS}
    for group in GROUP.findall(text):
        for item in group.split(","):
            parts = [p.strip() for p in item.split("::")]
            names.add(node(parts[0], parts[1] if len(parts) > 1 else ""))
    if len(rel.parts) == 2:
        concern = rel.parts[0]
        if rel.name == "mod.rs":
            # a folder's mod.rs names its children as `child::`
            names |= {node(concern, c) for c in CHILD.findall(text)}
        else:
            # a file names its siblings as `super::sibling`
            names |= {node(concern, c) for c in SUPER.findall(text)}
    return names


def graph():
    modules = {node_of(p) for p in SRC.rglob("*.rs")} | UNITS
    edges = defaultdict(set)  # (a, b) -> files
    for path in sorted(SRC.rglob("*.rs")):
        a = node_of(path)
        if a == "lib":
            continue  # the root re-exports everything; it is no floor
        for b in names_in(path, strip_comments(path.read_text())):
            if b in modules and b != a and b != "lib":
                edges[(a, b)].add(str(path.relative_to(SRC)))
    return modules, edges


def components(nodes, adj):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(adj[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def allowed_cycles():
    found = []
    for line in ARCH.read_text().splitlines():
        m = re.search(r"Import cycle:\s*(.+)", line)
        if m:
            names = re.findall(r"[a-z_]+(?:::[a-z_]+)?", m.group(1).split(".")[0])
            found.append(set(names))
    return found


def main():
    modules, edges = graph()
    adj = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
    if "--edges" in sys.argv:
        for (a, b), files in sorted(edges.items()):
            print(f"{a} -> {b}   ({', '.join(sorted(files))})")
        print()
    allowed = allowed_cycles()
    cycles = [c for c in components(modules, adj) if len(c) > 1]
    bad = 0
    for c in sorted(cycles, key=lambda c: sorted(c)):
        ok = c in allowed
        bad += not ok
        inner = sorted((a, b) for (a, b) in edges if a in c and b in c)
        print(f"{'named' if ok else 'UNNAMED'} cycle: {', '.join(sorted(c))}")
        for a, b in inner:
            print(f"    {a} -> {b}")
    if not cycles:
        print("no import cycle between concerns")
    # The two lowest floors: drivers import only drivers, the context only drivers.
    for (a, b), files in sorted(edges.items()):
        if (a in UNITS or a == "context") and b not in UNITS:
            bad += 1
            print(f"FLOOR broken: {a} -> {b} ({', '.join(sorted(files))}): "
                  f"{'a driver' if a in UNITS else 'the context'} imports only drivers")
    if bad:
        print(
            f"\n{bad} problem(s): an import cycle between concerns that ARCHITECTURE.md does not "
            "name (add `Import cycle: a, b` there only for a part that is one floor), or a "
            "driver or the context importing something above the drivers",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
