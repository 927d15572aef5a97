#!/usr/bin/env python3
"""Import loops between the modules of each crate (issue 13).

    bench/module_cycles.py [--explain] [--edges] [WORKSPACE_DIR]

Prints one line per cycle, `crate: a -> b -> a`, and exits 1 if there is any, 0 if
there is none (2 on a usage error). `--explain` adds, under each cycle, where each of
its edges comes from (file:line and the path written there). `--edges` prints every
edge of the graph as well (`crate: a -> b`), cycles or not. WORKSPACE_DIR defaults to
the directory above this script. Python 3.11, standard library only.

What the graph is
-----------------

Nodes. For each crate under `crates/*/src`, the modules reachable from `lib.rs` (and
from `main.rs`, as a crate of its own, when there is one) through `mod NAME;`
(`NAME.rs` or `NAME/mod.rs`) and `mod NAME { ... }`, named by their path from the crate
root: `certs`, `certs::ocsp`. `#[path]` attributes are not followed.

References. In each module: every path of a `use` declaration (`use` trees are
expanded: `a::{self, b::C}` is `a` and `a::b::C`), and every path written in code that
starts with `crate::`, `self::` or `super::` (`super` is relative to the module it is
written in), or with a name in scope in the module (a child module, a name brought in
by `use`, or one found through a glob import), e.g. `hosts::DaneRecord` after
`use crate::hosts;`. Paths that start with anything else (`std::`, another crate) are
not this crate's business.

Resolution. A path is followed module by module. When it reaches a name that is not a
module, re-exports and imports (`pub use x::Y`, `use x::Y`, globs) are followed to where
the item is *defined*: `crate::NetFailure` with `pub use observe::NetFailure` in
`lib.rs` is a reference to `observe`. The module holding the definition is the target.

Edges. A reference from module M to target module D makes an edge between the two
*siblings* under their closest common ancestor P: from the child of P that is M or
contains M, to the child of P that is D or contains D. So `certs::ocsp` using
`hosts::OcspSpec` is the edge `certs -> hosts`, and `mail::posture` using
`mail::dkim::DkimOutcome` is `mail::posture -> mail::dkim`. A module using its own
ancestor (an item defined in the parent's own file, `super::HQ_DOMAIN`) or its own
descendant makes no edge: a parent and its children are one unit, and the parent
declares them anyway. Re-exports are followed first, so a child reaching a sibling
through the parent's `pub use` still counts.

Cycles. A cycle is a closed chain of such edges (`a -> b -> a`, or longer through
other siblings): module a cannot be understood, moved or split out without b and the
other way round. Every elementary cycle is printed, from its smallest node.

What is skipped. Comments (doc comments included: an intra-doc link is not a
dependency), string and char literals, and any item under exactly `#[cfg(test)]`: test
modules (`#[cfg(test)] mod tests { ... }` or `mod tests;`) and test-only imports or
helpers. This is a token scanner, not a parser: macros bodies are scanned as code, and a
name it cannot find in a module it knows is taken to be defined there.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod",
    "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "union",
}
# Keywords that introduce a named item.
DEF_KW = {"fn", "struct", "enum", "trait", "type", "const", "static", "union"}


# --- lexing ------------------------------------------------------------------------


def strip_comments_and_literals(src: str) -> str:
    """Blanks out comments and string/char literals, keeping newlines (line numbers)."""
    out: list[str] = []
    i, n = 0, len(src)

    def blank(s: str) -> str:
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(src[i:j]))
            i = j
        elif (m := re.match(r'(?:b|c)?r(#*)"', src[i:i + 300])) and (
            i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")
        ):
            close = '"' + m.group(1)
            j = src.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append(" " + blank(src[i + 1:j]) if j - i > 1 else blank(src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append('"' + blank(src[i + 1:j - 1]) + '"' if j - i >= 2 else blank(src[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}', '\''), else a lifetime or label ('a).
            if i + 1 < n and src[i + 1] == "\\":
                j = i + 2
                while j < n and src[j] != "'":
                    j += 2 if src[j] == "\\" else 1
                j = min(j + 1, n)
                out.append(" " * (j - i))
                i = j
            elif i + 2 < n and src[i + 2] == "'":
                out.append("   ")
                i += 3
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


TOKEN = re.compile(r"r#[A-Za-z_]\w*|[A-Za-z_]\w*|::|\d\w*|\S")


def tokenize(text: str) -> list[tuple[str, int]]:
    toks: list[tuple[str, int]] = []
    line = 1
    pos = 0
    for m in TOKEN.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        t = m.group(0)
        toks.append((t[2:] if t.startswith("r#") else t, line))
    return toks


def is_ident(t: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_]\w*", t))


def match_close(toks: list[tuple[str, int]], i: int) -> int:
    """Index of the bracket closing the one at toks[i] (or the last index)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[toks[i][0]]]
    j = i + 1
    while j < len(toks) and stack:
        t = toks[j][0]
        if t in pairs:
            stack.append(pairs[t])
        elif stack and t == stack[-1]:
            stack.pop()
        j += 1
    return j - 1


