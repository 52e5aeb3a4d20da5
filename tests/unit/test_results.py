"""Recorded results: read from a checkout, from the repository over HTTP, or said to be unavailable."""
import functools
import http.server
import json
import threading

import pytest

from vaemi_nb import results


def _checkout(path):
    (path / "_toc.yml").write_text("root: book/intro\n")
    (path / "results").mkdir()
    return path


def test_round_trip_in_a_checkout(tmp_path):
    root = _checkout(tmp_path)
    assert results.load_summary("nothing", root) is None
    path = results.save_summary("demo", {"a": 1, "b": [1.5, 2]}, root)
    assert path == root / "results" / "demo.json"
    assert json.loads(path.read_text()) == {"a": 1, "b": [1.5, 2]}
    assert results.load_summary("demo", root) == {"a": 1, "b": [1.5, 2]}
    (root / "results" / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json .* is not valid JSON"):
        results.load_summary("bad", root)


def test_a_folder_that_is_no_checkout_is_not_read(tmp_path, monkeypatch, capsys):
    (tmp_path / "results").mkdir()  # a results/ folder alone does not make a checkout
    assert results.checkout(tmp_path) is None and results.checkout(None) is None
    records = results.Records(tmp_path, repository=None)
    assert not records.available and records.summary("x") is None
    monkeypatch.chdir(tmp_path)
    path = results.save_summary("demo", {"a": 1}, None)
    assert path == tmp_path / "results" / "demo.json" and "no checkout" in capsys.readouterr().out


@pytest.fixture()
def served(tmp_path):
    """A local web server holding <repo>/raw/main/results/demo.json, like a git web host."""
    repo = tmp_path / "site" / "owner" / "repo" / "raw" / "main" / "results"
    repo.mkdir(parents=True)
    (repo / "demo.json").write_text('{"a": 2}')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "site"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/owner/repo"
    server.shutdown()


def test_without_a_checkout_the_repository_is_read_over_http(served):
    records = results.Records(None, repository=served)
    assert records.available and "over the network" in records.where
    assert records.summary("demo") == {"a": 2}
    assert records.summary("absent") is None and records.available  # a 404 is "not recorded"


def test_unreachable_repository_says_not_available():
    records = results.Records(None, repository="http://127.0.0.1:9/owner/repo", timeout=2)  # port 9: nothing there
    assert records.available  # until tried
    assert records.summary("demo") is None
    assert not records.available and "could not be reached" in records.where
    assert "not available here" in results.NOT_AVAILABLE


def test_github_addresses_map_to_raw_content():
    assert results.raw_url("results/a.json", "https://github.com/o/r", "main") == \
        "https://raw.githubusercontent.com/o/r/main/results/a.json"
