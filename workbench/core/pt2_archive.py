"""What a torch.export archive (.pt2) may hold to be loaded without the user's trust.

``torch.export.load`` unpickles payloads stored with ``use_pickle``, custom and opaque
objects, and sample inputs that do not read weights-only; it turns stored guard source into
a function, looks operators up by name under ``torch``, and reads symbolic shapes with
sympy, which evaluates text. An archive loads untrusted only when it holds none of that:
tensors stored raw, sample inputs that read weights-only, no guard code, operators from
``torch.ops`` (and a few arithmetic functions), and shape expressions built from sympy
classes, symbol names and numbers.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

import torch

_FILES = re.compile(r"archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id"
                    r"|models/model\.json|data/weights/model_weights_config\.json|data/weights/weight_\d+"
                    r"|data/constants/model_constants_config\.json|data/constants/tensor_\d+"
                    r"|data/sample_inputs/model\.pt|extra/[\w.-]+")
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_OPERATOR = re.compile(rf"torch\.ops\.{_NAME}\.{_NAME}(\.{_NAME})?|torch\.sym_[a-z_]+|math\.[a-z][a-z0-9_]*"
                       r"|_operator\.(getitem|add|sub|mul|truediv|floordiv|mod|pow|neg|pos|abs|eq|ne"
                       r"|lt|le|gt|ge|and_|or_|xor|not_|invert|lshift|rshift)")
_TOKEN = re.compile(r"\s+|'[A-Za-z][A-Za-z0-9_]*'|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[A-Za-z_][A-Za-z0-9_]*"
                    r"|\*\*|//|==|!=|<=|>=|[-+*/%(),<>=]")


def is_pt2(path: Path) -> bool:
    """A zip archive in torch.export's format (a ``*/archive_format`` entry saying ``pt2``)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith("archive_format") and n.count("/") <= 1]
        return any(archive.read(n)[:8].strip() == b"pt2" for n in names)


def untrusted_content(path: Path) -> str | None:
    """What in the archive could run code when loaded, in words; None when nothing could.

    Raises ValueError (or zipfile's and json's errors) for an archive that is damaged.
    """
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > 2 * path.stat().st_size + (1 << 20):  # torch stores members uncompressed
            raise ValueError(f"it would unpack to {unpacked / 2**30:.1f} GB, far more than its own size")
        names = archive.namelist()
        roots = {n.split("/", 1)[0] for n in names}
        if len(roots) != 1 or any("/" not in n for n in names):
            raise ValueError("files outside one archive folder")
        root = roots.pop() + "/"
        if root + "models/model.json" not in names:
            raise ValueError("no program named 'model'")
        odd = [n for n in names if not _FILES.fullmatch(n[len(root):])]
        if odd:
            return f"{odd[0][len(root):]!r}, which is not a plain tensor or the program"
        for config in ("data/weights/model_weights_config.json", "data/constants/model_constants_config.json"):
            if root + config in names:
                problem = _payload_problem(json.loads(archive.read(root + config)))
                if problem:
                    return problem
        if root + "data/sample_inputs/model.pt" in names:
            try:
                torch.load(io.BytesIO(archive.read(root + "data/sample_inputs/model.pt")), weights_only=True)
            except Exception:
                return "sample inputs that are pickled Python objects"
        return _program_problem(json.loads(archive.read(root + "models/model.json")))


def _payload_problem(config: Any) -> str | None:
    entries = config.get("config", {}) if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise ValueError("a payload list in an unknown format")
    for fqn, entry in entries.items():
        if not isinstance(entry, dict) or entry.get("use_pickle") is not False \
                or not re.fullmatch(r"(weight|tensor)_\d+", str(entry.get("path_name", ""))):
            return f"{fqn!r} stored as a pickled Python object"
    return None


def _program_problem(program: Any) -> str | None:
    if not isinstance(program, dict):
        raise ValueError("a program in an unknown format")
    if program.get("guards_code"):
        return "guard code stored as Python source"
    for key in (program.get("range_constraints") or {}):
        if not re.fullmatch(r"[a-z]+\d+", str(key)):
            return f"a shape symbol named {str(key)[:40]!r}"
    for kind, text in _strings(program):
        if kind == "target" and not _OPERATOR.fullmatch(text):
            return f"an operation {text[:60]!r} from outside torch.ops"
        if kind == "expr_str" and not _safe_expression(text):
            return f"a shape expression {text[:60]!r} that is not plain arithmetic"
    return None


def _strings(node: Any) -> Iterator[tuple[str, str]]:
    """("target", operator) of every graph node and ("expr_str", text) of every shape expression."""
    if isinstance(node, dict):
        if isinstance(node.get("target"), str) and "inputs" in node:
            yield "target", node["target"]
        if isinstance(node.get("expr_str"), str):
            yield "expr_str", node["expr_str"]
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _safe_expression(text: str) -> bool:
    """sympy's ``srepr`` text: sympy classes called with numbers, quoted symbol names and flags."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        return False
    words = [t for t in tokens if t.strip()]
    for i, word in enumerate(words):
        if re.fullmatch(r"[A-Za-z_]\w*", word) and not (
                word in ("True", "False") or _is_sympy_class(word)
                or (i + 1 < len(words) and words[i + 1] == "=" and word.islower() and "__" not in word)):
            return False
    return True


def _is_sympy_class(name: str) -> bool:
    import sympy

    import torch.utils._sympy.functions as functions
    if name.startswith("_"):
        return False
    found = getattr(sympy, name, None) or getattr(functions, name, None)
    return isinstance(found, type) and issubclass(found, sympy.Basic)
