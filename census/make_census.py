"""Count which PyTorch names public teaching code uses: the API census behind docs/COMPATIBILITY.md.

Reads each program of the sources below from a local git mirror (a bare repository; nothing is
checked out), extracts its Python code, parses it with ``ast`` and records, per program, which
``torch.*`` names it reaches (through any import alias) and with which keyword arguments it calls
them. ``Tensor.*`` methods and attributes are found by a heuristic: an attribute ``.name`` or call
``.name(...)`` whose name is a public attribute of ``torch.Tensor`` and whose receiver is not an
imported module (numpy, pandas, ...) and not ``self``. Names that are also methods of ``str``,
``list``, ``dict``, ``set`` or ``tuple`` are skipped, since intro code calls ``"a,b".split(",")``
and ``list.index`` far more often than the tensor methods of the same name. The heuristic still
counts some NumPy/pandas calls (``array.sum()``, ``df.mean()``) as tensor methods; it errs towards
counting a name, never towards missing one.

A *program* is one ``.py`` file, one notebook (its code cells, shell/magic lines dropped) or one
section of the d2l book (one markdown file: its ``%%tab pytorch`` and ``%%tab all`` cells).
Programs outside the course's scope (RNN/NLP, GANs, reinforcement learning, distributed training,
graph networks, transformers) are listed with the reason and not counted.

Only names and counts are written: census/census.json. No fetched code is stored in this repo.

Re-run (with PyTorch installed, for the name checks):

    python census/make_census.py --mirrors /work/.mirror

where each source's mirror is ``<mirrors>/<owner>+<name>/repo``, a bare clone of the repository
named in SOURCES (for pytorch/tutorials, whose full snapshot is over 5 GB, the census reads an
unmodified commit of pytorch/tutorials's own history from a smaller fork; both are recorded).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scope import classify  # noqa: E402

HERE = Path(__file__).resolve().parent

# Each source: the repository, the mirror it is read from, the commit, and the programs as
# (glob, scope) pairs; scope is "in" or the reason the program is outside the course.
# The first matching glob decides.
OUT_RNN = "out of course scope: RNN/sequence models"
OUT_NLP = "out of course scope: NLP/transformers"
OUT_GAN = "out of course scope: GANs"
OUT_RL = "out of course scope: reinforcement learning"
OUT_DIST = "out of course scope: distributed/multi-GPU training"
OUT_GRAPH = "out of course scope: graph networks (sparse)"
OUT_DEPLOY = "out of course scope: deployment/export/profiling tooling"
DUPLICATE = "duplicate of another program in the census"

SOURCES = [
    {
        "repo": "pytorch/tutorials",
        "mirror": "jianran+pytorch_tutorials",
        "commit": "13d365c8268e41f6f4dc12d9f416d5c571c410ee",
        "programs": [
            ("beginner_source/basics/*.py", "in"),
            ("beginner_source/blitz/data_parallel_tutorial.py", OUT_DIST),
            ("beginner_source/blitz/*.py", "in"),
            ("beginner_source/nn_tutorial.py", "in"),
            ("beginner_source/examples_*/*.py", "in"),
            ("beginner_source/introyt/*.py", "in"),
            ("beginner_source/data_loading_tutorial.py", "in"),
            ("beginner_source/transfer_learning_tutorial.py", "in"),
            ("beginner_source/saving_loading_models.py", "in"),
            ("beginner_source/fgsm_tutorial.py", "in"),
            ("beginner_source/knowledge_distillation_tutorial.py", "in"),
            ("beginner_source/template_tutorial.py", "in"),
            ("beginner_source/dcgan_faces_tutorial.py", OUT_GAN),
            ("beginner_source/nlp/*.py", OUT_NLP),
            ("recipes_source/recipes/defining_a_neural_network.py", "in"),
            ("recipes_source/recipes/what_is_state_dict.py", "in"),
            ("recipes_source/recipes/zeroing_out_gradients.py", "in"),
            (
                "recipes_source/recipes/warmstarting_model_using_parameters_from_a_different_model.py",
                "in",
            ),
            ("recipes_source/recipes/reasoning_about_shapes.py", "in"),
            ("recipes_source/recipes/changing_default_device.py", "in"),
            ("recipes_source/recipes/module_load_state_dict_tips.py", "in"),
            ("recipes_source/recipes/*.py", OUT_DEPLOY),
        ],
    },
    {
        "repo": "d2l-ai/d2l-en",
        "mirror": "d2l-ai+d2l-en",
        "commit": "23d7a5aecceee57d1292c56e90cce307f183bb0a",
        "programs": [
            (f"chapter_{chapter}/*.md", "in")
            for chapter in (
                "preliminaries",
                "linear-regression",
                "linear-classification",
                "multilayer-perceptrons",
                "builders-guide",
                "convolutional-neural-networks",
                "convolutional-modern",
                "optimization",
            )
        ],
    },
    {
        "repo": "pytorch/examples",
        "mirror": "pytorch+examples",
        "commit": "77f55b912142e11fcfdf5b530231fb9c52f181e8",
        "programs": [
            ("mnist/main.py", "in"),
            ("mnist_forward_forward/main.py", "in"),
            ("mnist_hogwild/*.py", "in"),
            ("regression/main.py", "in"),
            ("vae/main.py", "in"),
            ("siamese_network/main.py", "in"),
            ("super_resolution/*.py", "in"),
            ("fast_neural_style/neural_style/*.py", "in"),
            ("word_language_model/data.py", "in"),
            ("word_language_model/*.py", OUT_RNN),
            ("imagenet/main.py", OUT_DIST),
            ("dcgan/*.py", OUT_GAN),
            ("mnist_rnn/*.py", OUT_RNN),
            ("time_sequence_prediction/*.py", OUT_RNN),
            ("language_translation/**", OUT_NLP),
            ("reinforcement_learning/*.py", OUT_RL),
            ("gat/*.py", OUT_GRAPH),
            ("gcn/*.py", OUT_GRAPH),
            ("distributed/**", OUT_DIST),
        ],
    },
    {
        "repo": "yunjey/pytorch-tutorial",
        "mirror": "yunjey+pytorch-tutorial",
        "commit": "0500d3df5a2a8080ccfccbc00aca0eacc21818db",
        "programs": [
            ("tutorials/01-basics/*/main.py", "in"),
            ("tutorials/02-intermediate/convolutional_neural_network/main.py", "in"),
            ("tutorials/02-intermediate/deep_residual_network/main.py", "in"),
            ("tutorials/02-intermediate/*", OUT_RNN),
            ("tutorials/03-advanced/variational_autoencoder/main.py", "in"),
            ("tutorials/03-advanced/neural_style_transfer/main.py", "in"),
            ("tutorials/03-advanced/generative_adversarial_network/main.py", OUT_GAN),
            ("tutorials/03-advanced/image_captioning/*", OUT_NLP),
            ("tutorials/04-utils/tensorboard/main.py", "in"),
        ],
    },
    {
        "repo": "mrdbourke/pytorch-deep-learning",
        "mirror": "mrdbourke+pytorch-deep-learning",
        "commit": "baa27b691617461c173ecf3439793cd8cde74e13",
        "programs": [
            ("0[0-6]_*.ipynb", "in"),
            ("07_pytorch_experiment_tracking.ipynb", "in"),
            ("08_pytorch_paper_replicating.ipynb", OUT_NLP),
            ("09_pytorch_model_deployment.ipynb", OUT_DEPLOY),
            ("extras/exercises/0[0-7]_*.ipynb", "in"),
            ("extras/solutions/0[0-7]_*.ipynb", "in"),
            ("extras/exercises/*.ipynb", OUT_NLP),
            ("extras/solutions/*.ipynb", OUT_NLP),
            ("extras/pytorch_2_intro.ipynb", "in"),
            ("extras/pytorch_cheatsheet.ipynb", "in"),
            ("extras/pytorch_most_common_errors.ipynb", "in"),
            ("extras/04_custom_data_creation.ipynb", "in"),
            ("going_modular/*.ipynb", "in"),
            ("going_modular/going_modular/*.py", "in"),
            ("helper_functions.py", "in"),
            ("docs/*", DUPLICATE),
            ("video_notebooks/*", DUPLICATE),
        ],
    },
    {
        "repo": "udacity/deep-learning-v2-pytorch",
        "mirror": "udacity+deep-learning-v2-pytorch",
        "commit": "c9404fc86181fc3f0906b368697268257f348535",
        "programs": [
            ("intro-to-pytorch/*", "in"),
            ("convolutional-neural-networks/*/*.ipynb", "in"),
            ("autoencoder/*/*.ipynb", "in"),
            ("batch-norm/*.ipynb", "in"),
            ("weight-initialization/*", "in"),
            ("transfer-learning/*.ipynb", "in"),
            ("style-transfer/*.ipynb", "in"),
            ("project-dog-classification/*.ipynb", "in"),
            ("project-bikesharing/*", "in"),
            ("intro-neural-networks/*/*.ipynb", "in"),
            ("cycle-gan/*", OUT_GAN),
            ("dcgan-svhn/*", OUT_GAN),
            ("gan-mnist/*", OUT_GAN),
            ("project-face-generation/*", OUT_GAN),
            ("recurrent-neural-networks/*/*", OUT_RNN),
            ("sentiment-rnn/*", OUT_RNN),
            ("project-tv-script-generation/*", OUT_RNN),
            ("attention/*", OUT_NLP),
            ("word2vec-embeddings/*", OUT_NLP),
            ("sentiment-analysis-network/*", OUT_NLP),
        ],
    },
    {
        "repo": "Atcold/NYU-DLSP20",
        "mirror": "Atcold+NYU-DLSP20",
        "commit": "3049c83260ba05700e2ab9b7ed13cdbe5ddba0fd",
        "programs": [
            ("0[0-7]-*.ipynb", "in"),
            ("08-seq_classification.ipynb", OUT_RNN),
            ("09-echo_data.ipynb", OUT_RNN),
            ("1[0-4]-*.ipynb", "in"),
            ("15-transformer.ipynb", OUT_NLP),
            ("16-gated_GCN.ipynb", OUT_GRAPH),
            ("extra/*.ipynb", "in"),
            ("extra/*.py", "in"),
            ("extra/utils/*.py", "in"),
            ("res/plot_lib.py", DUPLICATE),
            ("res/*.py", OUT_RNN),
        ],
    },
]

PROGRAM_SUFFIXES = (".py", ".ipynb", ".md")


def git(mirror: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={mirror}", *args], check=True, capture_output=True, text=True
    ).stdout


def program_scope(path: str, rules) -> str | None:
    for pattern, scope in rules:
        if fnmatch.fnmatch(path, pattern):
            return scope
    return None


# ---- code extraction --------------------------------------------------------------------------

_D2L_CELL = re.compile(r"^```\{\.python \.input[^}]*\}\n(.*?)^```", re.S | re.M)


def _drop_magics(code: str) -> str:
    # IPython magics and shell escapes are not Python; keep line numbers by blanking them.
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in code.split("\n")
    )


def code_cells(path: str, text: str) -> list[str]:
    """The Python code of one program, as a list of cells (a .py file is one cell)."""
    if path.endswith(".py"):
        return [text]
    if path.endswith(".ipynb"):
        notebook = json.loads(text)
        cells = notebook.get("cells") or [
            c for ws in notebook.get("worksheets", []) for c in ws["cells"]
        ]
        out = []
        for cell in cells:
            if cell.get("cell_type") == "code":
                source = cell.get("source") or cell.get("input") or ""
                out.append(_drop_magics("".join(source) if isinstance(source, list) else source))
        return out
    # d2l markdown: the cells tagged for the PyTorch tab (or for every framework).
    out = []
    for match in _D2L_CELL.finditer(text):
        body = match.group(1)
        first, _, rest = body.partition("\n")
        if first.startswith("%%tab"):
            tabs = {t.strip() for t in first[len("%%tab") :].split(",")}
            if "pytorch" not in tabs and "all" not in tabs:
                continue
            body = rest
        elif "tab.interact_select" in body:
            continue
        out.append(_drop_magics(body))
    return out


# ---- name resolution --------------------------------------------------------------------------

_CONTAINER_METHODS = set().union(*(dir(t) for t in (str, list, dict, set, tuple)))
# Read by hand in these programs: every ``.name`` is a model's or a path's, every ``.resize(`` a
# PIL image's, every ``.scatter(`` matplotlib's; none is the tensor method of that name.
_NOT_TENSOR_HERE = {"name", "resize", "scatter"}
TENSOR_NAMES = {
    n
    for n in dir(torch.Tensor)
    if not n.startswith("_") and n not in _CONTAINER_METHODS | _NOT_TENSOR_HERE
}


def collect_aliases(trees: list[ast.AST]) -> tuple[dict[str, str], set[str]]:
    """Map each local name bound by an import to its dotted origin, e.g. F -> torch.nn.functional.

    Returns the torch aliases and the set of local names bound to any other imported module,
    whose attributes are never tensor methods.
    """
    aliases: dict[str, str] = {}
    foreign: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    local = a.asname or a.name.split(".")[0]
                    origin = a.name if a.asname else a.name.split(".")[0]
                    (
                        aliases.__setitem__(local, origin)
                        if origin.split(".")[0] == "torch"
                        else foreign.add(local)
                    )
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    local = a.asname or a.name
                    if node.module.split(".")[0] == "torch":
                        aliases[local] = f"{node.module}.{a.name}"
                    else:
                        foreign.add(local)
    return aliases, foreign


def dotted(node: ast.AST) -> list[str] | None:
    """['F', 'relu'] for ``F.relu``; None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return None


