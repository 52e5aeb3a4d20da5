"""Which data each experiment chapter reads, by profile and environment."""
from pathlib import Path

import pytest

from vaemi_nb import experiments
from vaemi_nb.profiles import get_profile


def test_celeba_root_follows_argument_env_and_profile(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    monkeypatch.setenv("VAEMI_CELEBA", str(tmp_path / "mine"))
    assert experiments.celeba_root(get_profile("quick")) == tmp_path / "mine"
    assert experiments.celeba_root(get_profile("quick"), tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("VAEMI_CELEBA")
    assert experiments.celeba_root(get_profile("full")) == tmp_path / "celeba"  # real data, no stand-in


def test_deap_root_full_profile_never_falls_back_to_the_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    monkeypatch.delenv("VAEMI_DEAP", raising=False)
    assert experiments.deap_root(get_profile("full")) == tmp_path / "deap"
    with pytest.raises(FileNotFoundError, match="DEAP"):
        experiments.deap_features(get_profile("full"))


def test_quick_profile_writes_and_labels_the_celeba_stand_in(monkeypatch, tmp_path):
    monkeypatch.setenv("VAEMI_DATA", str(tmp_path))
    monkeypatch.delenv("VAEMI_CELEBA", raising=False)
    root = experiments.celeba_root(get_profile("quick"))
    assert Path(root) == tmp_path / "celeba-standin" and (root / "STANDIN.txt").is_file()
