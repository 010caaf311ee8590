"""The source text of an exported figure script, part by part (``workbench.figure.script`` puts
them together). Each part is plain matplotlib a researcher can read and change; values worth
restyling (opacity, line widths, colormaps) are written as literals, arrays come from the npz.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from workbench.core.canvas_layers import BoxesLayer, HeatmapLayer, Layer, MaskLayer, PointsLayer, SegmentationLayer

SCORE_ROWS = (("FID ↓", "fid"), ("KID ↓", "kid"), ("IS ↑", "is"))


def _doc(text: str) -> str:
    """``text`` safe inside a triple-quoted docstring."""
    return text.replace("\\", "/").replace('"', "'").replace("\n", " ")


def header(result: Any, npz_name: str, imports: list[str] = ()) -> str:
    title = result.title or result.method or result.kind
    origin = ", ".join(x for x in (result.method, result.model) if x)
    about = f"{title} ({origin})" if origin and origin != title else title
    wrap = "\nimport textwrap" if "textwrap" in imports else ""
    extra = "".join(f"{line}  # noqa: E402\n" for line in sorted(i for i in imports if i != "textwrap"))
    return f'''"""Redraw the figure "{_doc(about)}" from {_doc(npz_name)} with matplotlib.

Exported by CV Workbench (Export as Script). The npz holds every array the figure shows, and the
result's parameters as JSON under "params". Restyle anything below, then run this file with
--out FILE (.png, .pdf, .svg, ...) to save the figure, or without it to see it in a window.
"""
import argparse
import json{wrap}
from pathlib import Path

import matplotlib
import numpy as np

parser = argparse.ArgumentParser(description="Redraw a CV Workbench figure from its npz.")
parser.add_argument("--out", help="save the figure to this file instead of showing it")
parser.add_argument("--dpi", type=float, default=150, help="pixels per inch of a raster --out")
args = parser.parse_args()
if args.out:
    matplotlib.use("Agg")  # no window needed
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.colors import ListedColormap  # noqa: E402
{extra}
data = np.load(Path(__file__).parent / {npz_name!r})
params = json.loads(str(data["params"]))  # method, model, parameters, target ...
title = str(data["title"])


def colormap(prefix):
    """The workbench's colour table of a layer; plt.get_cmap(name) gives matplotlib's own map."""
    return ListedColormap(data[prefix + "_lut"] / 255, name=str(data[prefix + "_cmap"]))


def finish(fig):
    if args.out:
        fig.savefig(args.out, dpi=args.dpi)
        print(f"wrote {{args.out}}")
    else:
        plt.show()


'''


def overlay_imports(blocks: list[tuple[set[str], str]]) -> list[str]:
    return sorted(set().union(*(i for i, _ in blocks))) if blocks else []


def overlay_body(w: int, h: int, blocks: list[tuple[set[str], str]]) -> str:
    bar = any("fig.colorbar" in code for _, code in blocks)
    lines = [f"h, w = data[\"image\"].shape[:2] if \"image\" in data else ({h}, {w})  # in pixels",
              "extent = (0, w, h, 0)  # pixel (row r, column c) covers x in [c, c+1), y in [r, r+1)",
              f"fig, ax = plt.subplots(figsize=({7.2 if bar else 6}, 6 * h / w + 0.5), layout=\"constrained\")",
              "if \"image\" in data:",
              "    ax.imshow(data[\"image\"], extent=extent, interpolation=\"nearest\")",
              ""]
    for _, code in blocks:
        lines += [code, ""]
    lines += ["ax.set_xlim(0, w)", "ax.set_ylim(h, 0)", "ax.set_title(title, wrap=True)  # a long title wraps to the figure's width", "ax.set_axis_off()", "finish(fig)", ""]
    return "\n".join(lines)


def _rgb(color: Any) -> str:
    return "({}, {}, {})".format(*(int(c) for c in color[:3]))


def layer_block(p: str, layer: Layer, colorbar: bool) -> tuple[set[str], str]:
    """(imports, code) drawing one layer whose arrays are under npz prefix ``p``."""
    name = _doc(layer.name)
    o = round(float(layer.opacity), 3)
    if isinstance(layer, HeatmapLayer):
        code = [f"# heatmap \"{name}\": colormap {layer.colormap}, levels from the npz, opacity {o}",
                f"lo, hi = data[\"{p}_levels\"]"]
        dim = float(getattr(layer, "dim_image", 0.0) or 0.0)
        if dim > 0 and hasattr(layer, "wash_color"):
            code += ["if \"image\" in data:  # wash the image toward the map's neutral colour, so it does not read as signal",
                     f"    ax.imshow(np.full((1, 1, 3), {_rgb(layer.wash_color())}, np.uint8), extent=extent, alpha={dim:g})"]
        code.append(f"ax.imshow(data[\"{p}\"], cmap=colormap(\"{p}\"), vmin=lo, vmax=hi, alpha={o}, extent=extent, "
                    "interpolation=\"nearest\")")
        if colorbar:
            code.append(f"fig.colorbar(plt.cm.ScalarMappable(Normalize(lo, hi), colormap(\"{p}\")), ax=ax, shrink=0.85)")
            return {"from matplotlib.colors import Normalize"}, "\n".join(code)
        return set(), "\n".join(code)
    if isinstance(layer, BoxesLayer):
        style = "--" if getattr(layer, "dashed", False) else "-"
        code = f'''# boxes "{name}": a rectangle per box and its label above it, the highest score drawn last
for i in data["{p}_order"]:
    x0, y0, x1, y1 = data["{p}"][i]
    color, text = data["{p}_colors"][i] / 255, str(data["{p}_texts"][i])
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=color, linewidth={layer.line_width:g},
                           linestyle="{style}", alpha={o}))
    if text:
        ink = "black" if color @ (0.299, 0.587, 0.114) > 0.59 else "white"
        ax.text(x0, y0, text, fontsize=8, color=ink, va="bottom", clip_on=True,
                bbox=dict(facecolor=color, edgecolor="black", linewidth=0.5, pad=1.5, alpha={o}))'''
        if colorbar and getattr(layer, "colormap", ""):
            label = _doc(getattr(layer, "colorbar_label", "") or "")
            code += (f"\nfig.colorbar(plt.cm.ScalarMappable(Normalize(*data[\"{p}_levels\"]), colormap(\"{p}\")), "
                     f"ax=ax, shrink=0.85, label={label!r})")
            return {"from matplotlib.patches import Rectangle", "from matplotlib.colors import Normalize"}, code
        return {"from matplotlib.patches import Rectangle"}, code
    if isinstance(layer, MaskLayer):
        code = f'''# masks "{name}": each in its colour at opacity {o}
overlay = np.zeros((h, w, 4))
for mask, color in zip(data["{p}"], data["{p}_colors"] / 255):
    overlay[mask] = (*color, {o})
ax.imshow(overlay, extent=extent, interpolation="nearest")'''
        return set(), code
    if isinstance(layer, SegmentationLayer):
        code = f'''# segmentation "{name}": class colours at opacity {o}, hidden classes clear, and a legend
seg, colors, names = data["{p}"], data["{p}_colors"] / 255, data["{p}_names"]
shown = ~np.isin(seg, data["{p}_hidden"])
overlay = np.zeros(seg.shape + (4,))
overlay[..., :3] = colors[seg]
overlay[..., 3] = np.where(shown, {o}, 0.0)
ax.imshow(overlay, extent=extent, interpolation="nearest")
ax.legend(handles=[Patch(facecolor=colors[c], edgecolor="black", label=f"{{names[c]}} {{100 * np.mean(seg == c):.1f}}%")
                   for c in np.unique(seg[shown])], loc="upper right", fontsize=8)'''
        return {"from matplotlib.patches import Patch"}, code
    if isinstance(layer, PointsLayer):
        code = f'''# points "{name}"
points = data["{p}"]
ax.scatter(points[:, 0], points[:, 1], s={float(layer.size) ** 2:g}, c=data["{p}_colors"] / 255, edgecolors="black",
           linewidths=0.5, alpha={o}, zorder=3)'''
        return set(), code
    code = f'''# lines "{name}"
ax.add_collection(LineCollection(data["{p}"], colors=data["{p}_colors"] / 255, linewidths={layer.line_width:g},
                                 alpha={o}, capstyle="round"))'''
    return {"from matplotlib.collections import LineCollection"}, code


def grid_body(rows: int, cols: int, scalar: bool, sweep: bool, cmap: str) -> str:
    draw = ("    lo, hi = data[\"tile_levels\"][i]  # each tile's colour range\n"
            "    ax.imshow(tile, cmap=colormap(\"tiles\"), vmin=lo, vmax=hi, interpolation=\"nearest\")"
            if scalar else "    ax.imshow(tile, interpolation=\"nearest\")")
    tile_titles = "" if sweep else (
        "\n    if i < len(titles):\n"
        "        ax.set_title(\"\\n\".join(textwrap.wrap(titles[i], 18)), fontsize=7)")
    edges = '''
# a 2-D sweep: its values label the columns (top) and the rows (left)
for c, label in enumerate(data["column_labels"]):
    axes[0, c].set_title(str(label), fontsize=8)
for r, label in enumerate(data["row_labels"]):
    axes[r, 0].set_ylabel(str(label), fontsize=8, rotation=0, ha="right", va="center")''' if sweep else ""
    about = f"scalar tiles coloured with {cmap}" if scalar else "RGB tiles"
    return f'''# a grid of {rows} x {cols} {about}
tiles, titles = data["tiles"], [str(t) for t in data["titles"]]
rows, cols = {rows}, {cols}
fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols + 0.8, 1.6 * rows + 0.8), squeeze=False,
                         layout="constrained")
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
for ax in axes.flat[len(tiles):]:
    ax.set_visible(False)
for i, (ax, tile) in enumerate(zip(axes.flat, tiles)):
{draw}{tile_titles}
{edges}
fig.suptitle(title, wrap=True)
finish(fig)
'''


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in values.items():
        if isinstance(v, (str, bool, int, float, np.integer, np.floating)):
            out[k] = v.item() if isinstance(v, np.generic) else v
    return out


def scores_arrays(result: Any) -> dict[str, np.ndarray]:
    values = dict(result.values)
    n, seed = values.get("n"), (result.params or {}).get("seed")
    detail = ", ".join(([f"n={n}"] if n is not None else []) + ([f"seed {seed}"] if seed is not None else []))
    columns = [{"header": "this run", "detail": detail, "values": _scalars(values)}]
    columns += [{"header": r.get("header", ""), "detail": r.get("detail", ""), "values": _scalars(r.get("values", {}))}
                for r in getattr(result, "references", [])]
    out = {"scores": np.array(json.dumps(columns))}
    counts = values.get("class_counts")
    if counts is not None and len(np.asarray(counts).reshape(-1)):
        out["class_counts"] = np.asarray(counts, np.int64).reshape(-1)
    return out


def scores_body(result: Any) -> str:
    values = dict(result.values)
    if any(k in values for k in ("fid", "kid_mean", "is_mean")):
        rows = list(SCORE_ROWS)
    else:
        rows = [(k, k) for k, v in _scalars(values).items() if not isinstance(v, (str, bool))]
    return f'''columns = json.loads(str(data["scores"]))  # this run, then the values to read it against
rows = {rows!r}
decimals = {{"fid": 3, "kid": 4, "is": 2}}


def cell(values, key):
    """A value, or a mean ± its std, with the row's decimals; a dash where missing."""
    digits = decimals.get(key, 4)
    if key in values:
        return f"{{values[key]:.{{digits}}f}}"
    mean, std = values.get(key + "_mean"), values.get(key + "_std")
    if mean is None:
        return "–"
    return f"{{mean:.{{digits}}f}} ± {{std:.{{digits}}f}}" if std is not None else f"{{mean:.{{digits}}f}}"


counts = data["class_counts"] if "class_counts" in data else None
fig, axes = plt.subplots(2 if counts is not None else 1, 1, figsize=(7, 5.5 if counts is not None else 2.5),
                         squeeze=False, layout="constrained")
ax = axes[0, 0]
ax.set_axis_off()
table = ax.table(cellText=[[cell(c["values"], key) for c in columns] for _, key in rows],
                 rowLabels=[label for label, _ in rows], loc="center",
                 colLabels=[f"{{c['header']}}\\n{{c['detail']}}".strip() for c in columns])
table.scale(1, 1.8)
ax.set_title(title, wrap=True)
if counts is not None:  # how many samples the classifier put in each class
    ax = axes[1, 0]
    ax.bar(np.arange(len(counts)), counts, color="#466ebe")
    ax.set_xticks(np.arange(len(counts)))
    ax.set_xlabel("class (by the classifier)")
    ax.set_ylabel("samples")
finish(fig)
'''


def curves_body() -> str:
    return '''x = data["x"]
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name in data["series_names"]:
    ax.plot(x, data[f"series_{name}"], label=str(name))
ax.legend()
ax.grid(alpha=0.3)
ax.set_title(title, wrap=True)
finish(fig)
'''
