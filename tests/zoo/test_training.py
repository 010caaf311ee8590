import inspect
import json
import os
import subprocess
import sys

import pytest

from workbench import cli
from workbench.zoo import catalogue, training


def workbench(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          timeout=300, env=env)


def test_the_table_trains_every_bundled_model_and_nothing_else():
    assert sorted(training.names()) == sorted(catalogue.names())
    for name in catalogue.names():
        assert training.get(f"zoo:{name}") is training.TRAINERS[name]


def test_every_trainer_takes_its_options_and_the_cli_offers_them(tmp_path):
    for name, trainer in training.TRAINERS.items():
        inspect.signature(trainer.run).bind(tmp_path, **{o: None for o in trainer.options})
        assert set(trainer.options) <= set(cli.TRAIN_OPTIONS), name


def test_train_runs_the_named_trainer_with_the_options_given(monkeypatch, tmp_path, capsys):
    calls = []

    def fake(out_dir, **options):
        calls.append((out_dir, options))
        return {"metrics": {"test_accuracy": 0.5}}

    monkeypatch.setitem(training.TRAINERS, "digits-cnn", training.Trainer(fake, ("epochs",)))
    monkeypatch.setattr(catalogue, "MODELS_DIR", tmp_path / "bundled")
    assert cli.main(["train", "digits-cnn", "--epochs", "3", "--out-dir", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"test_accuracy": 0.5}
    assert cli.main(["train", "zoo:digits-cnn"]) == 0
    assert calls == [(tmp_path, {"epochs": 3}), (tmp_path / "bundled", {})]


def test_an_option_the_trainer_does_not_take_is_refused_by_name(capsys):
    assert cli.main(["train", "digits-cnn", "--minutes", "5"]) == 2
    err = capsys.readouterr().err
    assert "digits-cnn takes no option 'minutes'" in err and "epochs" in err
    with pytest.raises(ValueError, match="shapes-fcos takes no option 'steps'"):
        training.train("shapes-fcos", steps=3)


def test_an_unknown_model_is_a_message_and_a_failing_exit_code():
    out = workbench("train", "NO-SUCH")
    assert out.returncode != 0
    assert "no bundled model 'NO-SUCH'" in out.stderr and "digits-cnn" in out.stderr
    assert "Traceback" not in out.stderr and not out.stdout


def test_workbench_train_writes_weights_and_card(tmp_path):
    out = workbench("train", "digits-cnn", "--epochs", "1", "--out-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    card = json.loads((tmp_path / "digits-cnn.json").read_text())
    assert card["epochs"] == 1 and card["train_command"] == "workbench train digits-cnn"
    assert json.loads(out.stdout) == card["metrics"] and card["metrics"]["test_accuracy"] > 0.5
    assert (tmp_path / "digits-cnn.safetensors").stat().st_size > 0
