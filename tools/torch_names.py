"""Write src/deepgrad/_torch_names.json: the public names of ``torch`` and ``torch.Tensor``.

deepgrad uses the list to tell "PyTorch has X; deepgrad does not" apart from a typo, without
importing torch at run time (torch is only a test dependency). Re-run after a torch upgrade:

    python tools/torch_names.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


def public(names) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def torch_public_names() -> list[str]:
    """dir(torch) with the submodules torch imports lazily (``torch.onnx``...) always included,
    so the list does not depend on what happened to be imported before."""
    return public(set(dir(torch)) | set(getattr(torch, "_lazy_modules", ())))


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "src" / "deepgrad" / "_torch_names.json"
    data = {
        "torch_version": torch.__version__,
        "torch": torch_public_names(),
        "Tensor": public(dir(torch.Tensor)),
    }
    out.write_text(json.dumps(data, indent=0) + "\n")
    print(f"wrote {out}: {len(data['torch'])} torch names, {len(data['Tensor'])} Tensor names")


if __name__ == "__main__":
    main()