def torch_name(qualified: str) -> str | None:
    """The census name for a dotted torch path: modules, then the first non-module object.

    ``torch.nn.Module.__init__`` -> ``torch.nn.Module``; ``torch.Tensor.add_`` -> ``Tensor.add_``;
    a path torch 2.13 does not have -> None.
    """
    parts = qualified.split(".")
    obj = torch
    for i, part in enumerate(parts[1:], start=1):
        if part.startswith("_"):
            return ".".join(parts[:i]) if i > 1 else None
        try:
            obj = getattr(obj, part)
        except AttributeError:
            try:
                obj = __import__(".".join(parts[: i + 1]), fromlist=["_"])
            except ImportError:
                return None
        if obj is torch.Tensor and i + 1 < len(parts) and not parts[i + 1].startswith("_"):
            return f"Tensor.{parts[i + 1]}" if hasattr(torch.Tensor, parts[i + 1]) else None
        if not isinstance(obj, type(torch)):
            return ".".join(parts[: i + 1])
    return ".".join(parts)


class ProgramCounter(ast.NodeVisitor):
    """Collects the census names and keywords of one program."""

    def __init__(self, aliases: dict[str, str], foreign: set[str]):
        self.aliases, self.foreign = aliases, foreign
        self.names: set[str] = set()
        self.keywords: dict[str, set[str]] = defaultdict(set)
        self.unknown: set[str] = set()

    def resolve(self, node: ast.AST) -> str | None:
        parts = dotted(node)
        if not parts or parts[0] not in self.aliases:
            return None
        qualified = ".".join([self.aliases[parts[0]], *parts[1:]])
        name = torch_name(qualified)
        if name is None:
            self.unknown.add(qualified)
        return name

    def tensor_method(self, node: ast.Attribute) -> str | None:
        if node.attr not in TENSOR_NAMES:
            return None
        base = dotted(node.value)
        if base and (base[0] in self.foreign or base[0] in self.aliases or base == ["self"]):
            return None
        return f"Tensor.{node.attr}"

    def visit_Call(self, node: ast.Call) -> None:
        name = self.resolve(node.func)
        if name is None and isinstance(node.func, ast.Attribute):
            name = self.tensor_method(node.func)
        if name is not None:
            self.names.add(name)
            self.keywords[name].update(k.arg for k in node.keywords if k.arg)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self.resolve(node)
        if name is not None:
            self.names.add(name)
            return  # the chain's inner parts are prefixes of this name, not names of their own
        name = self.tensor_method(node)
        if name is not None:
            self.names.add(name)
        self.generic_visit(node)  # x.sum(axis=0).item(): the receiver holds names too

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases:
            name = self.resolve(node)
            if name is not None and "." in name:
                self.names.add(name)


