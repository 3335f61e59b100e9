"""The sandbox as a generic engine: per-emulator options, only=, state sections, plugin fault styles, and a toy
emulator plugin registered at test time served over real HTTP; `hub sandbox` in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from hub.errors import UnknownNameError
from hub.integrations import Integration, all_integrations
from hub.sandbox import Sandbox
from hub.sandbox.chaos import Chaos, FaultStyle
from hub.sandbox.context import Emulator, EmulatorContext
from hub.sandbox.sandbox import emulator_names, option_names, split_options
from hub.sandbox.server import HTTPEmulator, Request, Response, json_response

# --- a toy emulator plugin, as a third party would write one ----------------------------------------------------


class ToyFaults(FaultStyle):
    """The toy vendor's own 429 body, so a test can tell the plugin's style from the generic one."""

    @staticmethod
    def rate_limited(emulator: HTTPEmulator) -> Response:
        return json_response(429, {"toy_error": "slow down"}, headers={"Retry-After": "1"})


class ToyEmulator(HTTPEmulator):
    """A tiny stateful API: GET/POST /things, GET /hello, bearer token."""

    server_name = "toy"
    fault_style = ToyFaults

    def __init__(self, context: EmulatorContext, things: list[dict[str, Any]], *, port: int, greeting: str) -> None:
        super().__init__(context.host, port, context.tls)
        self.token = f"toy-{context.random('token').randrange(10**9)}"
        self.things = things
        self.greeting = greeting
        self.router.add("GET", "/things", lambda r: json_response(200, {"things": self.things}))
        self.router.add("POST", "/things", self._create)
        self.router.add("GET", "/hello", lambda r: json_response(200, {"greeting": self.greeting}))

    def _create(self, request: Request) -> Response:
        thing = {"id": len(self.things) + 1, **request.json()}
        self.things.append(thing)
        return json_response(201, thing)

    def dispatch(self, request: Request, route: Any) -> Response:
        if request.header("authorization") != f"Bearer {self.token}":
            return json_response(401, {"toy_error": "who are you"})
        return route.handler(request)

    def to_state(self) -> Any:
        return {"things": self.things}

    def credentials(self) -> dict[str, str]:
        return {"token": self.token}


class ToyAdmin(HTTPEmulator):
    """A companion server (as a separate login host would be)."""

    server_name = "toy-admin"

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context.host, 0, context.tls)
        self.router.add("GET", "/ping", lambda r: json_response(200, {"pong": True}))


class ToyPlugin:
    """Seeds one thing per marketing contact, or restores the saved things."""

    built: list[EmulatorContext] = []

    def build(self, context: EmulatorContext, *, port: int = 0, greeting: str = "hello") -> ToyEmulator:
        self.built.append(context)
        if context.state is not None:
            things = list(context.state["things"])
        else:
            things = [{"id": n + 1, "email": row.email} for n, row in enumerate(context.data.contacts["marketing"])]
        context.attach(f"{context.name}_admin", ToyAdmin(context))
        return ToyEmulator(context, things, port=port, greeting=greeting)


TOY = ToyPlugin()


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ToyPlugin]:
    """The toy integration in the registry for one test (its emulator part is this module's TOY)."""
    monkeypatch.setitem(all_integrations(), "toy", Integration(name="toy", title="Toy", package=__name__,
                                                               emulator=":TOY", staging=None))
    TOY.built.clear()
    yield TOY


def _client(emulator: Any) -> httpx.Client:
    return httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.credentials()['token']}"})


# --- option splitting --------------------------------------------------------------------------------------------


def test_options_split_by_the_longest_emulator_name_they_start_with():
    split = split_options({"acme_port": 1, "acme_crm_port": 2, "acme_crm_rate_limit": None, "zeta_x_y": 3},
                          names=["acme", "acme_crm", "zeta"])
    assert split == {"acme": {"port": 1}, "acme_crm": {"port": 2, "rate_limit": None}, "zeta": {"x_y": 3}}


