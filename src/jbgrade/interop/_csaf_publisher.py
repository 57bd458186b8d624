"""Who publishes a CSAF advisory: ``document.publisher`` from settings.

CSAF's ``publisher.namespace`` is the publishing organisation's own URL, so it is a
setting (CLI option, environment), never a constant; unconfigured, it is the reserved
``https://jbgrade.invalid`` (RFC 2606), which names no real organisation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from jbgrade._errors import InputError

__all__ = ["CSAF_PUBLISHER_CATEGORIES", "DEFAULT_CSAF_NAMESPACE", "CsafPublisher", "csaf_publisher"]

#: CSAF ``document.publisher.category`` values (CSAF 2.0 section 3.2.1.8.1).
CSAF_PUBLISHER_CATEGORIES = frozenset(
    {"coordinator", "discoverer", "other", "translator", "user", "vendor"}
)
#: The publisher namespace when none is configured: a reserved ``.invalid`` name
#: (RFC 2606) that never resolves, so an unconfigured export names no real organisation.
DEFAULT_CSAF_NAMESPACE = "https://jbgrade.invalid"


@dataclass(frozen=True)
class CsafPublisher:
    """Who publishes a CSAF advisory (``document.publisher``) and where the JBG scale
    named in ``document.aggregate_severity`` is documented.

    ``namespace`` is the publishing organisation's own URL (CSAF: "the namespace of
    the publisher"); ``severity_namespace`` defaults to ``<namespace>/jbg``. Build it
    with :func:`csaf_publisher`, which reads settings and checks the URLs."""

    name: str = "jbgrade"
    namespace: str = DEFAULT_CSAF_NAMESPACE
    category: str = "other"
    severity_namespace: str | None = None

    @property
    def configured(self) -> bool:
        """Whether the namespace was set (not the ``.invalid`` placeholder)."""
        return self.namespace != DEFAULT_CSAF_NAMESPACE

    def scale_namespace(self) -> str:
        """``aggregate_severity.namespace``: where the JBG scale is documented."""
        return self.severity_namespace or self.namespace.rstrip("/") + "/jbg"


def _url(value: str, setting: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or any(c.isspace() for c in value):
        raise InputError(f"must be an absolute http(s) URL, got {value!r}", field=setting)
    return value


def csaf_publisher(
    *,
    name: str | None = None,
    namespace: str | None = None,
    category: str | None = None,
    severity_namespace: str | None = None,
) -> CsafPublisher:
    """The CSAF publisher: each field from its argument, else its environment variable
    (``JBGRADE_CSAF_PUBLISHER_NAME``, ``JBGRADE_CSAF_PUBLISHER_NAMESPACE``,
    ``JBGRADE_CSAF_PUBLISHER_CATEGORY``, ``JBGRADE_CSAF_SEVERITY_NAMESPACE``), else the
    default (``jbgrade``, ``https://jbgrade.invalid``, ``other``, ``<namespace>/jbg``).
    A namespace that is not an absolute http(s) URL, or an unknown category, is an
    :class:`InputError` naming the setting."""

    def pick(value: str | None, env: str) -> str | None:
        if value is not None:
            return value.strip()
        got = os.environ.get(env, "").strip()
        return got or None

    ns = pick(namespace, "JBGRADE_CSAF_PUBLISHER_NAMESPACE")
    nm = pick(name, "JBGRADE_CSAF_PUBLISHER_NAME")
    cat = pick(category, "JBGRADE_CSAF_PUBLISHER_CATEGORY")
    sev = pick(severity_namespace, "JBGRADE_CSAF_SEVERITY_NAMESPACE")
    if nm is not None and not nm:
        raise InputError("must not be empty", field="csaf publisher name")
    if cat is not None and cat not in CSAF_PUBLISHER_CATEGORIES:
        raise InputError(
            f"unknown category {cat!r}; known: {', '.join(sorted(CSAF_PUBLISHER_CATEGORIES))}",
            field="csaf publisher category",
        )
    return CsafPublisher(
        name=nm or "jbgrade",
        namespace=_url(ns, "csaf publisher namespace") if ns else DEFAULT_CSAF_NAMESPACE,
        category=cat or "other",
        severity_namespace=_url(sev, "csaf severity namespace") if sev else None,
    )
