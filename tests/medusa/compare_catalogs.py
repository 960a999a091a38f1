#!/usr/bin/env python3
"""compare_catalogs.py - every difference between two PostgreSQL catalogs.

    compare_catalogs.py A.txt B.txt [NAME_A NAME_B]

A.txt and B.txt are the output of catalog.sql (psql -X -A -t -F'|') for two
databases, say one `medusa migrations run` built and one Strata built. The
output lists, per kind (tables, columns, constraints, indexes, enums,
sequences, extensions), how many each side has, what only one side has, and
every difference: column types grouped by the pair of types (with the columns
named when a pair is rare), nullability and defaults per column, constraint
names (constraints are matched by table, kind and definition), index
definitions. It is deterministic, so scripts/medusa-e2e.sh compares it with the
expected output kept next to this script (and docs/medusa.md states it).

The history tables of either tool (strata_*, TypeORM's `migrations`) and
their sequences are left out. Standard library only.
"""
import collections
import re
import sys

LIST_UP_TO = 12  # name the columns of a type change this rare


def own_history(name):
    return name.startswith("strata_") or name in ("migrations", "migrations_id_seq")


def load(path):
    cat = collections.defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("|")
            kind = fields[0]
            if not kind or len(fields) < 2 or own_history(fields[1]):
                continue
            if kind in ("table", "sequence", "extension"):
                cat[kind][fields[1]] = ""
            elif kind == "column":
                cat[kind][(fields[1], fields[2])] = tuple(fields[3:6])
            elif kind == "constraint":
                # matched by table, kind and definition; the name is compared
                cat[kind][(fields[1], fields[2], "|".join(fields[4:]))] = fields[3]
            elif kind == "index":
                cat[kind][(fields[1], fields[2])] = "|".join(fields[3:])
            elif kind == "enum":
                cat[kind][fields[1]] = "|".join(fields[2:])
    return cat


def cast_of(default):
    m = re.match(r"^'(.*)'::(.+)$", default)
    return (m.group(1), m.group(2)) if m else None


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    na = sys.argv[3] if len(sys.argv) > 3 else "A"
    nb = sys.argv[4] if len(sys.argv) > 4 else "B"
    a, b = load(a_path), load(b_path)
    out = []
    plural = {"table": "tables", "column": "columns", "constraint": "constraints",
              "index": "indexes", "enum": "enums", "sequence": "sequences",
              "extension": "extensions"}
    for kind in ("table", "column", "constraint", "index", "enum", "sequence", "extension"):
        A, B = a[kind], b[kind]
        only_a = sorted(set(A) - set(B))
        only_b = sorted(set(B) - set(A))
        both = sorted(set(A) & set(B))
        differing = [k for k in both if A[k] != B[k]]
        out.append("%s: %s %d, %s %d; only in %s %d, only in %s %d; differing %d"
                   % (plural[kind], na, len(A), nb, len(B), na, len(only_a), nb, len(only_b),
                      len(differing)))
        for k in only_a:
            out.append("  only in %s: %s %s" % (na, "|".join(k) if isinstance(k, tuple) else k, A[k]))
        for k in only_b:
            out.append("  only in %s: %s %s" % (nb, "|".join(k) if isinstance(k, tuple) else k, B[k]))
        if kind == "column":
            types = collections.defaultdict(list)
            lines = []
            casts = collections.defaultdict(list)
            for k in differing:
                (ta, nulla, defa), (tb, nullb, defb) = A[k], B[k]
                col = "%s.%s" % k
                if ta != tb:
                    types[(ta, tb)].append(col)
                if nulla != nullb:
                    lines.append("  nullability %s: %s -> %s" % (col, nulla, nullb))
                if defa != defb:
                    ca, cb = cast_of(defa), cast_of(defb)
                    if ca and cb and ca[0] == cb[0]:
                        casts[(ca[1], cb[1])].append(col)
                    else:
                        lines.append("  default %s: %s -> %s" % (col, defa or "(none)",
                                                                 defb or "(none)"))
            for (ta, tb), cols in sorted(types.items(), key=lambda i: (-len(i[1]), i[0])):
                named = " (%s)" % ", ".join(cols) if len(cols) <= LIST_UP_TO else ""
                out.append("  %4d type %s -> %s%s" % (len(cols), ta, tb, named))
            for (ca, cb), cols in sorted(casts.items()):
                out.append("  %4d default cast ::%s -> ::%s (%s)" % (len(cols), ca, cb,
                                                                    ", ".join(cols)))
            out.extend(lines)
        else:
            for k in differing:
                label = "|".join(k) if isinstance(k, tuple) else k
                out.append("  %s: %s -> %s" % (label, A[k], B[k]))
    print("\n".join(out))


if __name__ == "__main__":
    main()
