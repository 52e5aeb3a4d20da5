"""VAE shapes, training, determinism and checkpoints."""
import pytest
import torch

from vaemi_nb import VAE, mi, train
from vaemi_nb.data import load_mnist


@pytest.fixture(scope="module")
def mnist_small():
    return load_mnist("train").images[:600]


@pytest.mark.parametrize(
    "shape, arch", [((20,), "mlp"), ((1, 28, 28), "conv"), ((3, 64, 64), "conv")]
)
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_shapes(shape, arch, likelihood):
    torch.manual_seed(0)
    model = VAE(shape, 7, arch=arch, likelihood=likelihood, beta=2.0)
    x = torch.rand(5, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (5, 7)
    assert model.latent_dim == 7
    assert model.decode(mu).shape == x.shape
    out = model(x)
    assert out.kl.shape == (7,) and out.loss.dim() == 0
    assert torch.allclose(out.loss, out.recon + 2.0 * out.kl.sum())


def test_kl_matches_mi_module():
    model = VAE((10,), 4, arch="mlp")
    x = torch.rand(32, 10)
    mu, logvar = model.encode(x)
    assert torch.allclose(model(x).kl, mi.kl_per_dim(mu, logvar), atol=1e-6)


def test_gaussian_likelihood_has_learnable_scalar_sigma():
    model = VAE((1, 28, 28), 3, likelihood="gaussian")
    assert model.log_sigma.shape == () and model.log_sigma.item() == 0.0  # sigma = 1 at start
    assert model.log_sigma.requires_grad


def test_bad_config():
    with pytest.raises(ValueError, match="28x28 and 64x64"):
        VAE((1, 32, 32), 3)
    with pytest.raises(ValueError, match="likelihood"):
        VAE((4,), 3, arch="mlp", likelihood="poisson")


def _conv_model():
    torch.manual_seed(0)
    return VAE((1, 28, 28), 8, arch="conv", likelihood="bernoulli")


def test_training_on_mnist_lowers_the_loss(mnist_small):
    model = _conv_model()
    with torch.no_grad():
        torch.manual_seed(1)
        before = model(mnist_small).loss.item()
    hist = train.fit(model, mnist_small, epochs=3, batch_size=50, lr=1e-3, seed=0, device="cpu",
                     progress=False)
    with torch.no_grad():
        torch.manual_seed(1)
        after = model(mnist_small).loss.item()
    assert after < 0.6 * before, (before, after)
    assert hist["loss"][-1] < hist["loss"][0]
    assert len(hist["kl"]) == 3 and len(hist["kl"][0]) == 8


def test_same_seed_same_history(mnist_small):
    runs = [train.fit(_conv_model(), mnist_small[:200], epochs=2, batch_size=50, lr=1e-3, seed=3,
                      device="cpu", progress=False) for _ in range(2)]
    assert runs[0] == runs[1]
    other = train.fit(_conv_model(), mnist_small[:200], epochs=2, batch_size=50, lr=1e-3, seed=4,
                      device="cpu", progress=False)
    assert other != runs[0]


def test_fit_rejects_wrong_shape_and_nan():
    model = VAE((4,), 2, arch="mlp")
    with pytest.raises(ValueError, match=r"example shape \(5,\)"):
        train.fit(model, torch.rand(10, 5), epochs=1, batch_size=5, lr=1e-3, seed=0, progress=False)
    bad = torch.rand(10, 4)
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        train.fit(model, bad, epochs=1, batch_size=5, lr=1e-3, seed=0, progress=False)


def test_pick_device():
    assert train.pick_device("cpu") == torch.device("cpu")
    expect = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expect = "mps"
    assert train.pick_device().type == expect


def test_checkpoint_roundtrip(tmp_path, mnist_small):
    model = VAE((1, 28, 28), 5, likelihood="gaussian", beta=6.0)
    train.fit(model, mnist_small[:100], epochs=1, batch_size=50, lr=1e-3, seed=0, device="cpu",
              progress=False)
    path = tmp_path / "vae.pt"
    train.save(model, path)
    again = train.load(path)
    assert again.config == model.config
    mu0, lv0 = mi.encode_dataset(model, mnist_small, batch_size=64)
    mu1, lv1 = mi.encode_dataset(again, mnist_small, batch_size=64)
    assert torch.equal(mu0, mu1) and torch.equal(lv0, lv1)
    assert again.log_sigma.item() == model.log_sigma.item()


def test_corrupt_checkpoint(tmp_path):
    model = VAE((4,), 2, arch="mlp")
    path = tmp_path / "vae.pt"
    train.save(model, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=f"checkpoint {path} is corrupt"):
        train.load(path)
    junk = tmp_path / "junk.pt"
    torch.save({"weights": torch.zeros(2)}, junk)
    with pytest.raises(ValueError, match="not a vaemi_nb checkpoint"):
        train.load(junk)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train.load(tmp_path / "missing.pt")


def test_encode_dataset_accepts_datasets(mnist_small):
    model = VAE((1, 28, 28), 3).eval()
    ds = torch.utils.data.TensorDataset(mnist_small[:70], torch.zeros(70))
    mu_a, _ = mi.encode_dataset(model, ds, batch_size=32)
    mu_b, _ = mi.encode_dataset(model, mnist_small[:70], batch_size=70)
    assert mu_a.shape == (70, 3)
    assert torch.allclose(mu_a, mu_b, atol=1e-5)


def test_track_mi_records_each_epoch(mnist_small):
    model = _conv_model()
    hist = train.fit(model, mnist_small[:300], epochs=2, batch_size=50, lr=1e-3, seed=0,
                     device="cpu", progress=False, track_mi=200)
    assert len(hist["mi"]) == 2 and len(hist["mi"][0]) == 8
    mu, logvar = mi.encode_dataset(model, mnist_small[:200])
    assert torch.allclose(torch.tensor(hist["mi"][-1]), mi.factor_mi(mu, logvar), atol=1e-5)
    untracked = train.fit(_conv_model(), mnist_small[:300], epochs=2, batch_size=50, lr=1e-3,
                          seed=0, device="cpu", progress=False)
    assert "mi" not in untracked
    assert untracked["loss"] == hist["loss"]  # tracking does not perturb training


def test_fit_cached_trains_once(tmp_path, monkeypatch, mnist_small, capsys):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    kw = dict(epochs=1, batch_size=50, lr=1e-3, seed=0, device="cpu", progress=False)
    a = _conv_model()
    hist_a = train.fit_cached(a, mnist_small[:200], name="demo", **kw)
    assert "trained, and cached as" in capsys.readouterr().out
    b = _conv_model()
    hist_b = train.fit_cached(b, mnist_small[:200], name="demo", **kw)
    assert "loaded the trained model from the checkpoint cache" in capsys.readouterr().out
    assert hist_a == hist_b
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = _conv_model()
    train.fit_cached(c, mnist_small[:200], name="demo", **{**kw, "seed": 1})  # new key: trains
    assert "trained, and cached as" in capsys.readouterr().out
    assert len(list((tmp_path / "checkpoints").glob("demo-*.pt"))) == 2


def _forward_multiply_adds(model: VAE, x: torch.Tensor) -> int:
    """Multiply-adds of one forward pass of ``x`` (one image), counted layer by layer."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, torch.nn.Linear):
            total += module.in_features * module.out_features
        elif isinstance(module, torch.nn.Conv2d):  # each output value: in_channels * k * k
            total += output[0].numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.ConvTranspose2d):  # each input value: out_channels * k * k
            total += inputs[0][0].numel() * module.out_channels * module.kernel_size[0] * module.kernel_size[1]

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total


def test_dsprites_conv_net_costs_about_four_mlps_per_image():
    """The dSprites chapter's "Models" section: the common conv beta-VAE needs about 16 million
    multiply-adds per image and forward pass, 3.6 times the 4.5 million of the quick profile's MLP."""
    from vaemi_nb.experiments import DSPRITES_SETTINGS

    conv = _forward_multiply_adds(VAE((1, 64, 64), 10), torch.zeros(1, 1, 64, 64))
    mlp = _forward_multiply_adds(VAE((64 * 64,), 10, arch="mlp", hidden=DSPRITES_SETTINGS["mlp_hidden"]),
                                 torch.zeros(1, 64 * 64))
    assert round(conv / 1e6) == 16 and round(mlp / 1e6, 1) == 4.5, (conv, mlp)
    assert round(conv / mlp, 1) == 3.6, conv / mlp
