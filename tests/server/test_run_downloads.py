"""A run's CSV download is named after the run (issue 11, finding 9), through Flask's test client.

The oracle for the header is Werkzeug's RFC 2231/5987 parser, not the code that writes it.
"""

from __future__ import annotations

import pytest
from werkzeug.http import parse_options_header


def filenames(header: str) -> tuple[str, str]:
    """(the name a browser uses — RFC 5987 ``filename*`` when there, else ``filename``; the
    plain ``filename``), each parameter decoded on its own by Werkzeug's header parser."""
    kind, *params = [p.strip() for p in header.split(";")]
    assert kind == "attachment"
    found = {}
    for param in params:
        key = param.split("=", 1)[0]
        found[key] = parse_options_header(f"attachment; {param}")[1]["filename"]
    return found.get("filename*", found["filename"]), found["filename"]


def csv_header(client, app, name: str) -> str:
    store = app.extensions["backprop_live"].store
    with client.session_transaction() as session:
        run_id = store.add_run(session["workspace"], name, {"model": "mlp", "epochs": 1})
    store.add_metrics(run_id, [{"type": "step", "step": 1, "epoch": 1, "loss": 0.5,
                                "accuracy": 1.0, "grad_norms": {}, "seconds": 0.1}])
    response = client.get(f"/api/runs/{run_id}/metrics.csv")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("type,seq,step")
    return response.headers["Content-Disposition"]


@pytest.mark.parametrize(("name", "shown", "ascii_name"), [
    ("baseline", "baseline.csv", "baseline.csv"),
    ("mlp · sgd · lr 10 · seed 0", "mlp · sgd · lr 10 · seed 0.csv", "mlp sgd lr 10 seed 0.csv"),
    ("Größe/Ärger: 日本", "Größe_Ärger_ 日本.csv", "Groe_Arger.csv"),
    ('quote " and ..\\..\\etc', "quote _ and .._.._etc.csv", "quote _ and .._.._etc.csv"),
])
def test_the_csv_is_named_after_the_run(client, app, name, shown, ascii_name):
    header = csv_header(client, app, name)
    assert header.startswith("attachment;")
    decoded, plain = filenames(header)
    assert decoded == shown
    assert plain == ascii_name
    assert plain.isascii() and "/" not in plain and "\\" not in plain
    if not name.isascii():
        assert "filename*=UTF-8''" in header


def test_a_name_with_nothing_left_falls_back_to_the_run_id(client, app):
    header = csv_header(client, app, "...")
    decoded, plain = filenames(header)
    assert decoded == plain
    assert plain.startswith("r_") and plain.endswith(".csv")


@pytest.mark.parametrize("run_id", ["r_abc_", "r_-x-"])
def test_the_run_id_fallback_is_kept_whole(run_id):
    """A run id ends in any of its characters ("_" and "-" included): the fallback name is the
    id itself, in both parameters (one run in 64 once got "r_…_.csv" and "r_….csv")."""
    from server.api.runs import attachment

    assert filenames(attachment("...", run_id, ".csv")) == (f"{run_id}.csv", f"{run_id}.csv")
