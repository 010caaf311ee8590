"""``workbench batch``: a method over every image of a folder, a glob or a bundled dataset, written as
one npz per image and a Parquet index; run again with the same arguments to resume."""
from __future__ import annotations

import sys
from typing import Any


def add_parser(sub: Any) -> None:
    b = sub.add_parser("batch", help="run a method over many images: an npz each and a Parquet index; resumable",
                       description="Run METHOD over every image and write OUT/items/KEY.npz (as `run --npz`) and "
                                   "OUT/index.parquet. Run the same command again to resume a stopped run.")
    b.add_argument("method")
    b.add_argument("--model", required=True, help="zoo:NAME, torchvision:NAME[?weights=...], file:PATH")
    b.add_argument("--images", required=True, help="a folder (every image under it), a glob (quote it), "
                                                   "or dataset:digits / dataset:shapes[:N]")
    b.add_argument("--out", required=True, help="the output folder (new, empty, or a batch to resume)")
    b.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V", help="a method parameter")
    b.add_argument("--target", help="class index or name (default: each image's top prediction)")
    b.add_argument("--workers", type=int, default=0,
                   help="N > 0: a local Ray cluster with N model-holding workers (needs the [cluster] extra)")
    b.add_argument("--address", help="join a running Ray cluster (ray://HOST:PORT or auto)")
    b.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps", "auto"))
    b.add_argument("--retry-errors", action="store_true", help="compute again the items that failed before")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: Any, params: dict[str, str], progress_bar: bool) -> int:
    """The parsed ``batch`` command, its ``--set`` values, and whether to draw a progress bar."""
    from workbench.core.batch.run import run_batch
    from workbench.plugins import default_registry
    if args.workers < 0:
        raise ValueError(f"--workers must be 0 (this process) or more, not {args.workers}")
    method = default_registry().get(args.method)
    bar = _Bar(enabled=progress_bar)
    try:
        table = run_batch(method, args.model, args.images, args.out, params, target=args.target,
                          workers=args.workers, address=args.address, device=args.device,
                          retry_errors=args.retry_errors, on_progress=bar.update)
    except KeyboardInterrupt:
        bar.close()
        print(f"workbench batch: stopped; run the same command to resume ({args.out})", file=sys.stderr)
        raise
    finally:
        bar.close()
    statuses = table.column("status").to_pylist()
    failed = statuses.count("error")
    print(f"{len(statuses) - failed} done, {failed} failed: {args.out}/index.parquet")
    if failed:
        print(f"workbench batch: {failed} image(s) failed; the index's error column says why", file=sys.stderr)
    return 0


class _Bar:
    """Items done of all, with rate and time left, on stderr (a terminal only)."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def update(self, progress: Any) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=progress.total, initial=progress.done, desc="batch", unit="img", file=sys.stderr,
                            leave=False, smoothing=0.1)
        self.bar.set_postfix_str(f"{progress.failed} failed" if progress.failed else "", refresh=False)
        self.bar.update(progress.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