def skip_item(toks: list[tuple[str, int]], i: int) -> int:
    """Index just after the item starting at toks[i]: a `;` or a top-level `{...}`."""
    depth = 0
    while i < len(toks):
        t = toks[i][0]
        if t in "([":
            depth += 1
        elif t in ")]":
            depth -= 1
        elif t == "{":
            end = match_close(toks, i)
            if depth == 0:
                # `use a::{b, c};` ends at its `;`, anything else at its block.
                if end + 1 < len(toks) and toks[end + 1][0] == ";":
                    return end + 2
                return end + 1
            i = end
        elif t == ";" and depth == 0:
            return i + 1
        i += 1
    return i


# --- modules -----------------------------------------------------------------------


@dataclass
class Ref:
    segs: list[str]
    file: Path
    line: int
    use: bool  # from a `use` declaration (else a path written in code)


@dataclass
class Module:
    path: tuple[str, ...]
    file: Path
    child_dir: Path
    children: dict[str, "Module"] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    globs: list[list[str]] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)
    parent: "Module | None" = None

    @property
    def name(self) -> str:
        return "::".join(self.path) or "crate"


def parse_use_tree(toks, i, prefix, out):
    """Parses a use tree at toks[i]; appends (segments, bound name or None, glob)."""
    segs = list(prefix)
    while i < len(toks):
        t = toks[i][0]
        if t == "::":
            i += 1
        elif t == "{":
            i += 1
            while i < len(toks) and toks[i][0] != "}":
                i = parse_use_tree(toks, i, segs, out)
                if i < len(toks) and toks[i][0] == ",":
                    i += 1
            return i + 1
        elif t == "*":
            out.append((segs, None, True))
            return i + 1
        elif is_ident(t):
            if t == "self" and segs and i + 1 < len(toks) and toks[i + 1][0] != "::":
                name = segs[-1]  # `a::{self}` binds `a`
            else:
                segs = segs + [t]
                name = t
            i += 1
            if i < len(toks) and toks[i][0] == "as":
                name = toks[i + 1][0]
                i += 2
            if i < len(toks) and toks[i][0] == "::":
                continue
            out.append((segs, None if name == "_" else name, False))
            return i
        else:
            return i
    return i


def module_dirs(file: Path) -> Path:
    if file.name in ("lib.rs", "main.rs", "mod.rs"):
        return file.parent
    return file.parent / file.stem


def load(file: Path, path: tuple[str, ...], parent: Module | None) -> Module:
    mod = Module(path, file, module_dirs(file), parent=parent)
    parse_file(file, mod)
    return mod