def count_program(cells: list[str]) -> tuple[ProgramCounter | None, int]:
    trees, failed = [], 0
    for cell in cells:
        try:
            trees.append(ast.parse(cell))
        except SyntaxError:
            failed += 1
    aliases, foreign = collect_aliases(trees)
    if not aliases:
        return None, failed
    counter = ProgramCounter(aliases, foreign)
    for tree in trees:
        counter.visit(tree)
    return counter, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirrors", default="/work/.mirror", help="folder of <owner>+<name>/repo")
    parser.add_argument("--out", default=str(HERE / "census.json"))
    args = parser.parse_args()

    programs, name_programs = [], Counter()
    keyword_programs: dict[str, Counter] = defaultdict(Counter)
    for source in SOURCES:
        mirror = Path(args.mirrors) / source["mirror"] / "repo"
        paths = git(mirror, "ls-tree", "-r", "--name-only", source["commit"]).split("\n")
        for path in sorted(p for p in paths if p.endswith(PROGRAM_SUFFIXES)):
            scope = program_scope(path, source["programs"])
            if scope is None:
                continue
            entry = {
                "repo": source["repo"],
                "path": path,
                "commit": source["commit"],
                "kind": {"py": "py file", "ipynb": "notebook", "md": "d2l markdown section"}[
                    path.rsplit(".", 1)[1]
                ],
            }
            if scope != "in":
                programs.append({**entry, "counted": False, "reason": scope})
                continue
            try:
                text = git(mirror, "show", f"{source['commit']}:{path}")
            except subprocess.CalledProcessError:
                # Snapshots leave out files of 4 MiB and more (notebooks with embedded images).
                programs.append({**entry, "counted": False, "reason": "not in the mirror (large)"})
                continue
            counter, failed = count_program(code_cells(path, text))
            if counter is None or not counter.names:
                programs.append({**entry, "counted": False, "reason": "no PyTorch code"})
                continue
            programs.append(
                {**entry, "counted": True, "names": len(counter.names), "cells_not_parsed": failed}
            )
            name_programs.update(counter.names)
            for name, kws in counter.keywords.items():
                keyword_programs[name].update(kws)

    names = {}
    for name, count in sorted(name_programs.items(), key=lambda kv: (-kv[1], kv[0])):
        scope, reason = classify(name)
        names[name] = {
            "programs": count,
            "keywords": dict(
                sorted(keyword_programs[name].items(), key=lambda kv: (-kv[1], kv[0]))
            ),
            "scope": scope,
            **({"reason": reason} if reason else {}),
        }
    census = {
        "about": (
            "PyTorch API census of public teaching code: per name, the number of programs that "
            "use it and, per keyword, the number of programs that pass it. Made by "
            "census/make_census.py; Tensor.* names come from a heuristic (see the script)."
        ),
        "torch_version": torch.__version__.split("+")[0],
        "sources": [
            {k: s[k] for k in ("repo", "commit")}
            | (
                {"read_from": s["mirror"].replace("+", "/")}
                if s["mirror"].replace("+", "/") != s["repo"]
                else {}
            )
            for s in SOURCES
        ],
        "programs_counted": sum(p["counted"] for p in programs),
        "programs": programs,
        "names": names,
    }
    Path(args.out).write_text(json.dumps(census, indent=1) + "\n")
    print(
        f"{census['programs_counted']} programs counted ({len(programs)} listed), "
        f"{len(names)} distinct names -> {args.out}"
    )


if __name__ == "__main__":
    main()
