import pytest

from vaemi_nb.profiles import get_profile


def test_default_is_quick(monkeypatch):
    monkeypatch.delenv("VAEMI_PROFILE", raising=False)
    assert get_profile().name == "quick"


def test_env_selects_full(monkeypatch):
    monkeypatch.setenv("VAEMI_PROFILE", "full")
    full = get_profile()
    assert full.name == "full" and full.mnist_epochs == 100 and full.batch_size == 100
    assert full.mi_points > get_profile("quick").mi_points


def test_unknown_profile():
    with pytest.raises(ValueError, match="unknown profile 'fast'.*quick, full"):
        get_profile("fast")
