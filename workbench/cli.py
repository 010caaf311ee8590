"""Headless commands: models, methods, run, train. ``workbench`` alone opens the GUI.

Every error becomes one line on stderr naming the file or parameter at fault, and exit code 2
(``WORKBENCH_DEBUG=1`` shows the traceback instead); Ctrl+C exits quietly with 130.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

COMMANDS = ("models", "methods", "run", "train", "ganlab", "batch")
DEBUG_ENV = "WORKBENCH_DEBUG"
FAILED, INTERRUPTED, BROKEN_PIPE = 2, 130, 1


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
    r.add_argument("--model", help="zoo:NAME, torchvision:NAME[?weights=...], file:PATH "
                                   "(optional for a method with a default model, such as style)")
    r.add_argument("--image", help="an image path or sample:NAME")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="a method parameter")
    r.add_argument("--target", help="class index or name (default: the top prediction)")
    r.add_argument("--out", help="figure path (.png, .svg or .pdf)")
    r.add_argument("--scale", type=float, default=1.0, help="PNG scale: 1 is the natural size (small images enlarged to 512 px), 2 twice that")
    r.add_argument("--npz", help="arrays path (.npz); params go in it and beside it as .json")
    r.add_argument("--script", help="a Python file (.py) that redraws the figure with matplotlib, "
                                    "with the arrays it reads beside it as NAME.figure.npz")
    r.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "auto"))
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.add_argument("--trust-pickle", dest="trust", action="store_true",
                   help="allow a pickled model file you trust (it can run arbitrary code)")
    t = sub.add_parser("train", help="retrain a bundled model, reproducibly")
    t.add_argument("name")
    t.add_argument("--out-dir", help="where to write NAME.safetensors and NAME.json (default: the bundled folder)")
    t.add_argument("--epochs", type=int, help="classifiers, generative models: epochs to train")
    t.add_argument("--steps", type=int, help="segmenter, captioner, textures-cnn, R-CNN/SPPNet: override the "
                                             "recipe's step count")
    t.add_argument("--threads", type=int, help="detectors, segmenter, captioner, textures-cnn: torch threads "
                                               "(results depend on it)")
    t.add_argument("--checkpoints", help="detectors: folder of the resumable checkpoint NAME.pt")
    t.add_argument("--minutes", type=float, help="detectors: wall-clock budget of this run (resume later)")
    t.add_argument("--until", type=int, help="detectors: stop after this step (resume later)")
    t.add_argument("--rescore", action="store_true", help="generative models, detectors: only measure the card metrics again")
    g = sub.add_parser("ganlab", help="train the GAN lab headless: a preset's scenario, its figure and curves")
    g.add_argument("--preset", help="a scenario (default: the lab's default setting); see --list")
    g.add_argument("--list", action="store_true", help="list the presets and exit")
    g.add_argument("--steps", type=int, help="training steps (default: the preset's own count, else 2500)")
    g.add_argument("--seed", type=int)
    g.add_argument("--out", help="the lab's figure (.png, .svg or .pdf)")
    g.add_argument("--npz", help="the curves (losses, G's gradient norm, divergences) and last frame (.npz)")
    from workbench import cli_batch
    cli_batch.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command == "run" and not args.model and not _has_default_model(args.method):
        parser.error("the following arguments are required: --model")
    try:
        with warnings.catch_warnings():
            if not os.environ.get(DEBUG_ENV):
                warnings.showwarning = _one_line_warning(args.command)
            code = {"models": _models, "methods": _methods, "run": _run, "train": _train, "ganlab": _ganlab,
                    "batch": _batch}[args.command](args)
        sys.stdout.flush()      # a closed pipe shows here, not at exit
        return code
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:     # `workbench models | head -1`: the reader has gone
        try:                    # and Python's own flush at exit must not complain about it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return BROKEN_PIPE
    except BaseException as exc:  # everything else, SystemExit from a plugin included: one line
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"workbench {args.command}: {error_message(exc)}", file=sys.stderr)
        return FAILED


def _batch(args) -> int:
    from workbench import cli_batch
    return cli_batch.run(args, parse_sets(args.sets), progress_bar=not args.quiet and _is_terminal(sys.stderr))


def _has_default_model(method: str) -> bool:
    from workbench.plugins import default_registry
    registry = default_registry()
    return method in registry and registry.get(method).default_model is not None


def _one_line_warning(command: str) -> Callable[..., None]:
    """Warnings (a device fallback, a library's deprecation) as one line, without file and line."""
    def show(message: Warning | str, category: type, filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        text = next((t.strip() for t in str(message).splitlines() if t.strip()), category.__name__)
        print(f"workbench {command}: note: {text}", file=sys.stderr if file is None else file)
    return show


def error_message(exc: BaseException) -> str:
    """One line for the user: the workbench's own errors (ValueError, KeyError, OSError) as their
    text, anything else with its type, which tells more than a bare message from deep inside."""
    from workbench.plugins import describe_failure
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    elif isinstance(exc, (ValueError, OSError)):
        text = str(exc)
    else:
        return describe_failure(exc)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


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
    outputs, params = check_outputs(args), parse_sets(args.sets)    # before anything is computed
    image = api.load_image(args.image) if args.image else None
    model = api.load_model(args.model, trust_pickle=args.trust) if args.model else None   # None: the method's default
    with progress_bar(args.method, quiet=args.quiet) as on_progress:
        result = api.run(args.method, model, image, target=args.target, device=args.device,
                         on_progress=on_progress, params=params)
    if args.npz:
        from workbench.core.atomic import write_text_atomic
        with writing(args.npz):
            result.save_npz(args.npz)
        with writing(outputs["sidecar"]):
            write_text_atomic(outputs["sidecar"], result.params_json())
        print(f"wrote {args.npz}")
    if args.out:
        from workbench.figure.render import export_result
        with writing(args.out):
            print(f"wrote {export_result(result, image, args.out, scale=args.scale)}")
    if args.script:
        from workbench.figure.script import write_script
        with writing(args.script):
            _arrays, script = write_script(result, outputs["script_arrays"], args.script, image=image)
        print(f"wrote {script} (run it: python {script} --out figure.pdf)")
    if not (args.npz or args.out or args.script):
        print(result.params_json())
    return 0


def check_outputs(args) -> dict[str, Path]:
    """Every output of ``run`` checked before the work: its format, its folder, and that no two
    outputs (the npz's JSON sidecar included) and no input are the same file. Returns them by name."""
    if not (math.isfinite(args.scale) and args.scale > 0):
        raise ValueError(f"--scale must be a positive number, not {args.scale}")
    named: dict[str, tuple[str, Path]] = {}
    if args.out:
        from workbench.figure.render import check_format
        try:
            check_format(args.out)
        except ValueError as exc:
            raise ValueError(f"--out: {exc}") from None
        named["out"] = ("--out", Path(args.out))
    if args.npz:
        npz = Path(args.npz)
        if npz.suffix.lower() != ".npz":
            raise ValueError(f"--npz {npz.name!r}: the arrays file must end in .npz")
        named["npz"] = ("--npz", npz)
        named["sidecar"] = ("the params file of --npz", npz.with_suffix(".json"))
    script = getattr(args, "script", None)
    if script:
        if Path(script).suffix.lower() != ".py":
            raise ValueError(f"--script {Path(script).name!r}: the script must end in .py")
        named["script"] = ("--script", Path(script))
        from workbench.figure.script import companion_npz
        named["script_arrays"] = ("the arrays of --script", companion_npz(script))
    from workbench.core.atomic import check_writable
    seen = {_same(p): f"{what} {p}" for what, p in _input_files(args)}
    for what, path in named.values():
        try:
            check_writable(path)
        except OSError as exc:
            raise ValueError(f"{what}: {exc}") from None
        other = seen.get(_same(path))
        if other is not None:
            raise ValueError(f"{what} {path} would overwrite {other}; give them different names")
        seen[_same(path)] = f"{what} {path}"
    return {key: path for key, (_what, path) in named.items()}


def _input_files(args) -> list[tuple[str, str]]:
    """The files ``run`` reads: the image, a model file and a weights file named in the model id."""
    found = []
    if args.image and not args.image.lower().startswith("sample:"):
        found.append(("--image", args.image))
    source, _, query = (args.model or "").partition("?")
    if source.lower().startswith("file:"):
        found.append(("--model", source[len("file:"):]))
    for option in query.split("&"):
        key, _, value = option.partition("=")
        if key == "weights" and value:
            found.append(("the weights of --model", value))
    return found


def _same(path: str | Path) -> str:
    """A key that two names of one file share (relative or absolute, through symlinks, any case on Windows)."""
    return os.path.normcase(os.path.realpath(path))


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Name the file in any failure while writing it (a painter's RuntimeError, a full disk)."""
    try:
        yield
    except (ValueError, OSError):
        raise
    except Exception as exc:
        from workbench.plugins import describe_failure
        raise ValueError(f"cannot write {path}: {describe_failure(exc)}") from exc


@contextmanager
def progress_bar(label: str, quiet: bool = False) -> Iterator[Callable[[Any], None] | None]:
    """A progress callback that draws a bar with rate and time left on stderr, from the first
    progress a method reports; None (no bar) when ``quiet`` or stderr is not a terminal."""
    stream = sys.stderr
    if quiet or not _is_terminal(stream):
        yield None
        return
    bar = None

    def update(progress: Any) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm
            bar = tqdm(total=100, desc=label, unit="%", file=stream, leave=False,
                       bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}, {rate_fmt}{postfix}")
        done = 100.0 * min(1.0, max(0.0, float(progress.fraction)))
        if getattr(progress, "message", ""):
            bar.set_postfix_str(progress.message, refresh=False)
        if done > bar.n:
            bar.update(done - bar.n)

    try:
        yield update
        if bar is not None:     # done: draw the full bar once, whatever the last report said
            bar.update(100 - bar.n)
            bar.refresh()
    finally:
        if bar is not None:
            bar.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):   # no isatty, or a closed stream
        return False


TRAIN_OPTIONS = ("epochs", "steps", "threads", "checkpoints", "minutes", "until", "rescore")


def _train(args) -> int:
    from workbench.zoo.training import train
    options = {k: getattr(args, k) for k in TRAIN_OPTIONS if getattr(args, k) not in (None, False)}
    card = train(args.name, Path(args.out_dir) if args.out_dir else None, **options)
    print(json.dumps((card or {}).get("metrics", {}), indent=1))
    return 0


def _ganlab(args) -> int:
    from workbench.core.ganlab.headless import run_lab, save_lab_npz
    from workbench.core.ganlab.presets import PRESETS
    if args.list:
        for p in PRESETS.values():
            print(f"{p.name:<20} {p.steps:>5} steps  {p.description}")
        return 0
    for path, kinds in ((args.out, (".png", ".svg", ".pdf")), (args.npz, (".npz",))):
        if path and Path(path).suffix.lower() not in kinds:
            raise ValueError(f"{path}: expected one of {', '.join(kinds)}")
    snap, notes = run_lab(args.preset, args.steps, args.seed)
    for note in notes:
        print(f"workbench ganlab: warning: {note}", file=sys.stderr)
    m = snap.metrics
    print(f"step {snap.step}: modes {m.modes_text()}, KL {m.kl:.3f}, JS {m.js:.3f}, TV {m.tv:.3f}, "
          f"median G gradient {snap.g_grad[-1] if len(snap.g_grad) else float('nan'):.3g}, "
          f"D Lipschitz {snap.lipschitz.constant:.3g}")
    if args.npz:
        print(save_lab_npz(snap, args.npz))
    if args.out:
        from workbench.figure.ganlab import export_lab
        print(export_lab(snap, args.out, 1.0, f"step {snap.step}\nmodes {m.modes_text()}\nJS {m.js:.3f}"))
    return 0