def parse_file(file: Path, top: Module) -> None:
    toks = tokenize(strip_comments_and_literals(file.read_text(encoding="utf-8")))
    n = len(toks)
    stack: list[tuple[Module, int]] = [(top, 0)]
    depth = 0
    i = 0
    while i < n:
        t, line = toks[i]
        cur, body = stack[-1]
        nxt = toks[i + 1][0] if i + 1 < n else ""
        prev = toks[i - 1][0] if i else ""
        if t == "#" and nxt in ("[", "!"):
            j = i + 1 + (nxt == "!")
            if j >= n or toks[j][0] != "[":
                i += 1
                continue
            k = match_close(toks, j)
            content = "".join(x for x, _ in toks[j + 1:k])
            i = k + 1
            if nxt == "[" and content == "cfg(test)":
                while i + 1 < n and toks[i][0] == "#" and toks[i + 1][0] == "[":
                    i = match_close(toks, i + 1) + 1
                i = skip_item(toks, i)
            continue
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
            if len(stack) > 1 and depth < body:
                stack.pop()
        elif t == "mod" and is_ident(nxt) and i + 2 < n:
            after = toks[i + 2][0]
            if after == ";":
                for cand in (cur.child_dir / f"{nxt}.rs", cur.child_dir / nxt / "mod.rs"):
                    if cand.is_file():
                        cur.children[nxt] = load(cand, cur.path + (nxt,), cur)
                        break
                else:
                    print(f"warning: {file}:{line}: no file for `mod {nxt};`", file=sys.stderr)
                i += 3
                continue
            if after == "{":
                child = Module(cur.path + (nxt,), file, cur.child_dir / nxt, parent=cur)
                cur.children[nxt] = child
                depth += 1
                stack.append((child, depth))
                i += 3
                continue
        elif t == "use" and prev not in ("::",):
            entries: list = []
            j = i + 1
            if j < n and toks[j][0] == "::":
                j += 1  # `use ::extern_crate::...`: not ours
                k = skip_item(toks, j)
                i = k
                continue
            j = parse_use_tree(toks, j, [], entries)
            for segs, name, glob in entries:
                if not segs:
                    continue
                cur.refs.append(Ref(segs, file, line, True))
                if glob:
                    cur.globs.append(segs)
                elif name:
                    cur.aliases[name] = segs
            while j < n and toks[j][0] != ";":
                j += 1
            i = j + 1
            continue
        elif t in DEF_KW and is_ident(nxt) and nxt not in KEYWORDS and depth == body:
            cur.defined.add(nxt)
        elif t == "macro_rules" and nxt == "!" and i + 2 < n:
            cur.defined.add(toks[i + 2][0])
        elif (
            is_ident(t)
            and nxt == "::"
            and prev not in ("::", "in", "$", "'")
            and t != "Self"
        ):
            segs = [t]
            j = i + 1
            while j + 1 < n and toks[j][0] == "::" and is_ident(toks[j + 1][0]):
                segs.append(toks[j + 1][0])
                j += 2
            cur.refs.append(Ref(segs, file, line, False))
            i = j
            continue
        i += 1


# --- resolution --------------------------------------------------------------------


class Resolver:
    def __init__(self) -> None:
        self.busy: set[tuple[tuple[str, ...], str]] = set()

    def lookup(self, mod: Module, name: str, seen=None):
        """What `name` is in `mod`: ('mod', Module), ('item', Module), 'extern' or None."""
        seen = seen or set()
        if (mod.path, name) in seen:
            return None
        seen.add((mod.path, name))
        if name in mod.children:
            return ("mod", mod.children[name])
        if name in mod.aliases:
            key = (mod.path, name)
            if key in self.busy:
                return None
            self.busy.add(key)
            try:
                r = self.resolve(mod, mod.aliases[name])
            finally:
                self.busy.discard(key)
            return r if r is not None else "extern"
        if name in mod.defined:
            return ("item", mod)
        for g in mod.globs:
            target = self.resolve(mod, g)
            if target and target[0] == "mod":
                r = self.lookup(target[1], name, seen)
                if r is not None and r != "extern":
                    return r
        return None

    def resolve(self, mod: Module, segs: list[str]):
        """Follows a path written in `mod`: ('mod'|'item', Module), or None if not ours."""
        first, rest = segs[0], segs[1:]
        if first == "crate":
            cur = mod
            while cur.parent:
                cur = cur.parent
        elif first == "self":
            cur = mod
        elif first == "super":
            cur = mod.parent or mod
        else:
            r = self.lookup(mod, first)
            if r is None or r == "extern":
                return None
            if r[0] == "item":
                return r
            cur = r[1]
        for s in rest:
            if s == "super":
                cur = cur.parent or cur
                continue
            if s == "self":
                continue
            r = self.lookup(cur, s)
            if r is None or r == "extern":
                return ("item", cur)  # unknown here: taken to be defined here
            if r[0] == "item":
                return r
            cur = r[1]
        return ("mod", cur)


