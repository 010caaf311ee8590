import numpy as np

from workbench import cli


def test_ganlab_command_writes_the_runs_curves_and_figure(tmp_path, capsys):
    npz, png = tmp_path / "lab.npz", tmp_path / "lab.png"
    code = cli.main(["ganlab", "--preset", "vanishing-gradients", "--steps", "40", "--npz", str(npz),
                     "--out", str(png)])
    assert code == 0, capsys.readouterr().err
    assert "step 40: modes" in capsys.readouterr().out
    data = np.load(npz)
    assert int(data["step"]) == 40 and len(data["series_g_grad"]) == 41          # steps 0..40
    np.testing.assert_allclose(data["series_g_grad"][1:], data["g_grad"])
    assert np.isfinite(data["series_js"][[0, -1]]).all() and '"loss": "minimax"' in str(data["params"])
    assert float(data["same_d_nonsaturating"]) > float(data["same_d_minimax"])
    assert png.stat().st_size > 1000


def test_ganlab_command_refuses_bad_input_with_one_line(tmp_path, capsys):
    assert cli.main(["ganlab", "--preset", "nope"]) == cli.FAILED
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert cli.main(["ganlab", "--steps", "5", "--npz", str(tmp_path / "x.txt")]) == cli.FAILED
    assert "expected one of .npz" in capsys.readouterr().err and not (tmp_path / "x.txt").exists()
    assert cli.main(["ganlab", "--list"]) == 0 and "wgan-clip" in capsys.readouterr().out
