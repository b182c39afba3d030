"""kura's emulator: moto's server with named patches that make it behave like
AWS where kura depends on it (time, states and their errors, cross-account
snapshot copies, a few missing request fields). See local/moto/README.md."""

from __future__ import annotations

SUPPORTED_MOTO = "5.2."


def apply() -> list[str]:
    """Checks moto's version, installs simulated time and every patch; returns their summaries."""
    import moto

    if not moto.__version__.startswith(SUPPORTED_MOTO):
        raise RuntimeError(
            f"moto {moto.__version__} is installed; kura's emulator patches are written for moto {SUPPORTED_MOTO}x (pip install 'moto[server]>=5.2,<5.3')"
        )
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from . import ec2, events, kms, rds, s3, simtime  # noqa: F401 - registers the patches
    from .patch import apply_all

    simtime.configure_from_environment()
    simtime.install(DomainDispatcherApplication)
    applied = apply_all()
    # CloudFormation's missing resource types and properties (the stack test
    # deploys the packaged template as CloudFormation would).
    from . import cloudformation

    return applied + cloudformation.apply()
