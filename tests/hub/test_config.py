"""Config loading: lookup order, validation with file:line, did-you-mean, secrets kept out of hub.toml."""

from __future__ import annotations


import pytest

from hub import config
from hub.project import Project
from hub.errors import ConfigError, ProjectNotFoundError, SecretMissingError, UnknownNameError

BASIC = """
[warehouse]
path = "wh.duckdb"

[connections.hubspot]
type = "hubspot"
streams = ["contacts"]
"""


def test_defaults_and_relative_warehouse_path(make_project):
    root = make_project(BASIC)
    cfg = config.load(root, environ={})
    assert cfg.warehouse_path == root / "wh.duckdb"
    conn = cfg.connections["hubspot"]
    assert conn.type == "hubspot" and conn.streams == ("contacts",) and conn.base_url is None


def test_environment_wins_over_secrets_toml(make_project):
    root = make_project(BASIC, '[connections.hubspot]\ntoken = "from-file-1234"\n')
    assert config.load(root, environ={}).connections["hubspot"].secret("token").reveal() == "from-file-1234"
    env = {"HUB__CONNECTIONS__HUBSPOT__TOKEN": "from-env-5678"}
    assert config.load(root, environ=env).connections["hubspot"].secret("token").reveal() == "from-env-5678"


def test_env_overrides_plain_keys_too(make_project):
    root = make_project(BASIC)
    cfg = config.load(root, environ={"HUB__CONNECTIONS__HUBSPOT__BASE_URL": "http://127.0.0.1:9"})
    assert cfg.connections["hubspot"].base_url == "http://127.0.0.1:9"


def test_missing_token_names_env_var_and_secrets_key(make_project):
    root = make_project(BASIC)
    with pytest.raises(SecretMissingError) as info:
        config.load(root, environ={}).connections["hubspot"].secret("token")
    text = str(info.value)
    assert "HUB__CONNECTIONS__HUBSPOT__TOKEN" in text and "secrets.toml" in text and "[connections.hubspot]" in text


def test_malformed_toml_points_at_line(make_project):
    root = make_project('[warehouse]\npath = "x.duckdb"\n\n[connections.hubspot\ntype = "hubspot"\n')
    with pytest.raises(ConfigError) as info:
        config.load(root, environ={})
    assert str(info.value).startswith("hub.toml:4:")


def test_unknown_connector_type_suggests(make_project):
    root = make_project('[connections.crm]\ntype = "hubspt"\n')
    with pytest.raises(UnknownNameError) as info:
        Project(root, environ={})   # connector checks: hub/integrations/checks.py
    assert info.value.suggestion == "hubspot"
    assert "hub.toml:2" in str(info.value)


def test_unknown_stream_suggests(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\nstreams = ["contact"]\n')
    with pytest.raises(UnknownNameError) as info:
        Project(root, environ={})   # connector checks: hub/integrations/checks.py
    assert "did you mean 'contacts'" in str(info.value) and "hub.toml:3" in str(info.value)


def test_unknown_key_suggests(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\nstrems = ["contacts"]\n')
    with pytest.raises(UnknownNameError) as info:
        Project(root, environ={})   # connector checks: hub/integrations/checks.py
    assert "did you mean 'streams'" in str(info.value) and "hub.toml:3" in str(info.value)


def test_unknown_section_suggests(make_project):
    root = make_project('[conections.hubspot]\ntype = "hubspot"\n')
    with pytest.raises(UnknownNameError, match="did you mean 'connections'"):
        config.load(root, environ={})


def test_secret_in_hub_toml_is_refused_without_echoing_it(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\ntoken = "pat-secret-value"\n')
    with pytest.raises(ConfigError) as info:
        config.load(root, environ={})
    assert "hub.toml:3" in str(info.value) and "secrets.toml" in str(info.value)
    assert "pat-secret-value" not in str(info.value)


def test_secret_for_undefined_connection_is_a_typo(make_project):
    root = make_project(BASIC, '[connections.hubsopt]\ntoken = "abcd1234"\n')
    with pytest.raises(UnknownNameError, match="did you mean 'hubspot'"):
        config.load(root, environ={})
    with pytest.raises(UnknownNameError, match="HUB__CONNECTIONS__HUBSPT__TOKEN"):
        config.load(make_project(BASIC, name="p2"), environ={"HUB__CONNECTIONS__HUBSPT__TOKEN": "abcd1234"})


def test_connection_name_must_be_a_schema_name(make_project):
    root = make_project('[connections.My-CRM]\ntype = "hubspot"\n')
    with pytest.raises(ConfigError, match="lower-case"):
        config.load(root, environ={})


def test_bad_base_url(make_project):
    root = make_project('[connections.hubspot]\ntype = "hubspot"\nbase_url = "api.hubapi.com"\n')
    with pytest.raises(ConfigError, match="not an http"):
        config.load(root, environ={})


def test_find_root_walks_upward(make_project):
    root = make_project(BASIC)
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert config.find_root(start=deep) == root
    with pytest.raises(ProjectNotFoundError, match="hub init"):
        config.find_root(explicit=root / "a")


def test_secret_values_never_print():
    from hub.secrets import Secret, redact

    s = Secret("tok-1234567890")
    assert str(s) == "***" and repr(s) == "Secret('***')" and f"{s}" == "***"
    assert s.reveal() == "tok-1234567890"
    assert redact("Bearer tok-1234567890 was refused") == "Bearer *** was refused"


def test_config_alone_knows_no_connector(make_project):
    """hub.config reads and merges; connection keys, types and streams are the connector's to check."""
    root = make_project('[connections.crm]\ntype = "hubspt"\nstrems = ["x"]\n')
    assert config.load(root, environ={}).connections["crm"].options == {"strems": ["x"]}


@pytest.mark.parametrize(("section", "toml", "line", "fix"), [
    ("syncs", '[syncs]\ncrm = "contacts"\n', 2, "'crm' is not one: write [syncs.crm] and put its keys under it"),
    ("triggers", 'triggers.paid = "notify:https://x.example/h"\n', 1,
     "'paid' is not one: write [triggers.paid] and put its keys under it"),
    ("actions", '[actions.tell]\ntype = "notify"\nurl = "https://x.example/h"\n\n[actions]\nprovision = 1\n', 6,
     "'provision' is not one: write [actions.provision] and put its keys under it"),
    ("forms", 'forms = ["contact"]\n', 1, "write each one as a [forms.NAME] header followed by its keys"),
])
def test_a_section_entry_that_is_not_a_table_is_one_line_at_its_line(make_project, section, toml, line, fix):
    """Config.named_tables: the same line for every [X.NAME] section, through the real CLI (nothing else printed)."""
    from tests.conftest import run_hub

    root = make_project(toml + '\n[connections.crm]\ntype = "hubspot"\n')
    result = run_hub("-C", str(root), "build")
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: hub.toml:{line}: [{section}] must be a table of [{section}.NAME] tables " \
                            f"({fix})\n"
    assert result.stdout == ""
