"""The license-check flow shared by `fanremix submit` and the GUI's Submit dialog:
check → grant → render with the record (and the grant) embedded → submit, through the durable outbox.

Qt-free, and free of the service package (the GUI may not import `fanremix.service`, even indirectly), which is why
it is not in `cli_service`. The heavy modules (the HTTP client, C2PA, the renderer) are imported when the flow runs.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .domain.recipe import Recipe
from .workspace import Workspace

if TYPE_CHECKING:
    from .rights.client import RightsClient
    from .rights.identity import FanIdentity
    from .rights.outbox import Outbox, SubmitOutcome

SERVICE_URL_ENV = "FANREMIX_SERVICE_URL"  # wins over the configured service
STEP_CHECK, STEP_GRANT, STEP_RENDER, STEP_SUBMIT = "check", "grant", "render", "submit"
STEPS = (STEP_CHECK, STEP_GRANT, STEP_RENDER, STEP_SUBMIT)
STEP_WORDS = {
    STEP_CHECK: "Checking the recipe against the pack's licence …",
    STEP_GRANT: "Asking the rights service for a grant …",
    STEP_RENDER: "Rendering and signing …",
    STEP_SUBMIT: "Submitting …",
}


def outbox_for(workspace: Workspace) -> "Outbox":
    from .rights.outbox import Outbox

    return Outbox(workspace.paths.data / "outbox")


def service_url(workspace: Workspace, explicit: str | None = None) -> str:
    """The configured service URL, or "" for the local one."""
    from .rights.client import ServiceConfig

    return explicit or os.environ.get(SERVICE_URL_ENV) or ServiceConfig.load(workspace.paths.config).url


def service_identity(client: "RightsClient", workspace: Workspace, passphrase: bytes | None = None) -> "FanIdentity":
    """The fan's C2PA signing identity, certified by this service's CA (asked for once, then reused). `passphrase`
    unlocks a protected signing key, and keeps it protected when the new certificate is saved.

    The service's grant keys are kept in the config folder too, so that grants can be checked offline (`verify`)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from .rights.grants import remember_service_keys
    from .rights.identity import FanIdentity, fan_identity_exists, load_certificates, load_fan_identity, make_csr

    config_dir = workspace.paths.config
    account = client.me()
    keys = client.keys()
    remember_service_keys(config_dir, keys.grant_keys, keys.issuer)
    ca_pem = keys.ca_certificate_pem
    current = load_fan_identity(config_dir, passphrase) if fan_identity_exists(config_dir) else None
    if current is not None:
        issued_by_service = load_certificates(ca_pem, "the service CA")[0] == current.chain[-1]
        if issued_by_service and current.display_name == account.name:
            return current
    key = current.key if current is not None else ec.generate_private_key(ec.SECP256R1())
    issued = client.request_certificate(make_csr(key, account.name))
    identity = FanIdentity(key=key, chain=tuple(load_certificates(issued.chain_pem, "the issued chain")))
    identity.save(config_dir, passphrase)
    return identity


@dataclass(frozen=True)
class SubmitResult:
    outcome: "SubmitOutcome"  # the submission, or the outbox entry it waits in
    exported: Path


def submit_recipe(
    client: "RightsClient",
    outbox: "Outbox",
    workspace: Workspace,
    pack_path: Path,
    recipe: Recipe,
    destination: Path,
    *,
    fmt: str = "wav",
    step: Callable[[str], None] = lambda _name: None,
    render: Callable[..., Any] | None = None,
    passphrase: bytes | None = None,
) -> SubmitResult:
    """Check, grant, render with the record (and the grant) embedded, and submit, queued in the outbox first.

    `step(name)` is called as each of STEPS begins; it may raise to stop the flow there (Cancel). A policy refusal
    raises PolicyRefusedError with every violation before anything is rendered.
    """
    from .provenance_flow import export_with_provenance
    from .rights.client import PolicyRefusedError
    from .rights.packfile import open_pack

    with open_pack(pack_path, workspace.keyring()) as opened:
        step(STEP_CHECK)
        result = client.check(recipe)
        if not result.allowed:
            raise PolicyRefusedError(list(result.violations))
        step(STEP_GRANT)
        grant = client.grant(recipe)
        identity = service_identity(client, workspace, passphrase)
        step(STEP_RENDER)
        exported = export_with_provenance(opened, recipe, destination, fmt, identity, grant, render=render)
    step(STEP_SUBMIT)
    # formats that cannot hold the record (OGG) carry it in a .c2pa sidecar, which goes with the file
    outcome = outbox.submit(client, exported.path, sidecar=exported.sidecar)
    return SubmitResult(outcome=outcome, exported=exported.path)
