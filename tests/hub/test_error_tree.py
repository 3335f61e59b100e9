"""One error tree: every exception class hub defines lives in hub/errors.py and derives from HubError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import hub
from hub import errors
from hub.errors import HubError

#: classes that are deliberately outside the tree, and why
OUTSIDE = {
    # click's own exception type at the CLI boundary: what a HubError becomes once it is printed
    "hub.cli.HubClickError",
    # a failpoint armed with ":raise" stands for a bug; a HubError would be handled as an expected failure
    "hub.failpoints.FailpointError",
}
#: packages whose exceptions never leave them: the sandbox's emulators turn theirs into the vendor's HTTP answers

ENGINES = ("sources", "models", "reverse_etl", "warehouse")


def _modules() -> list[str]:
    names = ["hub"]
    for package in ["hub", *(f"hub.{engine}" for engine in ENGINES)]:
        path = importlib.import_module(package).__path__
        names += [info.name for info in pkgutil.walk_packages(path, prefix=f"{package}.")
                  if info.name != "hub.__main__"]
    return names


def _internal(module: str) -> bool:
    # an integration's emulator is part of the sandbox; its other parts (sources, targets, webhooks) are not
    return module.startswith("hub.sandbox.") or (module.startswith("hub.integrations.") and ".emulator" in module)


def test_every_exception_class_is_in_hub_errors_under_hub_error():
    found, strays = 0, []
    for name in _modules():
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if not (inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == name):
                continue
            found += 1
            qualified = f"{name}.{attribute}"
            if name == "hub.errors" or qualified in OUTSIDE or _internal(name):
                continue
            strays.append(qualified)
    assert found, "no module was walked"
    assert strays == [], f"define these in hub/errors.py under HubError: {strays}"


def test_hub_errors_classes_all_derive_from_hub_error():
    defined = [v for v in vars(errors).values() if inspect.isclass(v) and issubclass(v, BaseException)
               and v.__module__ == "hub.errors"]
    assert HubError in defined and len(defined) > 10
    assert [c.__name__ for c in defined if not issubclass(c, HubError)] == []


def test_moved_errors_are_still_importable_where_they_are_raised():
    from hub.reverse_etl.base import NoSuchObject
    from hub.schedule_install import InstallError
    from hub.serve.inbox import InboxError
    from hub.serve.intake import BadEventError
    from hub.serve.when import ExpressionError
    from hub.webhooks.verify import SignatureError

    for cls in (NoSuchObject, InstallError, InboxError, BadEventError, ExpressionError, SignatureError):
        assert cls.__module__ == "hub.errors" and issubclass(cls, HubError)
    assert hub.__name__ == "hub"
