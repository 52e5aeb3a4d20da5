"""The benchmark harness: rows, errors, CSV round trip, the skip rule."""
import math

import torch

from vaemi_nb import bench, mi, synthetic


def test_run_small(tmp_path):
    rows = bench.run([(300, 3), (600, 3)], cap=60, ref_factors=3, verbose=False)
    assert {r["method"] for r in rows} == {"pairwise", "mixture", "subsampled", "gaussian", "fast"}
    assert all(r["status"] == "ok" for r in rows)
    fast = [float(r["max_abs_error"]) for r in rows if r["method"] == "fast"]
    assert max(fast) < 1e-3
    path = tmp_path / "b.csv"
    bench.write_csv(rows, path)
    back = bench.read_csv(path)
    assert [(r["method"], r["N"], r["d"]) for r in back] == [(r["method"], r["N"], r["d"]) for r in rows]
    table = bench.markdown(rows)
    assert table.startswith("Machine:") and "| fast | 600 | 3 |" in table


def test_cap_skips_predicted_slow_cells():
    rows = bench.run([(200, 2), (4000, 2)], cap=1e-6, ref_factors=2, verbose=False)
    second = [r for r in rows if r["N"] == 4000 and r["method"] in ("pairwise", "mixture")]
    assert all(r["status"].startswith("skipped: predicted") and r["seconds"] == "" for r in second)


def test_pairwise_and_subsampled_estimate_the_same_quantity():
    mu, logvar = synthetic.vae_like(3000, 4, generator=torch.Generator().manual_seed(0))
    ref = mi.quadrature_mi(mu, logvar)
    pair = bench.pairwise_mi(mu, logvar, generator=torch.Generator().manual_seed(1))
    sub = mi.subsampled_mi(mu, logvar, generator=torch.Generator().manual_seed(2))
    assert (pair - ref).abs().max() < 0.05
    assert (sub.double() - ref).abs().max() < 0.05
    assert ref[-1].abs() < 0.01  # the collapsed quarter of the factors


def test_vae_like_has_collapsed_and_informative_factors():
    mu, logvar = synthetic.vae_like(2000, 8, generator=torch.Generator().manual_seed(0))
    est = mi.factor_mi(mu, logvar)
    assert (est[-2:] < 0.01).all() and (est[:6] > 1.0).all()
    gauss = mi.factor_mi(mu, logvar, method="gaussian")
    assert (gauss[:6] > est[:6]).all()  # bimodal aggregates: the closed form overestimates
    assert est.max() < math.log(2000)
