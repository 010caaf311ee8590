"""The README's checkable statements hold: the bundled models and their cards, the command line,
the methods and parameters its examples use, and the files it names."""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "README.md").read_text(encoding="utf-8")
CARDS = ROOT / "workbench" / "resources" / "models"


def section(title: str) -> str:
    """The text under a "## title" heading, up to the next heading of that level."""
    m = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", TEXT, re.M | re.S)
    assert m, f"README has no section {title!r}"
    return m.group(1)


def code_lines() -> list[str]:
    """Every line of every fenced code block."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", TEXT, re.M | re.S)
    return [line for block in blocks for line in block.splitlines()]


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows keyed by the model id in their first cell."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*`zoo:([\w-]+)`\s*\|(.*)\|\s*$", line)
        if m:
            rows[m.group(1)] = [cell.strip() for cell in m.group(2).split("|")]
    return rows


def close(printed: str, value: float) -> bool:
    """Whether ``value`` rounds to the number as the README prints it."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(float(printed) - float(value)) <= 0.5 * 10 ** -decimals + 1e-9


def card(name: str) -> dict:
    return json.loads((CARDS / f"{name}.json").read_text())


MODELS = table_rows(section("Bundled models"))

# "phrase NUMBER" in the metric column -> the card's metric it states
METRICS = [(r"test accuracy ([\d.]+)", "test_accuracy"), (r"box mAP@\.5 ([\d.]+)", "map_50"),
           (r"(?<!mask )mAP@\[\.5:\.95\] ([\d.]+)", "map_50_95"), (r"mask mAP@\.5 ([\d.]+)", "mask_map_50"),
           (r"val mIoU ([\d.]+)", "val_miou"), (r"test mIoU ([\d.]+)", "test_miou"),
           (r"test MSE ([\d.]+)", "test_reconstruction_mse"),
           (r"negative ELBO ([\d.]+)", "test_negative_elbo_per_image"),
           (r"\bFID ([\d.]+)", "fid"), (r"\bKID ([\d.]+)", "kid_mean"), (r"\bIS ([\d.]+)", "is_mean"),
           (r"val BLEU-4 ([\d.]+)", "val_bleu4"),
           (r"filled-hole accuracy ([\d.]+)", "centre_hole_accuracy"), (r"hole MSE ([\d.]+)", "centre_hole_mse")]
# the super-resolvers' rows: their held-out shapes (sr-*.json "psnr", "ssim", "fid")
METRICS += [(r"\bPSNR ([\d.]+)", "psnr"), (r"\bSSIM ([\d.]+)", "ssim")]


def test_the_model_table_lists_exactly_the_bundled_models():
    """Every zoo: model whose weights ship is in the table; every model in it is in the catalogue."""
    from workbench.core.sources import catalogue
    zoo = {r["id"].split(":", 1)[1]: r for r in catalogue() if r["id"].startswith("zoo:")}
    shipped = {name for name, r in zoo.items() if r["available"]}
    assert set(MODELS) <= set(zoo), f"not in the catalogue: {set(MODELS) - set(zoo)}"
    assert set(MODELS) == shipped, f"shipped but not in the README: {shipped - set(MODELS)}"
    for name in MODELS:
        assert (CARDS / f"{name}.safetensors").is_file() and (CARDS / f"{name}.json").is_file()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_row_says_what_its_card_says(name):
    task, _data, metrics, trained = MODELS[name][:4]
    c = card(name)
    assert task.split()[0] == c["task"]
    if m := re.search(r"\blatent (\d+)", task):
        assert int(m.group(1)) == c["latent_dim"], f"{name}: README says latent {m.group(1)}, card {c['latent_dim']}"
    if m := re.search(r"(\d+)x(\d+)", task):
        assert [int(m.group(1)), int(m.group(2))] == c["input_size"]
    if m := re.search(r"(\d+) (?:shapes|digits)\b", task):
        assert int(m.group(1)) == len([l for l in c["labels"] if "background" not in l])
    checked = 0
    for pattern, key in METRICS:
        for found in re.findall(pattern, metrics)[:1]:
            assert close(found, c["metrics"][key]), f"{name}: {key} is {c['metrics'][key]}, README says {found}"
            checked += 1
    assert checked, f"{name}: no metric of the README row was recognised: {metrics!r}"
    if trained != "(shared)":
        wall = re.search(r"([\d.]+) min wall", trained)
        cpu = re.search(r"([\d.]+) (min|s) CPU", trained)
        assert wall and close(wall.group(1), c["train_seconds"] / 60), f"{name}: {c['train_seconds']} s wall"
        seconds = c["train_cpu_seconds"] / (60 if cpu.group(2) == "min" else 1)
        assert close(cpu.group(1), seconds), f"{name}: {c['train_cpu_seconds']} s CPU"


def test_the_real_digits_reference_and_sample_count():
    text = section("Bundled models")
    m = re.search(r"use (\d+) samples", text)
    real = re.search(r"real training digits score FID ([\d.]+) and IS ([\d.]+)", text)
    assert m and real
    for name in MODELS:
        c = card(name)
        if c["task"] in ("generate", "autoencode"):
            assert c["metrics"]["n"] == int(m.group(1))
            ref = c["metrics"]["real_train_digits"]
            assert close(real.group(1), ref["fid"]) and close(real.group(2), ref["is_mean"])


def subcommand_options() -> dict[str, set[str]]:
    from workbench import cli
    out = {}
    for action in cli._parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out[name] = {o for a in sub._actions for o in a.option_strings}
    return out


