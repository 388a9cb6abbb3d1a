"""``datasets_info``: which data sets are available and where they were found."""

from __future__ import annotations

from deepgrad.data import iris as _iris
from deepgrad.data import mnist as _mnist
from deepgrad.data.toy import TOY_DATASETS


def datasets_info(root=None) -> list[dict]:
    """One dict per data set: ``name``, ``available`` (bool), ``location`` (folder or None),
    ``source`` (``root``, ``DEEPGRAD_DATA``, ``cache``, ``debian``, ``shipped``,
    ``generated``), ``searched`` (the places looked at, one line each) and ``note``.

    Nothing is downloaded or read beyond checking that the files exist.
    """
    out = []
    for cls in (_mnist.FashionMNIST, _mnist.MNIST):
        files, folder, source, log = _mnist.find(cls, root)
        if files is not None:
            note = f"found ({source})"
        else:
            note = (
                f"not found; downloaded on first use from {cls.mirrors[0]} into "
                f"{_mnist.download_dir(cls, root)}"
            )
            if cls.debian_package:
                note += f", or: sudo apt-get install {cls.debian_package}"
        out.append(
            {
                "name": cls.name,
                "available": files is not None,
                "location": str(folder) if folder is not None else None,
                "source": source,
                "searched": log,
                "note": note,
            }
        )
    out.append(
        {
            "name": "iris",
            "available": True,
            "location": str(_iris.iris_path()),
            "source": "shipped",
            "searched": [],
            "note": "150 flowers, 4 features, 3 classes; shipped with deepgrad",
        }
    )
    for name, (_, task, k) in TOY_DATASETS.items():
        what = f"{k} classes" if task == "classification" else "a float target"
        out.append(
            {
                "name": name,
                "available": True,
                "location": None,
                "source": "generated",
                "searched": [],
                "note": f"2-D toy set ({task}, {what}), generated on demand",
            }
        )
    return out


def format_datasets_info(info: list[dict] | None = None) -> str:
    """``datasets_info()`` as a table for people (what ``deepgrad datasets`` prints)."""
    info = datasets_info() if info is None else info
    width = max(len(d["name"]) for d in info)
    lines = [f"{'dataset':<{width}}  available  {'source':<13}  location"]
    for d in info:
        mark = "yes" if d["available"] else "no"
        lines.append(
            f"{d['name']:<{width}}  {mark:<9}  {d['source'] or '-':<13}  {d['location'] or ''}"
        )
        if not d["available"]:
            lines.append(f"{'':<{width}}  {d['note']}")
            lines += [f"{'':<{width}}    looked in {place}" for place in d["searched"]]
    return "\n".join(line.rstrip() for line in lines)
