"""factor_report: every encoder and data form, the columns against direct computations, errors, the CLI."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.distributions import Independent, Laplace, MultivariateNormal, Normal
from torch.utils.data import DataLoader, Dataset, TensorDataset

from vaemi_nb import VAE, mi, report
from vaemi_nb.report import (
    COLUMNS,
    FactorStats,
    InputError,
    encode,
    factor_report,
    load_posteriors,
    main,
    plot_report,
    posterior_report,
    summary,
)

ROOT = Path(__file__).resolve().parents[2]
N, D = 300, 4
SCALE = torch.tensor([2.0, 1.0, 0.3, 0.0])  # factor 3 is collapsed: mu = 0
LOGVAR = torch.tensor([-3.0, -1.0, -0.5, 0.0])


@pytest.fixture(scope="module")
def x():
    return torch.randn(N, D, generator=torch.Generator().manual_seed(0))


def known(x):
    """The posteriors the test encoders give: mu = SCALE * x + 0.5, logvar = LOGVAR."""
    return SCALE * x + 0.5, LOGVAR.expand(x.shape[0], D).clone()


def as_tuple(x):
    return known(x)


def as_normal(x):
    mu, logvar = known(x)
    return Normal(mu, (0.5 * logvar).exp())


def as_independent(x):
    return Independent(as_normal(x), 1)


class PythaeLike(nn.Module):
    """The attributes factor_report reads from a pythae model: ``model_config`` and an ``encoder``
    whose output has ``embedding`` and ``log_covariance`` (pythae's ModelOutput is also a dict)."""

    def __init__(self, mapping=False):
        super().__init__()
        self.model_config = {"latent_dim": D}
        self.scale = nn.Parameter(SCALE.clone())
        self.mapping = mapping

    def encoder(self, x):
        mu, logvar = self.scale * x + 0.5, LOGVAR.expand(x.shape[0], D)
        if self.mapping:
            return {"embedding": mu, "log_covariance": logvar}
        return type("ModelOutput", (), {"embedding": mu, "log_covariance": logvar})()

    def forward(self, inputs):  # pythae models take a dict; the report must not call this
        raise AssertionError("factor_report called the pythae model itself")


def direct(mu, logvar, threshold=0.5):
    """The report's columns computed directly from (N, d) posteriors."""
    mu64, lv64 = mu.double(), logvar.double()
    m = mi.factor_mi(mu, logvar).double()
    return pd.DataFrame({"mi": m.numpy(), "kl": mi.kl_per_dim(mu64, lv64).numpy(),
                         "agg_var": ((lv64.exp() + mu64.pow(2)).mean(0) - mu64.mean(0).pow(2)).numpy(),
                         "mean_var": mu64.var(0).numpy(), "influential": (m > threshold).numpy()})


def assert_matches(report, mu, logvar):
    want = direct(mu, logvar, report.attrs["threshold"])
    assert list(report.columns) == list(COLUMNS)
    assert list(report.index) == list(range(mu.shape[1])) and report.index.name == "factor"
    for col in ("mi", "kl", "agg_var", "mean_var"):
        np.testing.assert_allclose(report[col].to_numpy(), want[col].to_numpy(), rtol=1e-5, atol=1e-6, err_msg=col)
    assert (report["influential"] == want["influential"]).all()
    assert report.attrs["N"] == mu.shape[0] and report.attrs["d"] == mu.shape[1]
    assert "factor_mi" in report.attrs["estimator"] and "auto" in report.attrs["estimator"]


@pytest.mark.parametrize("encoder", [as_tuple, as_normal, as_independent, PythaeLike(), PythaeLike(mapping=True)],
                         ids=["tuple", "Normal", "Independent(Normal)", "pythae-like", "pythae-like mapping"])
def test_encoder_forms_give_the_direct_columns(encoder, x):
    report = factor_report(encoder, x, batch_size=64)
    assert_matches(report, *known(x))


def test_known_columns_by_hand(x):
    """Spot values: a collapsed N(0.5, 1) factor has Var mu = 0, KL = 0.125, MI ~ 0."""
    report = factor_report(as_tuple, x)
    assert report.loc[3, "mean_var"] == 0 and report.loc[3, "agg_var"] == pytest.approx(1.0)
    assert report.loc[3, "kl"] == pytest.approx(0.5 * 0.5**2)  # KL(N(0.5, 1) || N(0, 1))
    assert abs(report.loc[3, "mi"]) < 0.01 and not report.loc[3, "influential"]
    assert report.loc[0, "influential"] and report.loc[0, "mi"] > 1.5  # Var mu ~ 4, sigma^2 = e^-3
    assert (report["kl"] >= report["mi"] - 0.01).all()  # KL per dimension = MI + KL(q(z_j) || N(0, 1))


def test_vaemi_vae_uses_encode_and_restores_training_mode(x):
    torch.manual_seed(0)
    model = VAE((D,), 3, arch="mlp", hidden=(16,))
    model.train()
    report = factor_report(model, x, batch_size=50)
    assert model.training
    mu, logvar = mi.encode_dataset(model, x)
    assert_matches(report, mu, logvar)


def test_real_pythae_model():
    pythae_models = pytest.importorskip("pythae.models")
    torch.manual_seed(0)
    model = pythae_models.VAE(pythae_models.VAEConfig(input_dim=(1, 28, 28), latent_dim=3))
    images = torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    report = factor_report(model, images, batch_size=16)
    with torch.no_grad():
        out = model.encoder(images)
    assert_matches(report, out.embedding, out.log_covariance)


class PlainDataset(Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


class DictDataset(PlainDataset):  # like pythae's datasets
    def __getitem__(self, i):
        return {"data": self.x[i], "labels": 0}


@pytest.mark.parametrize("form", ["tensor", "TensorDataset", "Dataset", "dict Dataset", "DataLoader of tuples",
                                  "DataLoader of tensors"])
def test_data_forms(form, x):
    labels = torch.arange(N)
    data = {"tensor": x, "TensorDataset": TensorDataset(x, labels), "Dataset": PlainDataset(x),
            "dict Dataset": DictDataset(x), "DataLoader of tuples": DataLoader(TensorDataset(x, labels), batch_size=33),
            "DataLoader of tensors": DataLoader(PlainDataset(x), batch_size=50)}[form]
    assert_matches(factor_report(as_tuple, data, batch_size=70), *known(x))


def test_batches_go_to_the_encoder_in_batch_size(x):
    sizes = []

    def spy(xb):
        sizes.append(xb.shape[0])
        return known(xb)

    factor_report(spy, x, batch_size=128, device="cpu")
    assert sizes == [128, 128, N - 256]


def test_batch_size_does_not_change_the_report(x):
    a, b = factor_report(as_tuple, x, batch_size=7), factor_report(as_tuple, x, batch_size=N)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_stats_merge_in_any_order(x):
    mu, logvar = known(x)
    whole = FactorStats(D).update(mu, logvar).columns()
    parts = [FactorStats(D).update(mu[i:j], logvar[i:j]) for i, j in ((200, 300), (0, 1), (1, 200))]
    merged = parts[0].merge(parts[1]).merge(parts[2]).merge(FactorStats(D)).columns()
    for k in whole:
        torch.testing.assert_close(merged[k], whole[k], rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="merge statistics of 3 factors into 4"):
        FactorStats(D).merge(FactorStats(3))


def test_threshold_and_posterior_report(x):
    mu, logvar = known(x)
    report = posterior_report(mu, logvar, threshold=0.05)
    assert report.attrs["threshold"] == 0.05
    assert (report["influential"] == (report["mi"] > 0.05)).all()
    assert_matches(report, mu, logvar)
    line = summary(report)
    assert f"of {D} factors influential" in line and "active units" in line


def test_encode_returns_all_posteriors(x):
    mu, logvar = encode(as_normal, DataLoader(TensorDataset(x), batch_size=64))
    want_mu, want_lv = known(x)
    torch.testing.assert_close(mu, want_mu)
    torch.testing.assert_close(logvar, want_lv)


@pytest.mark.parametrize("encoder, match", [
    (lambda x: Laplace(x, torch.ones_like(x)), "non-Gaussian posterior: Laplace"),
    (lambda x: Independent(Laplace(x, torch.ones_like(x)), 1), r"non-Gaussian posterior: Independent\(Laplace\)"),
    (lambda x: MultivariateNormal(x, torch.eye(D)), "non-Gaussian posterior: MultivariateNormal"),
    (lambda x: x, "returned a Tensor"),
    (lambda x: (x, x, x), "tuple of 3 items"),
    (lambda x: (x.numpy(), x), "mu is a ndarray"),
    (lambda x: {"embedding": x}, "no `log_covariance`"),
], ids=["Laplace", "Independent(Laplace)", "MultivariateNormal", "tensor", "3-tuple", "numpy", "deterministic"])
def test_wrong_encoder_outputs_are_named(encoder, match, x):
    with pytest.raises(TypeError, match=match):
        factor_report(encoder, x)


@pytest.mark.parametrize("encoder, match", [
    (lambda x: (x, x[:, :2]), r"mu has shape \(\d+, 4\) but logvar has \(\d+, 2\)"),
    (lambda x: (x[:, None], x[:, None]), r"must be \(batch, d\)"),
    (lambda x: (x[:-1], x[:-1]), "posteriors for"),
    (lambda x: (x[:, : 1 + (x.shape[0] < 100)],) * 2, "factors, earlier batches had 1"),
], ids=["mismatched", "3-D", "wrong batch", "changing d"])
def test_wrong_shapes_are_named(encoder, match, x):
    with pytest.raises(ValueError, match=match):
        factor_report(encoder, x, batch_size=128)


def test_empty_data_and_bad_data_are_named(x):
    with pytest.raises(ValueError, match="no batches"):
        factor_report(as_tuple, DataLoader(TensorDataset(x[:0]), batch_size=4))
    with pytest.raises(ValueError, match="no batches"):
        factor_report(as_tuple, x[:0])
    with pytest.raises(TypeError, match="data must be a tensor, a Dataset or a DataLoader, got int"):
        factor_report(as_tuple, 3)
    with pytest.raises(TypeError, match="a data batch is a str"):
        factor_report(as_tuple, DataLoader(["a", "b"], batch_size=2))
    with pytest.raises(TypeError, match="encoder must be"):
        factor_report(42, x)
    with pytest.raises(ValueError, match="NaN"):
        factor_report(lambda xb: (xb * float("nan"), xb), x)
    for streaming in (False, True):  # one non-finite value is named by batch, row and factor
        def one_inf(xb):
            mu = xb.clone()
            mu[1, 0] = float("inf")
            return mu, torch.zeros_like(xb)

        with pytest.raises(ValueError, match=r"batch 0\): mu contains Inf \(first at row 1 of the batch, factor 0\)"):
            factor_report(one_inf, x, streaming=streaming)


def test_plot_report(x):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = factor_report(as_tuple, x)
    fig = plot_report(report)
    top, bottom = fig.axes[:2]
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["0", "1", "2", "3"]  # sorted by MI
    assert len(top.patches) == 2 * D and fig.get_size_inches()[0] <= 7.5  # ~700 px at 100 dpi
    fig2 = plot_report(report, top=2, sort=False)
    assert [t.get_text() for t in fig2.axes[1].get_xticklabels()] == ["0", "1"]
    plt.close("all")


# ----------------------------------------------------------------------------- command line

@pytest.fixture(scope="module")
def files(tmp_path_factory, x):
    d = tmp_path_factory.mktemp("posteriors")
    mu, logvar = known(x)
    np.savez(d / "post.npz", mu=mu.numpy(), logvar=logvar.numpy())
    np.savez(d / "named.npz", loc=mu.numpy(), log_var=logvar.numpy())
    np.save(d / "mu.npy", mu.numpy())
    np.save(d / "logvar.npy", logvar.numpy())
    torch.save({"mu": mu, "logvar": logvar}, d / "post.pt")
    torch.save((mu, logvar), d / "tuple.pt")
    (d / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    (d / "table.csv").write_text("mu,logvar\n0,0\n")
    (d / "corrupt.pt").write_bytes(b"\x80\x02 not a torch file")
    bad = mu.numpy().copy()
    bad[7, 2] = np.nan
    np.savez(d / "nan.npz", mu=bad, logvar=logvar.numpy())
    np.savez(d / "shapes.npz", mu=mu.numpy(), logvar=logvar.numpy()[:, :2])
    np.savez(d / "flat.npz", mu=mu.numpy()[:, 0], logvar=logvar.numpy()[:, 0])
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return d


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "vaemi_nb.report", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_npz_writes_table_csv_and_png(files, x):
    proc = _cli("post.npz", "--csv", "out.csv", "--plot", "out.png", cwd=files)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert f"of {D} factors influential" in proc.stdout and "agg_var" in proc.stdout
    table = pd.read_csv(files / "out.csv", index_col="factor")
    assert list(table.columns) == list(COLUMNS)
    want = direct(*known(x))
    for col in ("mi", "kl", "agg_var", "mean_var"):
        np.testing.assert_allclose(table[col], want[col], rtol=1e-5, atol=1e-6, err_msg=col)
    assert (files / "out.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args", [["mu.npy", "logvar.npy"], ["post.pt", "--threshold", "0.05"], ["tuple.pt"]],
                         ids=["npy pair", "pt dict", "pt tuple"])
def test_cli_reads_npy_pairs_and_pt(args, files, x, capsys, monkeypatch):
    monkeypatch.chdir(files)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"of {D} factors influential" in out and "agg_var" in out
    report = posterior_report(*load_posteriors([a for a in args if a.endswith((".npy", ".pt"))]))
    assert_matches(report, *known(x))


@pytest.mark.parametrize("args, needle", [
    (["missing.npz"], "missing.npz: no such file"),
    (["corrupt.npz"], "corrupt.npz: cannot be read as .npz"),
    (["post.npz", "--mu", "means"], "has no array 'means' (it has: mu, logvar); name it with --mu"),
], ids=["missing", "corrupt", "missing array"])
def test_cli_errors_are_one_line_without_traceback(args, needle, files):
    proc = _cli(*args, cwd=files)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vaemi_nb.report: error:") and needle in lines[0], proc.stderr


@pytest.mark.parametrize("args, needle", [
    (["nan.npz"], "array 'mu' contains NaN (first at row 7, factor 2)"),
    (["corrupt.pt"], "corrupt.pt: cannot be read as a .pt file"),
    (["post.pt", "--logvar", "lv"], "has no entry 'lv' (it has: mu, logvar); name it with --logvar"),
    (["shapes.npz"], "has shape (300, 4) but"),
    (["flat.npz"], "has shape (300,); expected (N, d)"),
    (["mu.npy"], "a .npy file holds one array; give two"),
    (["objects.npy", "logvar.npy"], "objects.npy: cannot be read as .npy"),
    (["mu.npy", "logvar.npy", "--mu", "m"], "a .npy pair is given in order"),
    (["post.csv"], "no such file"),
    (["post.npz", "table.csv"], "give FILE.npz, FILE.pt or MU.npy LOGVAR.npy"),
    (["table.csv"], "give FILE.npz, FILE.pt or MU.npy LOGVAR.npy"),
], ids=["NaN", "corrupt pt", "missing pt entry", "shapes", "1-D", "one npy", "object npy", "npy names", "csv",
        "two kinds", "unknown kind"])
def test_cli_input_errors_in_process(args, needle, files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1, err


def test_cli_named_npz_and_method(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    assert main(["named.npz", "--mu", "loc", "--logvar", "log_var", "--method", "gaussian"]) == 0
    assert "method='gaussian'" in capsys.readouterr().out
    mu, logvar = load_posteriors(["post.npz"])
    assert mu.shape == logvar.shape == (N, D)
    with pytest.raises(InputError, match="no such file"):
        load_posteriors(["nope.pt"])


def test_cli_unwritable_output_is_one_line(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    assert main(["post.npz", "--csv", "no/such/folder/out.csv"]) == 1
    err = capsys.readouterr().err
    assert "no/such/folder/out.csv" in err and len(err.strip().splitlines()) == 1


def test_streaming_report_matches_the_one_in_memory():
    """streaming=True keeps no posteriors; its MI is the fast estimator's on the same data."""
    g = torch.Generator().manual_seed(21)
    x = torch.randn(3000, 6, generator=g)
    enc = lambda xb: (xb[:, :3] * torch.tensor([0.0, 1.0, 3.0]), torch.full((len(xb), 3), -1.0))  # noqa: E731
    whole = report.factor_report(enc, x, batch_size=500)
    streamed = report.factor_report(enc, x, batch_size=500, streaming=True)
    assert (whole["mi"] - streamed["mi"]).abs().max() < 1e-6  # float32 rounding of the in-memory value
    for col in ("kl", "agg_var", "mean_var"):
        assert (whole[col] - streamed[col]).abs().max() < 1e-9
    assert streamed.attrs["N"] == 3000 and "streamed" in streamed.attrs["estimator"]


def test_streaming_refuses_factors_outside_the_regime():
    x = torch.randn(400, 1, generator=torch.Generator().manual_seed(22))
    enc = lambda xb: (20 * xb, torch.full_like(xb, 2 * math.log(1e-7)))  # noqa: E731
    with pytest.raises(ValueError, match="outside the fast estimator's regime"):
        report.factor_report(enc, x, streaming=True)