def all_modules(root: Module):
    yield root
    for c in root.children.values():
        yield from all_modules(c)


def edges_of(root: Module):
    """{(a, b): [Ref, ...]} between sibling modules, as described at the top."""
    res = Resolver()
    edges: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Ref]] = {}
    for mod in all_modules(root):
        for ref in mod.refs:
            r = res.resolve(mod, ref.segs)
            if r is None:
                continue
            m, d = mod.path, r[1].path
            k = 0
            while k < min(len(m), len(d)) and m[k] == d[k]:
                k += 1
            if k == len(m) or k == len(d):
                continue  # self, an ancestor or a descendant
            edges.setdefault((m[:k + 1], d[:k + 1]), []).append(ref)
    return edges


def cycles_of(edges) -> list[list[tuple[str, ...]]]:
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    order = sorted(graph)
    rank = {v: i for i, v in enumerate(order)}
    found: list[list[tuple[str, ...]]] = []
    for s in order:
        path = [s]

        def dfs(v):
            for w in sorted(graph[v]):
                if w == s:
                    found.append(path + [s])
                elif rank[w] > rank[s] and w not in path and len(found) < 10000:
                    path.append(w)
                    dfs(w)
                    path.pop()

        dfs(s)
    found.sort(key=lambda c: (len(c), c))
    return found


# How many references --explain shows per edge.
EXPLAIN_MAX = 6


def package_name(crate_dir: Path) -> str:
    toml = crate_dir / "Cargo.toml"
    if toml.is_file():
        section = ""
        for line in toml.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[package]" and (m := re.match(r'name\s*=\s*"([^"]+)"', line)):
                return m.group(1)
    return crate_dir.name


def main(argv: list[str]) -> int:
    explain = "--explain" in argv
    show_edges = "--edges" in argv
    args = [a for a in argv if a not in ("--explain", "--edges")]
    if any(a.startswith("-") for a in args) or len(args) > 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ws = Path(args[0]) if args else Path(__file__).resolve().parent.parent
    crates = sorted(p.parent for p in ws.glob("crates/*/src"))
    if not crates:
        print(f"no crates/*/src under {ws}", file=sys.stderr)
        return 2
    total = 0
    for crate in crates:
        pkg = package_name(crate)
        roots = [crate / "src" / f for f in ("lib.rs", "main.rs") if (crate / "src" / f).is_file()]
        for root_file in roots:
            label = pkg if len(roots) == 1 or root_file.name == "lib.rs" else f"{pkg} (bin)"
            root = load(root_file, (), None)
            edges = edges_of(root)
            if show_edges:
                for a, b in sorted(edges):
                    print(f"{label}: {'::'.join(a)} -> {'::'.join(b)}  (edge)")
            for cyc in cycles_of(edges):
                total += 1
                print(f"{label}: " + " -> ".join("::".join(p) for p in cyc))
                if explain:
                    for a, b in zip(cyc, cyc[1:]):
                        print(f"    {'::'.join(a)} -> {'::'.join(b)}:")
                        lines = []
                        for ref in edges[(a, b)]:
                            rel = ref.file.relative_to(ws) if ref.file.is_relative_to(ws) else ref.file
                            kind = "use " if ref.use else ""
                            text = f"{rel}:{ref.line}: {kind}{'::'.join(ref.segs)}"
                            if text not in lines:
                                lines.append(text)
                        for text in lines[:EXPLAIN_MAX]:
                            print(f"        {text}")
                        if len(lines) > EXPLAIN_MAX:
                            print(f"        ... and {len(lines) - EXPLAIN_MAX} more")
    print(
        f"module_cycles: {total} cycle(s) in {len(crates)} crates" if total
        else f"module_cycles: no cycles in {len(crates)} crates",
        file=sys.stderr,
    )
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
