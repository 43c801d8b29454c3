#!/usr/bin/python3
"""The one-way rule of docs/architecture.md: no cycle among the files of a folder, by includes
(a.c or a.h includes b.h, b.c holding what b.h declares: a module is its .c/.h pair, and
b_internal.h belongs to b) or by calls
(a.c names a function or variable that b.c defines with external linkage). Like the kit's
include_cycles.py and call_cycles.py, with a real C tokenizer, so that a string holding "//" or a
'"' character does not hide the rest of a file. Usage: check-cycles.py DIR...; prints each cycle,
or with --edges every arrow; exits 1 on a cycle. `make test` runs it on pushd/ and fcgi-api/."""
import os
import re
import sys

TOKEN = re.compile(r'''
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<char>'(?:\\.|[^'\\\n])*')
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<other>.)
''', re.S | re.X)
DEFINITION = re.compile(r'^(?!static\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{',
                        re.M)
TOP_LEVEL_VAR = re.compile(r'^(?!static\b|extern\b|typedef\b|struct\b|union\b|enum\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)'
                           r'\s*(?:\[[^\]]*\])?\s*(?:=[^;]*)?;', re.M)
INCLUDE = re.compile(r'#\s*include\s+"([^"]+)"')


def identifiers(src):
    return {m.group('ident') for m in TOKEN.finditer(src) if m.group('ident')}


def without_comments_and_strings(src):
    out = []
    for m in TOKEN.finditer(src):
        if m.group('comment'):
            out.append(' ')
        elif m.group('string') or m.group('char'):
            out.append('""')
        else:
            out.append(m.group(0))
    return ''.join(out)


def external_definitions(src):
    """Names a .c file defines with external linkage: functions with a body at column 0 (the
    house style puts the return type on its own line) and top-level variables."""
    code = without_comments_and_strings(src)
    names = set()
    # function definitions: "type\nname(args)\n{"
    for m in re.finditer(r'^(static\s+)?[A-Za-z_][\w \t\*]*\n([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{',
                         code, re.M):
        if not m.group(1):
            names.add(m.group(2))
    for m in DEFINITION.finditer(code):
        names.add(m.group(1))
    depth, top = 0, []
    for ch in code:  # keep only text at brace depth 0, for top-level variables
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif depth == 0:
            top.append(ch)
    for m in TOP_LEVEL_VAR.finditer(''.join(top)):
        names.add(m.group(1))
    return names


def sccs(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def read(path):
    with open(path, errors='replace') as f:
        return f.read()


def module_of(name):
    """a.c and a.h are module a; so is a_internal.h, a's private header."""
    base = os.path.basename(name).rsplit('.', 1)[0]
    return base[:-len('_internal')] if base.endswith('_internal') else base


def include_edges(d):
    mods = {}
    for f in os.listdir(d):
        if f.endswith(('.c', '.h')):
            mods.setdefault(module_of(f), []).append(os.path.join(d, f))
    edges = {m: set() for m in mods}
    for m, files in mods.items():
        for f in files:
            for inc in INCLUDE.findall(read(f)):
                t = module_of(inc)
                if t in mods and t != m and os.path.dirname(inc) in ('', os.path.basename(d)):
                    edges[m].add(t)
    return edges


def call_edges(d):
    files = sorted(f for f in os.listdir(d) if f.endswith('.c'))
    srcs = {f: read(os.path.join(d, f)) for f in files}
    defined = {}
    for f in files:
        for name in external_definitions(srcs[f]):
            defined.setdefault(name, set()).add(f)
    edges = {f: {} for f in files}
    for f in files:
        for name in identifiers(without_comments_and_strings(srcs[f])):
            for g in defined.get(name, ()):
                if g != f:
                    edges[f].setdefault(g, set()).add(name)
    return edges


def main(argv):
    show = '--edges' in argv
    bad = 0
    for d in [a for a in argv if not a.startswith('--')]:
        inc = include_edges(d)
        calls = call_edges(d)
        if show:
            for a in sorted(inc):
                for b in sorted(inc[a]):
                    print(f'{d}: include {a} -> {b}')
            for a in sorted(calls):
                for b, names in sorted(calls[a].items()):
                    print(f'{d}: call {a} -> {b}: {" ".join(sorted(names))}')
        for c in sccs(inc):
            bad = 1
            print(f'{d}: include cycle of {len(c)} modules: {" ".join(c)}')
        for c in sccs({a: set(b) for a, b in calls.items()}):
            bad = 1
            print(f'{d}: call cycle of {len(c)} files: {" ".join(c)}')
        if not show and not bad:
            print(f'{d}: one-way ({len(inc)} modules, {len(calls)} .c files)')
    return bad


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