def test_the_command_synopsis_lists_the_programs_commands_and_their_options():
    from workbench import cli
    block = next(b for b in re.findall(r"^```\n(.*?)^```", section("Command line"), re.M | re.S)
                 if "workbench models" in b)
    entries: dict[str, str] = {}        # command ("" for the GUI) -> its synopsis, continued lines included
    current = ""
    for line in block.splitlines():
        synopsis = re.split(r"\s{2,}", line.strip())[0]     # the description follows two spaces
        if line.startswith("workbench"):
            words = synopsis.split()
            current = words[1] if len(words) > 1 and re.fullmatch(r"[a-z][\w-]*", words[1]) else ""
        entries[current] = entries.get(current, "") + synopsis + "\n"
    listed = {c for c in entries if c}
    assert listed == set(cli.COMMANDS)
    options = subcommand_options()
    for command in listed:
        for flag in re.findall(r"--[a-z][\w-]*", entries[command]):
            assert flag in options[command], f"README lists workbench {command} {flag}, which it does not take"
    app_source = (ROOT / "workbench" / "app.py").read_text()
    for flag in re.findall(r"--[a-z][\w-]*", entries.get("", "")):
        assert f'"{flag}"' in app_source, f"README lists workbench {flag}, which the GUI does not take"


def run_examples() -> list[str]:
    lines = [l.strip() for l in code_lines() if l.strip().startswith("workbench run ")]
    return [l for l in lines if not l.startswith("workbench run METHOD")]


def test_the_run_examples_name_real_methods_parameters_models_and_samples():
    import shlex
    from workbench.core.samples import sample_names
    from workbench.core.sources import catalogue
    from workbench.plugins import default_registry
    registry = default_registry()
    zoo = {r["id"] for r in catalogue() if r["id"].startswith("zoo:")}
    run_options = subcommand_options()["run"]
    examples = run_examples()
    assert len(examples) >= 5
    for line in examples:
        words = shlex.split(line)
        method = registry.get(words[2])
        params = {s.name for s in method.param_specs()}
        for flag, value in zip(words, words[1:]):
            if flag.startswith("--"):
                assert flag in run_options, line
            if flag == "--set":
                assert value.split("=", 1)[0] in params, f"{line}: {method.name} has no parameter {value!r}"
            if flag == "--model" and value.startswith("zoo:"):
                assert value in zoo, line
            if flag == "--image" and value.startswith("sample:"):
                assert value.split(":", 1)[1] in sample_names(), line


def test_the_api_example_calls_what_the_api_has():
    from workbench import api
    from workbench.core.samples import sample_names
    from workbench.plugins import default_registry
    block = section("Python API")
    for name in re.findall(r"api\.(\w+)\(", block):
        assert callable(getattr(api, name, None)), f"api.{name} does not exist"
    for method, kwargs in re.findall(r'api\.run\("([\w-]+)",[^)]*?((?:, \w+=[^,)]+)*)\)', block):
        params = {s.name for s in default_registry().get(method).param_specs()}
        assert set(re.findall(r"(\w+)=", kwargs)) <= params
    for model in re.findall(r'load_model\("(zoo:[\w-]+)"\)', block):
        assert model.split(":", 1)[1] in MODELS
    for sample in re.findall(r'"sample:([\w-]+)"', block):
        assert sample in sample_names()


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", "", text).replace("-", " ").replace("`", "").lower()).strip()


def test_the_attribution_methods_listed_are_the_registered_ones():
    from workbench.plugins import default_registry
    m = re.search(r"Methods: (.*?)\.\s", section("Attribution"), re.S)
    assert m, "the Attribution section lists its methods after 'Methods:'"
    listed = normalise(m.group(1))
    items = [i.strip() for i in re.split(r",| and ", listed) if i.strip()]
    methods = [x for x in default_registry().for_task(None) if x.kind == "attribution"]
    names = {x.name: {normalise(x.title), normalise(x.name)} for x in methods}
    for name, spellings in names.items():
        assert any(s in listed for s in spellings), f"the README's attribution methods leave out {name}"
    for item in items:
        assert any(s in item for spellings in names.values() for s in spellings), f"no method is called {item!r}"


def test_the_files_and_folders_the_readme_names_exist():
    paths = set(re.findall(r"`((?:workbench|bench|plugins|tests)/[\w./-]*)`", TEXT))
    paths = {p for p in paths if "NAME" not in p}
    assert len(paths) >= 5
    for p in paths:
        assert (ROOT / p).exists(), f"README names {p}, which is not there"
    shipped = re.search(r"ship in `plugins/`:(.*?)\.\s", TEXT, re.S)
    assert shipped
    for name in re.findall(r"`(\w+)`", shipped.group(1)):
        assert (ROOT / "plugins" / name).exists() or (ROOT / "plugins" / f"{name}.py").exists(), name


def test_the_detector_comparison_states_each_cards_map():
    text = section("Detection and segmentation")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\|\s*`zoo:([\w-]+)`\s*\|[^|]*\|\s*([\d.]+\s*\|\s*[\d.]+)\s*\|",
                                                        text, re.M)}
    detectors = {p.stem for p in CARDS.glob("*.json") if card(p.stem).get("task") == "detect"}
    assert set(rows) == detectors
    for name, cells in rows.items():
        at_50, at_50_95 = (c.strip() for c in cells.split("|"))
        metrics = card(name)["metrics"]
        assert close(at_50, metrics["map_50"]) and close(at_50_95, metrics["map_50_95"]), name
