"""Shared helpers for the SDK interop scripts: the emulator's address, its inspection
endpoints, and a small runner that reports every check and fails the process if one fails.

The scripts expect the fleet that tests/emulator_python.rs writes (see FLEET there).
"""

import json
import os
import sys
import time
import traceback
import urllib.request

URL = os.environ["PASSFORM_EMULATOR_URL"]
HOST = URL.removeprefix("http://")
KEY_ID = "testid"
KEY_SECRET = "testsecret"

_checks = []


def check(function):
    """Registers a check; checks run in the order they are defined."""
    _checks.append(function)
    return function


def run():
    """Runs every check, prints one line each, and exits 1 if any failed."""
    failed = 0
    for function in _checks:
        try:
            function()
            print(f"ok {function.__name__}")
        except Exception:  # noqa: BLE001 - every failure is reported, then the run fails
            failed += 1
            print(f"FAILED {function.__name__}")
            traceback.print_exc(file=sys.stdout)
    print(f"{len(_checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def instance(instance_id):
    """The emulator's inside view of one instance (passwords included)."""
    with urllib.request.urlopen(f"{URL}/_emulator/instances") as response:
        listed = json.load(response)["instances"]
    return next(item for item in listed if item["id"] == instance_id)


def wait_for_status(instance_id, status, seconds=20):
    """Polls the inspection endpoint until the instance has the status."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if instance(instance_id)["status"] == status:
            return
        time.sleep(0.02)
    raise AssertionError(f"{instance_id} never became {status}")


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")
