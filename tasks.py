"""Tasks for the Rust-on-Lambda reference monorepo. Run them with ./inv (e.g. `./inv --list`, `./inv test`).

Wiring only: the tasks live in `devkit.tasks` (one collection module per capability) and call into the `devkit`
package; they are composed here into one flat namespace, so every task keeps its short name (`./inv bench-fat`).
"""

from __future__ import annotations

from invoke import Collection

from devkit.tasks import build, deploy, local, measure, quality, scaffold, verify

ns = Collection(
    # build and tooling
    build.setup,
    build.build,
    build.lock,
    build.openapi,
    # new services and forks
    scaffold.new_service,
    scaffold.init,
    # the suite
    quality.lint,
    quality.test,
    # the local cloud
    local.up,
    local.down,
    local.status,
    local.logs,
    local.metrics,
    local.invoke,
    local.fault,
    local.grant_admin,
    local.keys,
    # measurements (reports/)
    measure.bench,
    measure.bench_fat,
    measure.bench_lmi,
    measure.soak,
    measure.compare,
    # against a target
    verify.contract,
    verify.load,
    verify.clean_test_data,
    # deployed stages
    deploy.deploy,
    deploy.outputs,
    deploy.destroy,
    deploy.rollback,
)
