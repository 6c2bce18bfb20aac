"""The deploy seam: render once -> read live state -> plan; and the outputs senders need.

``plan_scenario`` is the one path from a scenario to a ``Plan``, used by ``plan``, ``apply``
and anything that must know what apply would do:

1. render the tables, the endpoint and the rules (template errors, and bodies holding the value
   of a secret variable, stop here: before any call);
2. in parallel: GET the workspace and each of those resources, and resolve the publishers
   through Microsoft Graph;
3. render the role assignments with the resolved principals (their names derive from them),
   plus our assignments on rules marked ``ensure: absent``;
4. read those assignments, and ``build_plan``.

``collect_outputs`` reads what senders need (no Graph, no role assignments). ``live`` only
reads, ``render`` only renders and ``plan`` only compares; this module is where they meet.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

from provision import live as reads
from provision import secrets
from provision.azure import DEFAULT_PARALLELISM, Session
from provision.errors import ProvisionError, RenderError
from provision.outputs import Outputs, outputs_from_live
from provision.plan import LiveState, Plan, build_plan
from provision.render import render_assignments, render_deployables, retired_assignments
from provision.resources import Kind, Resource


def plan_scenario(session: Session, scenario, templates_dir=None,
                  parallelism: int | None = None) -> tuple[list[Resource], LiveState, Plan]:
    """(resources, live state, plan) of ``scenario``. Writes nothing. ``parallelism``: reads in flight at most
    (default ``azure.DEFAULT_PARALLELISM``; most reads are lists now, so this matters when they fall back)."""
    deployables = render_deployables(scenario, templates_dir)
    refuse_secrets(session, deployables)  # before the first call to Azure
    session.warm_up()  # one token request, not one per thread
    with ThreadPoolExecutor(max_workers=max(1, parallelism or DEFAULT_PARALLELISM)) as pool:
        lookups = pool.submit(reads.resolve_principals, session, scenario, None)
        problems: list = []
        bodies, workspace = reads.read_resources(session, scenario, deployables, pool, problems)
        principals, missing = lookups.result()
        assignments = render_assignments(scenario, deployables, principals, templates_dir)
        assignments += retired_assignments(scenario, deployables, principals)
        refuse_secrets(session, assignments)
        bodies.update(reads.read_assignments(session, assignments, bodies, pool))
    live = LiveState(workspace_id=scenario.workspace, workspace=workspace, resources=bodies,
                     missing_publishers=missing, problems=problems)
    resources = deployables + assignments
    return resources, live, build_plan(resources, live, scenario)


def refuse_secrets(session: Session, resources: list[Resource]) -> None:
    """Stop (RenderError) when a body holds the value of a secret variable (provision/secrets.py):
    it would be printed in the plan and sent to Azure."""
    values = secrets.secret_values({**os.environ, **session.environ})  # once, not per body
    if not values:
        return
    for resource in resources:
        names = secrets.found_in(json.dumps(resource.body, ensure_ascii=False), values) if resource.body else []
        if names:
            raise RenderError(f"the rendered body of {resource.kind.label} '{resource.name}' holds the value of "
                              f"{', '.join('$' + n for n in names)}: nothing was sent to Azure",
                              hint="keep secrets out of scenarios and templates; if the value is not a secret, "
                                   "rename the variable that holds it")


def collect_outputs(session: Session, scenario, templates_dir=None, parallelism: int | None = None) -> Outputs:
    """What senders need, from live state (changes nothing).

    Publishers are not part of the outputs: no Graph lookup, so an identity that may not read
    Graph can run this. Raises ``ProvisionError`` when a table or rule is not deployed yet.
    """
    resources = render_deployables(scenario, templates_dir)
    session.warm_up()
    with ThreadPoolExecutor(max_workers=max(1, parallelism or DEFAULT_PARALLELISM)) as pool:
        bodies, _ = reads.read_resources(session, scenario, resources, pool)
    missing = [r.name for r in resources if r.kind in (Kind.RULE, Kind.TABLE) and not r.absent
               and bodies.get(r.id.lower()) is None]
    if missing:
        raise ProvisionError(f"not deployed yet: {', '.join(missing)}", hint="run `provision apply` first")
    return outputs_from_live(resources, bodies, session.cloud.monitor_audience)
