"""A project's per-platform settings: the field mapping and the webhook secrets.

Stored in ``project.platform_config`` as ``{platform: {"mapping": {...},
"secrets": [...]}}``. Secrets are kept as given (verifying an HMAC needs the key
itself) and never answered back: clients see a fingerprint per secret.
"""

from __future__ import annotations

from qc_service.errors import FieldError, InvalidInput, NotFound
from qc_service.platforms import ADAPTERS, Adapter, Mapping, PayloadError, get_adapter
from qc_service.schemas.platforms import PlatformConfigIn, PlatformConfigOut, SecretOut
from qc_service.service.context import Context
from qc_service.service.signatures import decode_secret, fingerprint
from qc_service.store import db
from qc_service.store import webhooks as webhook_store


def adapter_for(platform: str) -> Adapter:
    """The platform's adapter, or a 404 naming the known platforms."""
    try:
        return get_adapter(platform)
    except KeyError:
        raise NotFound(
            f"unknown platform {platform!r}",
            [FieldError("/platform", f"one of {', '.join(sorted(ADAPTERS))}")],
        ) from None


def configure_platform(
    ctx: Context, project_id: str, platform: str, spec: PlatformConfigIn
) -> PlatformConfigOut:
    """Replace the mapping (and the secrets, when given) of one platform."""
    adapter_for(platform)
    try:
        mapping = Mapping.from_dict(spec.mapping)
    except PayloadError as error:
        raise InvalidInput("the mapping is invalid", _field_errors(error)) from None
    secret_errors = []
    for index, secret in enumerate(spec.secrets or []):
        try:
            decode_secret(secret)
        except ValueError as error:
            secret_errors.append(FieldError(f"/secrets/{index}", str(error)))
    if secret_errors:
        raise InvalidInput("a webhook secret is unusable", secret_errors)
    with db.session_scope(ctx.engine, write=True) as session:
        config = webhook_store.platform_config(session, project_id, for_update=True)
        if config is None:
            raise NotFound(f"project {project_id!r} does not exist")
        current = config.get(platform, {})
        secrets = current.get("secrets", []) if spec.secrets is None else list(spec.secrets)
        config[platform] = {"mapping": mapping.to_dict(), "secrets": secrets}
        webhook_store.save_platform_config(session, project_id, config)
    return _out(project_id, platform, config[platform])


def platform_settings(ctx: Context, project_id: str, platform: str) -> PlatformConfigOut:
    """One platform's settings, secrets shown by fingerprint only."""
    adapter_for(platform)
    return _out(project_id, platform, stored_settings(ctx, project_id, platform))


def stored_settings(ctx: Context, project_id: str, platform: str) -> dict:
    """What is stored for the platform (``{}`` when nothing is); 404 without the project.

    Read from the database every time, not from a cache: a rotated or removed secret
    must take effect at once.
    """
    with db.session_scope(ctx.engine) as session:
        config = webhook_store.platform_config(session, project_id)
    if config is None:
        raise NotFound(f"project {project_id!r} does not exist")
    return config.get(platform, {})


def mapping_of(settings: dict) -> Mapping:
    """The stored mapping; it was validated when stored."""
    return Mapping.from_dict(settings.get("mapping"))


def _out(project_id: str, platform: str, settings: dict) -> PlatformConfigOut:
    return PlatformConfigOut(
        platform=platform,
        mapping=settings.get("mapping", {}),
        secrets=[SecretOut(fingerprint=fingerprint(s)) for s in settings.get("secrets", [])],
        webhook_url=f"/api/v1/projects/{project_id}/webhooks/{platform}",
    )


def _field_errors(error: PayloadError) -> list[FieldError]:
    return [FieldError(entry["field"], entry["message"]) for entry in error.errors]
