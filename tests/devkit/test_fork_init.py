"""`./inv init --name NAME` in a copy of the checkout: the project's name is replaced where a fork owns it, the
second run changes nothing, and a bad name changes nothing at all."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from devkit import paths
from devkit.scaffold import fork
from devkit.scaffold.names import ScaffoldError
from tests.devkit.scaffold_support import copy_checkout, tree_digest

# The checkout's own name (upstream's, or a fork's after its own `init`), and another one.
UPSTREAM = fork.current_name(paths.ROOT)
NEW = "acme-services" if UPSTREAM != "acme-services" else "acme-services-two"


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_checkout(tmp_path_factory.mktemp("fork") / "repo")


@pytest.fixture(scope="module")
def renamed(copy: Path) -> fork.Renamed:
    return fork.rename(copy, NEW)


def test_the_project_name_is_replaced_where_a_fork_owns_it(copy: Path, renamed: fork.Renamed) -> None:
    assert (renamed.old, renamed.new) == (UPSTREAM, NEW)
    samconfig = tomllib.loads((copy / "infra/samconfig.toml").read_text())
    stacks = {
        env: section["deploy"]["parameters"]["stack_name"] for env, section in samconfig.items() if env != "version"
    }
    assert stacks == {env: f"{NEW}-{'dev' if env == 'default' else env}" for env in stacks}
    assert samconfig["prod"]["deploy"]["parameters"]["s3_prefix"] == f"{NEW}-prod"
    template = (copy / "infra/template.yaml").read_text()
    assert f'JWT_AUDIENCE: !Sub "{NEW}-${{Stage}}"' in template
    assert template.count(f'- !Sub "{NEW}-${{Stage}}"') == 3  # the three JWT authorizers' audience
    assert f'METRICS_NAMESPACE: !Sub "{NEW}/${{Stage}}"' in template
    assert f'STACK_PREFIX = "{NEW}"' in (copy / "devkit/localcloud/backends/base.py").read_text()
    assert f'DEFAULT_NAMESPACE: &str = "{NEW}"' in (copy / "shared/platform/src/metrics.rs").read_text()
    assert tomllib.loads((copy / "pyproject.toml").read_text())["project"]["name"] == NEW
    assert (copy / "README.md").read_text().startswith(f"# {NEW}\n")
    assert {"infra/samconfig.toml", "infra/template.yaml", "README.md", ".ci/run"} <= set(renamed.changed)


def test_no_file_but_forking_md_keeps_the_upstream_name(copy: Path, renamed: fork.Renamed) -> None:
    left = [
        path.relative_to(copy).as_posix()
        for path in sorted(copy.rglob("*"))
        if path.is_file() and ".venv" not in path.parts and UPSTREAM in path.read_text(errors="replace")
    ]
    assert left == ["FORKING.md"]


def test_a_second_run_changes_nothing(copy: Path, renamed: fork.Renamed) -> None:
    before = tree_digest(copy)
    again = fork.rename(copy, NEW)
    assert again.changed == []
    assert tree_digest(copy) == before
    assert "nothing changed" in fork.summary(again)


@pytest.mark.parametrize("bad", ["", "Acme", "acme_services", "acme--services", "-acme", "acme-", "9acme", "a" * 41])
def test_an_invalid_name_is_refused_and_nothing_changes(copy: Path, renamed: fork.Renamed, bad: str) -> None:
    before = tree_digest(copy)
    with pytest.raises(ScaffoldError, match=re.escape(repr(bad)) if bad else "not a valid project name"):
        fork.rename(copy, bad)
    assert tree_digest(copy) == before


def test_a_directory_that_is_not_a_checkout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="not a checkout"):
        fork.rename(tmp_path, "acme")
