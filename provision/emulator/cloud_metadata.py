"""The ARM cloud metadata document (``GET /metadata/endpoints``): where a client finds Entra ID, ARM and Graph.

``az cloud register -n NAME --endpoint-resource-manager URL`` fetches ``URL/metadata/endpoints?api-version=2022-09-01``
and maps it with ``azure.cli.core.cloud._arm_to_cli_mapper`` (azure-cli 2.91, ``command_modules/cloud/custom.py``
``_populate_from_metadata_endpoint``): one JSON object whose ``name``, ``authentication.loginEndpoint`` and
``authentication.audiences`` it requires and whose ``suffixes`` it reads as a mapping; every other key is optional
(``resourceManager``, ``microsoftGraphResourceId``...). There is no OpenAPI document for it; the field names are the
public cloud's (``https://management.azure.com/metadata/endpoints?api-version=2022-09-01``), and the 2015-01-01 shape
(``authentication`` only, plus gallery/graph/portal endpoints the emulator does not serve) is what older azure-cli
releases requested there (the same function with ``api-version=2015-01-01``).

What it says about the emulator, and why:

- ``resourceManager``, ``authentication.loginEndpoint`` and ``microsoftGraphResourceId`` are the emulator's own URL:
  it serves ARM, Entra ID and Graph on one port. az sends Graph calls to ``microsoftGraphResourceId`` and asks for
  tokens for that same resource (azure-cli ``role/_msgrpah/_graph_client.py``), so the token endpoint issues Graph
  tokens for the emulator's URL too (identity.py).
- ``audiences`` lists ``https://management.azure.com/`` first (the public cloud lists
  ``https://management.core.windows.net/`` first): az asks ARM tokens for ``audiences[0]``, and the emulator's ARM
  accepts ``https://management.azure.com`` tokens only.
- Only endpoints the emulator serves are listed: no portal, gallery, AAD Graph (``graph``/``graphAudience``), batch,
  storage or other suffixes (``suffixes`` is empty).

Pure: no I/O.
"""

from __future__ import annotations

from provision.emulator import identity

API_VERSIONS = ("2015-01-01", "2022-09-01")
CLOUD_NAME = "ProvisionLocal"


def document(base_url: str, api_version: str) -> dict:
    """The metadata document for an emulator at ``base_url`` (no trailing slash), in ``api_version``'s shape."""
    authentication = {"loginEndpoint": base_url, "audiences": [identity.ARM_AUDIENCE + "/"]}
    if api_version == "2015-01-01":
        return {"authentication": authentication}
    return {"name": CLOUD_NAME, "resourceManager": base_url + "/",
            "authentication": {**authentication, "tenant": "common", "identityProvider": "AAD"},
            "microsoftGraphResourceId": base_url + "/", "suffixes": {}}
