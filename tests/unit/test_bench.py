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
    table = bench.table(rows)
    assert table.attrs["machine"] == rows[0]["machine"] and len(table) == len(rows)
    fast600 = table[(table["method"] == "fast") & (table["N"] == 600)]
    assert len(fast600) == 1 and fast600["max abs error [nats]"].iloc[0] == float(fast600_row(rows)["max_abs_error"])


def fast600_row(rows):
    return next(r for r in rows if r["method"] == "fast" and r["N"] == 600)


def test_recorded_benchmarks_come_through_records(tmp_path):
    from vaemi_nb import results

    (tmp_path / "_toc.yml").write_text("root: x\n")
    (tmp_path / "results").mkdir()
    rows = bench.run([(200, 2)], cap=60, ref_factors=2, verbose=False)
    bench.write_csv(rows, tmp_path / "benchmarks" / "mi_bench_cuda.csv")
    found = bench.recorded(results.Records(tmp_path))
    assert list(found) == ["mi_bench_cuda.csv"] and len(found["mi_bench_cuda.csv"]) == len(rows)
    assert bench.recorded(results.Records(None, repository=None)) == {}


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


def test_streaming_benchmark_row():
    row = bench.streaming_run(20_000, d=8, batch_size=5_000)
    assert row["N"] == 20_000 and float(row["seconds"]) > 0 and float(row["peak_extra_MiB"]) >= 0
    assert 0 < row["influential"] < 8  # a quarter of the factors are collapsed


def test_mig_run_times_the_three_estimators(tmp_path, monkeypatch):
    from vaemi_nb import results

    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    rows = bench.mig_run([300], cap=60, n_train=64, epochs=1, verbose=False)
    assert [r["estimator"] for r in rows] == list(bench._mig_estimators(0))
    assert all(r["status"] == "ok" and 0 <= float(r["seconds"]) and -0.1 < float(r["mig"]) < 1.1 for r in rows)
    (tmp_path / "_toc.yml").write_text("root: x\n")
    (tmp_path / "results").mkdir()
    bench.write_csv(rows, tmp_path / "benchmarks" / "mig_bench_cpu.csv", bench.MIG_COLUMNS)
    found = bench.recorded_mig(results.Records(tmp_path))
    assert list(found) == ["mig_bench_cpu.csv"] and found["mig_bench_cpu.csv"][0]["N"] == 300