@pytest.mark.parametrize("key", ["acm_port", "acme", "acme_", "port"])
def test_an_option_of_no_emulator_fails_with_the_closest_name(key):
    with pytest.raises(UnknownNameError, match=f"unknown sandbox option '{key}'"):
        split_options({key: 1}, names=["acme", "zeta"])


def test_the_registered_emulators_take_their_documented_options():
    assert {"hubspot", "salesforce", "stripe"} <= set(emulator_names())
    plugins = {name: all_integrations()[name].load("emulator") for name in ("hubspot", "salesforce", "stripe")}
    assert {"port", "rate_limit", "contacts", "hidden"} <= set(option_names(plugins["hubspot"]))
    assert {"port", "login_port", "api_limit", "contacts"} <= set(option_names(plugins["salesforce"]))
    assert {"port", "rate_limit", "webhooks"} <= set(option_names(plugins["stripe"]))


def test_an_unknown_option_of_a_known_emulator_suggests_the_one_meant():
    with pytest.raises(UnknownNameError) as caught:
        Sandbox(people=5, only={"stripe"}, stripe_rate_limt=None)
    assert caught.value.suggestion == "rate_limit" and "stripe_rate_limt" in str(caught.value)


# --- only= ---------------------------------------------------------------------------------------------------------


def test_only_builds_the_emulators_named_and_ignores_the_others_options():
    with Sandbox(seed=3, people=20, only={"stripe"}, hubspot_rate_limit=None, salesforce_api_limit=5) as sb:
        assert list(sb.emulators) == ["stripe"] and sb.stripe is sb.emulators["stripe"]
        with _client(sb.stripe) as client:
            assert client.get("/v1/customers").status_code == 200
        with pytest.raises(AttributeError, match="no emulator 'hubspot'.*it has: stripe"):
            sb.hubspot  # noqa: B018 - the attribute access is the test


def test_only_with_an_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownNameError, match="unknown emulator 'strip'.*did you mean 'stripe'"):
        Sandbox(people=5, only={"strip"})


# --- a toy plugin registered at test time, over real HTTP -------------------------------------------------------


def test_a_toy_plugin_is_built_with_its_context_and_options_and_served_over_http(toy):
    with Sandbox(seed=11, people=30, only={"toy"}, toy_greeting="hi there", custom_fields=3) as sb:
        (context,) = toy.built
        assert (context.name, context.seed, context.custom_fields, context.state) == ("toy", 11, 3, None)
        assert context.data is sb.data and context.clock is sb.clock
        emulator = sb.emulators["toy"]
        assert sb.toy is emulator and isinstance(emulator, Emulator)
        with _client(emulator) as client:
            assert client.get("/hello").json() == {"greeting": "hi there"}
            things = client.get("/things").json()["things"]
            assert [t["email"] for t in things] == [r.email for r in sb.data.contacts["marketing"]]
            assert client.post("/things", json={"email": "new@example.com"}).status_code == 201
            assert httpx.get(f"{emulator.url}/things").status_code == 401  # the toy's own auth ran
        admin = sb.toy_admin.url
        assert httpx.get(f"{admin}/ping").json() == {"pong": True}  # the companion was started too
    with pytest.raises(httpx.ConnectError):  # and stopped with the sandbox
        httpx.get(f"{admin}/ping")


def test_the_same_seed_gives_a_plugin_the_same_random_draws(toy):
    tokens = [Sandbox(seed=5, people=2, only={"toy"}).toy.token for _ in range(2)]
    assert tokens[0] == tokens[1] != Sandbox(seed=6, people=2, only={"toy"}).toy.token


def test_chaos_answers_in_the_plugins_fault_style_with_each_emulator_drawing_its_own(toy):
    with Sandbox(people=5, only={"toy", "stripe"}, chaos=Chaos(rate_limit=1.0)) as sb:
        assert sb.toy.chaos is not sb.stripe.chaos and sb.toy.chaos == sb.stripe.chaos
        with _client(sb.toy) as client:
            answer = client.get("/things")
        assert (answer.status_code, answer.json()) == (429, {"toy_error": "slow down"})
        with _client(sb.stripe) as client:
            assert client.get("/v1/customers").json()["error"]["code"] == "rate_limit"  # Stripe's own style
        assert sb.toy.chaos.injected["429"] == 1 and sb.stripe.chaos.injected["429"] == 1


