"""Headless commands: models, methods, run, train. ``workbench`` alone opens the GUI."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

COMMANDS = ("models", "methods", "run", "train")


def is_cli(argv: Sequence[str] | None) -> bool:
    argv = sys.argv[1:] if argv is None else list(argv)
    return bool(argv) and argv[0] in COMMANDS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description="CV Workbench: explore computer-vision models.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="model ids, task, where the weights come from")
    m = sub.add_parser("methods", help="methods, their params and defaults")
    m.add_argument("--task", help="only methods for this task (classify, detect, segment, ...)")
    r = sub.add_parser("run", help="run a method and write its figure and arrays")
    r.add_argument("method")
    r.add_argument("--model", required=True, help="zoo:NAME, torchvision:NAME[?weights=...], file:PATH")
    r.add_argument("--image", help="an image path or sample:NAME")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="a method parameter")
    r.add_argument("--target", help="class index or name (default: the top prediction)")
    r.add_argument("--out", help="figure path (.png, .svg or .pdf)")
    r.add_argument("--scale", type=float, default=1.0, help="PNG scale: 1 is the natural size (small images enlarged to 512 px), 2 twice that")
    r.add_argument("--npz", help="arrays path (.npz); params go in it and beside it as .json")
    r.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "auto"))
    r.add_argument("--trust-pickle", dest="trust", action="store_true",
                   help="allow a pickled model file you trust (it can run arbitrary code)")
    t = sub.add_parser("train", help="retrain a bundled model, reproducibly")
    t.add_argument("name")
    t.add_argument("--out-dir", help="where to write NAME.safetensors and NAME.json (default: the bundled folder)")
    t.add_argument("--epochs", type=int, help="classifiers, generative models: epochs to train")
    t.add_argument("--steps", type=int, help="segmenter: override the recipe's step count")
    t.add_argument("--threads", type=int, help="detectors, segmenter: torch threads (results depend on it)")
    t.add_argument("--checkpoints", help="detectors: folder of the resumable checkpoint NAME.pt")
    t.add_argument("--minutes", type=float, help="detectors: wall-clock budget of this run (resume later)")
    t.add_argument("--until", type=int, help="detectors: stop after this step (resume later)")
    t.add_argument("--rescore", action="store_true", help="generative models: only measure the card metrics again")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return {"models": _models, "methods": _methods, "run": _run, "train": _train}[args.command](args)
    except (ValueError, KeyError, FileNotFoundError, OSError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"workbench {args.command}: {msg}", file=sys.stderr)
        return 2


def _models(_args) -> int:
    from workbench.core.sources import catalogue
    rows = catalogue()
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(f"{r['id']:<{width}}  {r['task']:<10}  {r.get('weights', '')}")
    return 0


def _methods(args) -> int:
    from workbench.plugins import default_registry, plugin_errors
    for err in plugin_errors():
        print(f"warning: {err}", file=sys.stderr)
    for m in default_registry().for_task(args.task):
        print(f"{m.name}  [{', '.join(m.tasks)}]  ({m.kind})  {m.description}")
        for s in m.param_specs():
            extra = f" range {s.range[0]}..{s.range[1]}" if s.range else ""
            extra += f" choices {s.choices}" if s.choices else ""
            extra += f", {s.range[0]}: {s.at_minimum}" if s.at_minimum and s.range else ""
            hint = f": {s.help}" if s.help else ""
            print(f"    {s.name} = {s.default!r}  ({s.type.__name__}{extra}) {s.label}{hint}")
    return 0


def parse_sets(sets: list[str]) -> dict[str, str]:
    out = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set takes k=v, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _run(args) -> int:
    from workbench import api
    image = api.load_image(args.image) if args.image else None
    result = api.run(args.method, api.load_model(args.model, trust_pickle=args.trust), image,
                     target=args.target, device=args.device, **parse_sets(args.sets))
    if args.npz:
        path = result.save_npz(args.npz)
        Path(path).with_suffix(".json").write_text(json.dumps(result.meta(), indent=1, default=str))
        print(f"wrote {path}")
    if args.out:
        from workbench.figure.render import export_result
        print(f"wrote {export_result(result, image, args.out, scale=args.scale)}")
    if not (args.npz or args.out):
        print(json.dumps(result.meta(), indent=1, default=str))
    return 0


TRAIN_OPTIONS = ("epochs", "steps", "threads", "checkpoints", "minutes", "until", "rescore")


def _train(args) -> int:
    from workbench.zoo.training import train
    options = {k: getattr(args, k) for k in TRAIN_OPTIONS if getattr(args, k) not in (None, False)}
    card = train(args.name, Path(args.out_dir) if args.out_dir else None, **options)
    print(json.dumps((card or {}).get("metrics", {}), indent=1))
    return 0
