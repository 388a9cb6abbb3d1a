"""Print how much of the census deepgrad implements: the numbers in docs/COMPATIBILITY.md.

    PYTHONPATH=src python census/coverage.py [--missing] [--parity] [--census census/census.json]

A census name counts as implemented when deepgrad has it at the same path (``torch.nn.Linear``
-> ``deepgrad.nn.Linear``, ``Tensor.view`` -> ``deepgrad.Tensor.view``); a keyword counts when the
callable's signature takes it by name. Whether the behaviour matches PyTorch is the parity
test's job (tests/torch_parity/test_census.py); ``--parity`` runs its sample programs here too
(PyTorch needed) and counts the names whose program gives torch's results under deepgrad.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
from pathlib import Path

import deepgrad

CENSUS = Path(__file__).resolve().parent / "census.json"


def lookup(name: str):
    """deepgrad's object for a census name, or raise AttributeError/ImportError."""
    if name.startswith("Tensor."):
        return getattr(deepgrad.Tensor, name.split(".", 1)[1])
    parts = name.split(".")
    obj = deepgrad
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module("deepgrad." + ".".join(parts[1 : i + 1]))
    return obj


def implemented(name: str) -> bool:
    try:
        lookup(name)
    except (AttributeError, ImportError, NotImplementedError):
        return False
    return True


def takes_keyword(name: str, keyword: str) -> bool:
    obj = lookup(name)
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def parity_passes(names) -> set[str]:
    """The names whose sample program (tests/torch_parity/census_cases.py) matches torch."""
    import contextlib
    import io
    import sys

    import torch

    tests = Path(__file__).resolve().parents[1] / "tests" / "torch_parity"
    sys.path.insert(0, str(tests))
    from census_cases import CASES
    from test_census import assert_same, plain

    passed = set()
    for name in names:
        if name not in CASES:
            continue
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                assert_same(plain(CASES[name](deepgrad)), plain(CASES[name](torch)), name)
        except Exception:  # noqa: BLE001 - any failure means "not at parity"
            continue
        passed.add(name)
    return passed


def report(census: dict, parity: bool = False) -> dict:
    names = census["names"]
    in_scope = {n: v for n, v in names.items() if v["scope"] == "in"}
    done = {n for n in in_scope if implemented(n)}
    frequent = {n for n, v in in_scope.items() if v["programs"] >= 3}
    keywords = [(n, k) for n, v in in_scope.items() for k in v["keywords"]]
    at_parity = parity_passes(in_scope) if parity else set()
    keywords_done = [(n, k) for n, k in keywords if n in done and takes_keyword(n, k)]
    return {
        "programs": census["programs_counted"],
        "names": len(names),
        "in_scope": len(in_scope),
        "out_of_scope": len(names) - len(in_scope),
        "implemented": len(done),
        "frequent": len(frequent),
        "frequent_implemented": len(frequent & done),
        "keywords": len(keywords),
        "keywords_taken": len(keywords_done),
        "parity": len(at_parity) if parity else None,
        "frequent_parity": len(at_parity & frequent) if parity else None,
        "missing": sorted(set(in_scope) - done, key=lambda n: (-names[n]["programs"], n)),
        "missing_keywords": sorted(set(keywords) - set(keywords_done)),
    }


def markdown(census: dict, r: dict) -> str:
    """The generated part of docs/COMPATIBILITY.md: tables of sources, names and what is out."""
    sys_path = Path(__file__).resolve().parent
    import sys

    sys.path.insert(0, str(sys_path))
    from scope import LEFT_OUT

    names = census["names"]
    pct = lambda a, b: f"{100 * a / b:.1f}%"  # noqa: E731
    lines = ["| source | commit | programs counted | listed, not counted |", "|---|---|---|---|"]
    for source in census["sources"]:
        progs = [p for p in census["programs"] if p["repo"] == source["repo"]]
        counted = sum(p["counted"] for p in progs)
        via = f" (read from {source['read_from']})" if "read_from" in source else ""
        lines.append(
            f"| {source['repo']}{via} | `{source['commit'][:10]}` | {counted} | "
            f"{len(progs) - counted} |"
        )
    lines += [
        "",
        f"In-scope names implemented: **{r['implemented']}/{r['in_scope']} "
        f"({pct(r['implemented'], r['in_scope'])})**; used by 3 or more programs: "
        f"**{r['frequent_implemented']}/{r['frequent']} "
        f"({pct(r['frequent_implemented'], r['frequent'])})**; keywords taken: "
        f"{r['keywords_taken']}/{r['keywords']} ({pct(r['keywords_taken'], r['keywords'])}).",
        "",
        "### Names used by 3 or more programs",
        "",
        "Programs using each name in parentheses; all are implemented unless marked *missing*.",
        "",
    ]
    missing = set(r["missing"])
    frequent = [n for n, v in names.items() if v["scope"] == "in" and v["programs"] >= 3]
    lines.append(
        ", ".join(
            f"`{n}` ({names[n]['programs']}{', *missing*' if n in missing else ''})"
            for n in frequent
        )
    )
    lines += ["", "### In scope, left out", "", "| name | programs | reason |", "|---|---|---|"]
    lines += [f"| `{n}` | {names[n]['programs']} | {why} |" for n, why in LEFT_OUT.items()]
    not_yet = [n for n in r["missing"] if n not in LEFT_OUT]
    if not_yet:
        lines += ["", "Not implemented on this branch (other parts of issue 14): "]
        lines[-1] += ", ".join(f"`{n}`" for n in not_yet) + "."
    lines += ["", "### Out of scope", "", "| name | programs | reason |", "|---|---|---|"]
    lines += [
        f"| `{n}` | {v['programs']} | {v['reason']} |"
        for n, v in names.items()
        if v["scope"] == "out"
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--census", default=str(CENSUS))
    parser.add_argument("--missing", action="store_true", help="list what deepgrad lacks")
    parser.add_argument("--parity", action="store_true", help="also run the parity programs")
    parser.add_argument("--markdown", action="store_true", help="print the tables of the doc")
    args = parser.parse_args()
    census = json.loads(Path(args.census).read_text())
    r = report(census, args.parity)
    if args.markdown:
        print(markdown(census, r))
        return
    pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "n/a"  # noqa: E731
    print(f"programs counted:              {r['programs']}")
    print(f"distinct names:                {r['names']} ({r['out_of_scope']} out of scope)")
    print(
        f"in-scope names implemented:    {r['implemented']}/{r['in_scope']} "
        f"({pct(r['implemented'], r['in_scope'])})"
    )
    print(
        f"  used by >= 3 programs:       {r['frequent_implemented']}/{r['frequent']} "
        f"({pct(r['frequent_implemented'], r['frequent'])})"
    )
    print(
        f"keywords taken:                {r['keywords_taken']}/{r['keywords']} "
        f"({pct(r['keywords_taken'], r['keywords'])})"
    )
    if args.parity:
        print(
            f"in-scope names at parity:      {r['parity']}/{r['in_scope']} "
            f"({pct(r['parity'], r['in_scope'])}); used by >= 3 programs: "
            f"{r['frequent_parity']}/{r['frequent']} ({pct(r['frequent_parity'], r['frequent'])})"
        )
    if args.missing:
        names = census["names"]
        for n in r["missing"]:
            print(f"  missing  {names[n]['programs']:3d}  {n}")
        for n, k in r["missing_keywords"]:
            print(f"  keyword  {n}({k}=)")


if __name__ == "__main__":
    main()