# --- state: one section per emulator --------------------------------------------------------------------------------


def test_the_state_file_keeps_a_section_per_emulator_and_a_partial_sandbox_keeps_the_others(toy, tmp_path):
    state = tmp_path / "state.json"
    with Sandbox(seed=2, people=12, only={"toy", "stripe"}, state_file=state) as sb, _client(sb.toy) as client:
        client.post("/things", json={"email": "kept@example.com"})
        customers = sb.stripe.store.to_state()["customer"]
    sections = orjson.loads(state.read_bytes())["emulators"]
    assert set(sections) == {"toy", "stripe"}
    assert sections["toy"]["things"][-1]["email"] == "kept@example.com"

    with Sandbox(seed=2, people=12, only={"toy"}, state_file=state) as sb, _client(sb.toy) as client:
        assert toy.built[-1].state == sections["toy"]  # the plugin got its own section back
        assert client.get("/things").json()["things"][-1]["email"] == "kept@example.com"
        client.post("/things", json={"email": "later@example.com"})
    after = orjson.loads(state.read_bytes())["emulators"]
    assert after["stripe"] == sections["stripe"]  # not built this time, not erased either
    assert after["toy"]["things"][-1]["email"] == "later@example.com"

    with Sandbox(seed=2, people=12, only={"stripe"}, state_file=state) as sb:
        assert sb.stripe.store.to_state()["customer"] == customers


def test_a_section_its_plugin_cannot_read_names_the_file_and_the_section(toy, tmp_path):
    state = tmp_path / "state.json"
    Sandbox(people=3, only={"toy"}, state_file=state).stop()
    saved = orjson.loads(state.read_bytes())
    saved["emulators"]["toy"] = {"thingz": []}
    state.write_bytes(orjson.dumps(saved))
    with pytest.raises(ValueError, match=f"{state}.*the toy section is corrupt"):
        Sandbox(people=3, only={"toy"}, state_file=state)


def test_a_version_1_state_file_with_sections_at_the_top_still_loads(toy, tmp_path):
    state = tmp_path / "state.json"
    state.write_bytes(orjson.dumps({"format": "hub-sandbox-state", "version": 1, "toy": {"things": [{"id": 9}]}}))
    with Sandbox(people=3, only={"toy"}, state_file=state) as sb, _client(sb.toy) as client:
        assert client.get("/things").json() == {"things": [{"id": 9}]}


# --- the CLI, as a user runs it ----------------------------------------------------------------------------------


def test_hub_sandbox_offers_a_port_option_per_emulator_with_the_existing_spellings():
    from tests.conftest import run_hub

    result = run_hub("sandbox", "--help")
    assert result.returncode == 0, result.stderr
    for name in emulator_names():
        assert f"--{name.replace('_', '-')}-port" in result.stdout


def test_hub_sandbox_serves_only_the_emulator_asked_for_on_the_port_given(unused_port):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB__")}
    process = subprocess.Popen([sys.executable, "-m", "hub", "sandbox", "--only", "stripe", "--stripe-port",
                                str(unused_port), "--people", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        lines = []
        for line in process.stdout:  # the banner ends with this line once every server listens
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        urls = [line.split()[-1] for line in lines if line.endswith(tuple("0123456789")) and "emulator:" in line]
        assert urls == [f"http://127.0.0.1:{unused_port}"], lines
        export = next(line for line in lines if "HUB__CONNECTIONS__STRIPE__TOKEN=" in line)
        token = export.split("=", 1)[1]
        answer = httpx.get(f"{urls[0]}/v1/customers", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json()["object"] == "list"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert process.returncode == 0


def test_hub_sandbox_with_an_unknown_emulator_says_which_it_meant():
    from tests.conftest import run_hub

    result = run_hub("sandbox", "--only", "hubspt")
    assert result.returncode == 1
    assert "unknown emulator 'hubspt'" in result.stderr and "did you mean 'hubspot'" in result.stderr


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on right now (bound and released by the OS)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
