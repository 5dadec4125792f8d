"""The settings of ``create_app``, from four places: a flag, the environment, a config file, the
default — the first one that gives it wins.

* a flag: the setting's own (``--database URL``, ``--base-url PATH``) or ``--set NAME=VALUE``
  (the setting's own flag wins over ``--set``);
* the environment: ``BACKPROP_LIVE_NAME`` (``BACKPROP_LIVE_DATABASE``);
* the config file given with ``--config FILE`` (or ``$BACKPROP_LIVE_CONFIG``): TOML, one key per
  setting, its name in lower case (``database = "postgresql://…"``, ``max_training_jobs = 8``);
* ``server.app.DEFAULTS``.

A setting with a flag of its own is one line of ``FLAGGED``; one that names a service by URL,
one line of ``URLS`` too. Every bad value is refused before
anything starts, with a message naming the setting and where its value came from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..databases.postgres import redacted

ENVIRONMENT_PREFIX = "BACKPROP_LIVE_"
CONFIG_ENVIRONMENT = "BACKPROP_LIVE_CONFIG"
NOT_SETTABLE = ("DATA_DIR", "ASYNC_MODE")  # the command line's own (--data-dir), the entry point's


class SetupError(Exception):
    """Something to fix before the server can start; the message says what."""


@dataclass(frozen=True)
class Flagged:
    """A setting with a flag of its own."""
    name: str  # the setting, a key of server.app.DEFAULTS
    flag: str
    metavar: str
    help: str
    kind: type = str  # what argparse makes of the flag's value


FLAGGED = [
    Flagged("BASE_URL", "--base-url", "PATH",
            "serve every URL under this path, as behind a proxy that passes /backprop/… "
            "through (docs/deploy.md)"),
    Flagged("TRUSTED_PROXIES", "--trusted-proxies", "N",
            "believe the X-Forwarded-For/Proto/Host/Prefix headers of this many proxies in "
            "front (default 0)", int),
    Flagged("DATABASE", "--database", "URL",
            "keep workspaces, graphs, runs and metrics in this PostgreSQL database, "
            "postgresql://user:password@host:port/name (default: SQLite in the data dir; "
            "docs/deploy.md)"),
    Flagged("MESSAGE_QUEUE", "--message-queue", "URL",
            "redis://host:port/db: events of every web process and worker reach every page, "
            "wherever it is connected (default: --jobs's; docs/deploy.md)"),
    Flagged("JOBS", "--jobs", "URL",
            "redis://host:port/db: training runs go on this queue, trained by `backprop-live "
            "worker` processes on any machine; web processes may then share a data dir "
            "(docs/deploy.md)"),
]

# The settings that name a service: (its URL schemes, the form to show, what unset means).
URLS = {
    "DATABASE": (("postgresql", "postgres"), "postgresql://user:password@host:port/name",
                 "SQLite in the data dir"),
    "MESSAGE_QUEUE": (("redis", "rediss", "unix"), "redis://host:port/db",
                      "one web process's own events"),
    "JOBS": (("redis", "rediss", "unix"), "redis://host:port/db",
             "training in the web process's own workers"),
}


def environment_name(name: str) -> str:
    return ENVIRONMENT_PREFIX + name


def add_arguments(parser, names: list[str] | None = None) -> None:
    """``--config`` and the flags of the settings ``names`` (default: every flagged one)."""
    parser.add_argument("--config", default=None, metavar="FILE",
                        help=f"a TOML file of settings (default: ${CONFIG_ENVIRONMENT}); a flag "
                             "or the environment wins over it (docs/deploy.md)")
    for setting in FLAGGED:
        if names is None or setting.name in names:
            parser.add_argument(setting.flag, default=None, metavar=setting.metavar,
                                type=setting.kind, dest=_dest(setting.name),
                                help=f"{setting.help}; the setting {setting.name}, "
                                     f"${environment_name(setting.name)}")


def resolve(args, defaults: dict, environ=None) -> dict:
    """The settings given (typed, checked) by flag, environment or config file: only those,
    so that what is left to the defaults stays visibly so. ``args`` may lack ``set``."""
    environ = os.environ if environ is None else environ
    given: dict[str, tuple[object, str]] = {}  # name: (value, where it came from)
    path = getattr(args, "config", None) or environ.get(CONFIG_ENVIRONMENT)
    if path:
        given.update(_from_file(path, defaults))
    for key, value in environ.items():
        name = key[len(ENVIRONMENT_PREFIX):]
        if key.startswith(ENVIRONMENT_PREFIX) and name in defaults and name not in NOT_SETTABLE:
            given[name] = (value, f"${key}")
    for item in getattr(args, "set", None) or []:
        name, sep, value = item.partition("=")
        if not sep or name not in defaults or name in NOT_SETTABLE:
            raise SetupError(f"--set {item!r}: give NAME=VALUE with a setting of docs/api.md")
        given[name] = (value, f"--set {name}")
    for setting in FLAGGED:
        value = getattr(args, _dest(setting.name), None)
        if value is not None:
            given[setting.name] = (value, setting.flag)
    return {name: typed(name, value, defaults[name], where)
            for name, (value, where) in given.items()}


def typed(name: str, value, default, where: str = ""):
    """``value`` (a string, or a TOML value) as the setting ``name`` takes it."""
    from ..proxy import base_url

    source = f" (from {where})" if where else ""
    if name == "ALLOWED_HOSTS":
        hosts = value.split(",") if isinstance(value, str) else value
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise SetupError(f"ALLOWED_HOSTS{source} must be host names, not {value!r}")
        return [h.strip() for h in hosts if h.strip()]
    if name == "BASE_URL":
        try:
            return base_url(str(value))
        except ValueError as exc:
            raise SetupError(f"{exc}{source}") from None
    if name in URLS:
        return service_url(name, str(value), source)
    if isinstance(default, int | float) and not isinstance(default, bool):
        try:
            if isinstance(value, bool):
                raise ValueError
            return type(default)(value)
        except (TypeError, ValueError):
            raise SetupError(f"{name}{source} must be a number, not {value!r}") from None
    if default is not None and not isinstance(value, type(default)):
        raise SetupError(f"{name}{source} must be a {type(default).__name__}, not {value!r}")
    return value


def service_url(name: str, value: str, source: str = "") -> str | None:
    """The URL of the service setting ``name`` (``URLS``), checked for form only (connecting is
    its user's job); '' is none (the default)."""
    schemes, form, unset = URLS[name]
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.hostname or parts.path):
        raise SetupError(f"{name}{source} must be a {form} URL, not {redacted(value)!r} "
                         f"(leave it unset for {unset})")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise SetupError(f"{name}{source}: the port of {redacted(value)!r} is not a number") \
            from None
    return value


def _from_file(path: str, defaults: dict) -> dict:
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except OSError as exc:
        raise SetupError(f"the config file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SetupError(f"the config file {path} is not TOML: {exc}") from None
    given = {}
    for key, value in table.items():
        name = key.upper().replace("-", "_")
        if name not in defaults or name in NOT_SETTABLE:
            raise SetupError(f"the config file {path}: {key!r} is not a setting (docs/api.md "
                             "lists them, in lower case here: database = \"postgresql://…\")")
        given[name] = (value, f"{key} in {path}")
    return given


def _dest(name: str) -> str:
    return "setting_" + name.lower()
