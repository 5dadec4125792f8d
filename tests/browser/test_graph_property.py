"""Issue 11, the property test: seeded random sequences of user actions on the Graph tab — load
an example, type an expression (valid, invalid, out of domain), upload a file (good or junk),
what-if edits (in and out of the domain), scrub, step, play/pause, change the mode, switch to
Training and back, reload. After every action, every number on screen (each node's data-value
and data-grad, the Inspector's fields and contributions, the what-if fields) is the engine's for
the state on screen, computed here from the source text, and the editor holds that source (or
the text the user typed that could not load).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine import formats
from engine.formats import FormatError

from .graph_oracle import check_screen, edge_ends, expected, read_screen, settle
from .pages import fill_editor, open_page, set_speed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = ["neuron.expr", "fanout.expr", "reference.expr", "functions.expr", "maxmin.expr",
                 "reference.graph.json"]
TYPED = [
    "x = input(2)\ny = log(x) * x\noutput y\n",
    "a = input(1)\nb = input(2)\nc = sqrt(a) + a / b\noutput c\n",
    "x = input(-1)\ny = log(x) * x\noutput y\n",  # out of the domain as written
    "u = input(0.5)\nv = sin(u + 1) * u\nw = v * v + u\noutput w\n",
    "x = input(1.5)\ny = x * x\ny += exp(-x)\noutput y\n",
    "x = input(1\ny = x\noutput y\n",  # a syntax error: nothing loads
    "y = nosuch(2)\noutput y\n",  # an unknown function
]
JUNK = [("junk.txt", "hello world"), ("broken.graph.json", '{"format": "graph", "nodes": [')]
ACTIONS = [("example", 8), ("type", 8), ("upload", 6), ("whatif", 22), ("scrub", 18),
           ("step", 14), ("play", 6), ("mode", 6), ("tabs", 2), ("reload", 4)]
STEPS = 210


@dataclass
class Shown:
    """What the page must show: the source of the graph on screen and its what-if values."""
    text: str
    filename: str
    values: dict[int, float] = field(default_factory=dict)
    editor: str = ""  # what the editor must hold


def loads(text: str, filename: str) -> bool:
    try:
        formats.load(text, filename=filename)
        return True
    except FormatError:
        return False


class Session:
    def __init__(self, page, seed: int):
        self.page = page
        self.rng = random.Random(seed)
        self.log: list[str] = []  # what was done, for a failure's message
        text = (EXAMPLES / "neuron.expr").read_text()
        self.shown = Shown(text, "neuron.expr", editor=text)
        open_page(page, "?graph=example:neuron.expr")
        settle(page)

    # -- actions: each does what a user does and says what the page must then show ---------------
    def example(self):
        file = self.rng.choice(EXAMPLE_FILES)
        if self.page.get_by_label("Example").input_value() == f"example:{file}":
            return  # choosing the option already chosen changes nothing
        self.page.get_by_label("Example").select_option(f"example:{file}")
        text = (EXAMPLES / file).read_text()
        self.shown = Shown(text, file, editor=text)
        settle(self.page)

    def type(self):
        text = self.rng.choice(TYPED)
        fill_editor(self.page, text)
        self.page.get_by_role("button", name="Load", exact=True).click()
        if loads(text, "typed.expr"):
            self.shown = Shown(text, "typed.expr", editor=text)
        else:
            self.shown.editor = text  # the typed text stays, its problems marked
            self.page.wait_for_selector("#editor .problems li")
        settle(self.page)

    def upload(self):
        if self.rng.random() < 0.3:
            name, text = self.rng.choice(JUNK)
        elif self.rng.random() < 0.5:
            name = self.rng.choice(EXAMPLE_FILES)
            text = (EXAMPLES / name).read_text()
        else:
            name, text = "upload.expr", self.rng.choice(TYPED)
        before = self.page.evaluate("document.body.dataset.graph")
        self.page.get_by_label("Upload a graph file").set_input_files(
            files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}])
        if loads(text, name):
            self.page.wait_for_function("g => document.body.dataset.graph !== g", arg=before)
            self.shown = Shown(text, name, editor=text)
        else:
            self.page.wait_for_function(
                "n => !document.querySelector('#message').hidden"
                " && document.querySelector('#message').textContent.includes(n)", arg=name)
        settle(self.page)

    def whatif(self):
        fields = self.page.locator("#whatif input[data-node-id]")
        if fields.count() == 0:
            return
        k = self.rng.randrange(fields.count())
        f = fields.nth(k)
        wire_id = int(f.get_attribute("data-node-id"))
        value = self.rng.choice([round(self.rng.uniform(-3, 3), 2), -1.0, 0.0, 2.5])
        self.log.append(f"what-if {wire_id} = {value}")
        f.fill(repr(value))
        f.press(self.rng.choice(["Enter", "Tab"]))
        trial = {**self.shown.values, wire_id: value}
        if expected(self.shown.text, self.shown.filename, trial).traced:
            self.shown.values = trial
        settle(self.page)

    def scrub(self):
        s = self.page.locator("#scrubber")
        if not s.is_enabled():
            return  # no trace on screen (the graph's values are out of its domain)
        lo, hi = int(s.get_attribute("min")), int(s.get_attribute("max"))
        s.fill(str(self.rng.randint(lo, hi)))
        settle(self.page)

    def step(self):
        which = self.rng.choice(["#step-forward", "#step-back", "#restart"])
        button = self.page.locator(which)
        if button.is_enabled():
            button.click()
        if which == "#restart":  # Restart plays from the start: pause it, as play() does
            self._pause()
        settle(self.page)

    def play(self):
        play = self.page.locator("#play")
        if not play.is_enabled():
            return
        set_speed(self.page, self.rng.choice([60, 100]))
        before = self.page.evaluate("document.querySelector('#caption').dataset.index")
        play.click()
        # until it has moved or stopped at the end by itself, then pause
        self.page.wait_for_function(
            "b => document.querySelector('#caption').dataset.index !== b"
            " || !document.querySelector('#play').classList.contains('playing')", arg=before)
        self._pause()
        settle(self.page)

    def _pause(self):
        play = self.page.locator("#play")
        if "playing" in (play.get_attribute("class") or ""):
            play.click()
        # Had it just reached the end, that click played it again: it stops at the end by itself.
        self.page.wait_for_function(
            "() => !document.querySelector('#play').classList.contains('playing')")

    def mode(self):
        mode = self.rng.choice(["Forward", "Back-prop", "Both"])
        self.page.get_by_label(mode, exact=True).check()
        settle(self.page)

    def tabs(self):
        graph = self.page.evaluate("document.body.dataset.graph")
        self.page.get_by_role("tab", name="Training").click()
        self.page.wait_for_function("() => document.body.dataset.graph.startsWith('model:')")
        settle(self.page)
        self.page.get_by_role("tab", name="Graph").click()
        self.page.wait_for_function("g => document.body.dataset.graph === g", arg=graph)
        settle(self.page)

    def reload(self):
        self.page.reload()
        self.page.wait_for_selector("body[data-ready=true]")
        self.shown = Shown(self.shown.text, self.shown.filename, editor=self.shown.text)
        settle(self.page)

    # -- the check ------------------------------------------------------------------------------
    def check(self, step: int, action: str):
        shown = self.shown
        screen = read_screen(self.page)
        want = expected(shown.text, shown.filename, shown.values)
        context = (f"step {step} ({action}) on {shown.filename} with {shown.values}; "
                   f"before: {self.log[-6:]}")
        assert len(screen["nodes"]) == want.n, context
        try:
            check_screen(screen, want, edge_ends(shown.text, shown.filename))
        except AssertionError as error:
            raise AssertionError(f"{context}: {error}") from None
        assert screen["editor"] == shown.editor, context
        if not want.traced:
            assert screen["pos"] is None and screen["banner"], context


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11])
def test_random_actions_never_leave_a_stale_number(page, console, seed):
    console.allow("400")  # the refused uploads and expressions
    session = Session(page, seed)
    names = [name for name, weight in ACTIONS for _ in range(weight)]
    done = []
    for step in range(STEPS):
        action = session.rng.choice(names)
        getattr(session, action)()
        session.log.append(f"{action} {session.page.evaluate('document.body.dataset.graph')}")
        done.append(action)
        session.check(step, action)
    assert len(done) >= 200 and set(done) == {name for name, _ in ACTIONS}
