"""Characters Python calls digits that int() refuses ("²", "³") are data, not numbers: each
place that reads a number from text answers with a clear error (or treats it as a name), never
a server error."""

from __future__ import annotations

import pytest

from engine.formats.jsonio import pointer_key
from server.api.runs import _after
from server.catalog import NotFoundError, _model_ref


def test_a_json_pointer_with_a_superscript_is_a_name_not_an_index():
    assert pointer_key("/nodes/2/²") == [(1, 0, ""), (1, 0, "nodes"), (0, 2, ""), (1, 0, "²")]


def test_a_model_width_of_superscripts_is_refused_by_name():
    with pytest.raises(NotFoundError, match="a model's width is"):
        _model_ref("model:mlp:²")


def test_a_run_page_after_a_superscript_is_refused(app):
    with app.test_request_context("/api/runs/r?after=²"), pytest.raises(ValueError, match="seq"):
        _after()
