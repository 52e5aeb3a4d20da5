"""Factor selection, masking, the classifier probe, traversals and recorded results."""

import pytest
import torch

from vaemi_nb import VAE, ablation, paper, traversal


def test_select_orders():
    scores = torch.tensor([0.1, 3.0, 0.0, 2.0, 1.0])
    assert ablation.select(scores, 2).tolist() == [1, 3]
    assert ablation.select(scores, 2, "bottom").tolist() == [0, 2]
    assert ablation.select(scores, 0).numel() == 0
    assert ablation.select(scores, 5).tolist() == [0, 1, 2, 3, 4]
    r1, r2 = ablation.select(scores, 3, "random", seed=1), ablation.select(scores, 3, "random", seed=1)
    assert torch.equal(r1, r2) and len(set(r1.tolist())) == 3
    with pytest.raises(ValueError, match="k must be between 0 and d = 5"):
        ablation.select(scores, 6)
    with pytest.raises(ValueError, match="order must be one of"):
        ablation.select(scores, 1, "middle")


def test_keep_only_zeroes_the_rest():
    z = torch.arange(12.0).view(3, 4) + 1
    out = ablation.keep_only(z, torch.tensor([1, 3]))
    assert torch.equal(out[:, [1, 3]], z[:, [1, 3]])
    assert (out[:, [0, 2]] == 0).all()
    assert (ablation.keep_only(z, torch.tensor([], dtype=torch.long)) == 0).all()


def test_probe_learns_and_masking_removes_information():
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (600,), generator=g)
    feats = torch.randn(600, 6, generator=g) * 0.3
    feats[:, 2] += labels.float() * 2  # only factor 2 carries the label
    probe = ablation.fit_probe(feats[:400], labels[:400], epochs=30, seed=0)
    assert ablation.accuracy(probe, feats[400:], labels[400:]) > 0.95
    assert ablation.accuracy(probe, feats[400:], labels[400:], keep=torch.tensor([2])) > 0.9
    assert ablation.accuracy(probe, feats[400:], labels[400:], keep=torch.tensor([0, 1, 3])) < 0.6
    with pytest.raises(ValueError, match="400 rows but labels 300"):
        ablation.fit_probe(feats[:400], labels[:300])


def test_traverse_shapes_and_unused_factor():
    torch.manual_seed(0)
    model = VAE((1, 28, 28), 4).eval()
    with torch.no_grad():
        model.decoder[0].weight[:, 3] = 0  # the decoder ignores factor 3
    grid = traversal.traverse(model, torch.zeros(4), [0, 3], torch.linspace(-3, 3, 5))
    assert grid.shape == (2, 5, 1, 28, 28)
    change = traversal.image_change(grid)
    assert change[1] < 1e-6 and change[0] > 1e-3


def test_widget_updates_image():
    pytest.importorskip("ipywidgets")
    model = VAE((1, 28, 28), 3).eval()
    box = traversal.traversal_widget(model, torch.zeros(3), [0, 2])
    sliders = box.children[0].children
    assert [s.description for s in sliders] == ["z[0]", "z[2]"]
    sliders[0].value = 2.0  # triggers a redraw without error


def test_paper_reference_numbers_are_consistent():
    acc = paper.MNIST_TOPK_ACCURACY
    ks = sorted(acc)
    assert all(acc[a] <= acc[b] for a, b in zip(ks, ks[1:]))  # more factors, better accuracy
    assert paper.MNIST_SETTINGS["latent_dim"] == max(acc)


def test_recon_nll_and_posterior_samples():
    torch.manual_seed(0)
    model = VAE((6,), 3, arch="mlp", likelihood="gaussian").eval()
    x = torch.randn(40, 6)
    full = ablation.recon_nll(model, x)
    assert full.shape == (40,) and torch.isfinite(full).all()
    assert torch.equal(full, ablation.recon_nll(model, x, torch.arange(3)))  # keeping all = no mask
    with torch.no_grad():
        model.decoder[0].weight[:, 2] = 0  # factor 2 unused by the decoder
    assert torch.allclose(ablation.recon_nll(model, x, torch.tensor([0, 1])), ablation.recon_nll(model, x))
    mu, logvar = torch.zeros(5, 2), torch.full((5, 2), -1.0)
    z, y = ablation.sample_posterior(mu, logvar, torch.arange(5), 4, seed=0)
    assert z.shape == (20, 2) and y.tolist() == list(range(5)) * 4


def test_mnist_splits_quick_sizes():
    from vaemi_nb import experiments, get_profile

    s = experiments.mnist_splits(get_profile("quick"))
    assert [len(s[k].labels) for k in ("train", "val", "test")] == [4000, 500, 500]


def test_accuracy_ci_is_the_wilson_interval():
    lo, hi = ablation.accuracy_ci(0.9, 500)
    assert lo < 0.9 < hi and hi - lo == pytest.approx(2 * 1.96 * (0.9 * 0.1 / 500) ** 0.5, rel=0.1)
    assert ablation.accuracy_ci(1.0, 50)[1] == 1.0
