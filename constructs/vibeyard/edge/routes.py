"""HTTPRoutes for the web tier: ``vibeyard`` on the HTTPS listener, ``vibeyard-https-redirect`` on HTTP.

The HTTPS route sends the host to the web Service, with the request timeout the
nginx annotations used to give (``timeouts.request``, Gateway API's own field).
The metrics path (``/api/metrics``) is not routed: a rule with no backend answers
500 from the edge itself (the spec's required answer), so the app's metrics stay
with Prometheus. The backends stay a list, so a
weighted canary (Argo Rollouts' Gateway API plugin, Flagger's ``gatewayapi:v1``)
can be added later without renaming anything. On port 80 every request is
redirected to HTTPS; cert-manager's HTTP-01 solver attaches its own, more specific
route for ``/.well-known/acme-challenge/`` to the same listener.
"""

from __future__ import annotations

from constructs import Construct

from imports.httproutes.io.k8s.networking import gateway as rt

from ..config.topology import GatewayRef
from ..config.types import EdgeConfig
from ..identity import Identity
from ..kube import Listener, crd_meta


def _prefix(path: str) -> rt.HttpRouteSpecRulesMatches:
    return rt.HttpRouteSpecRulesMatches(
        path=rt.HttpRouteSpecRulesMatchesPath(
            type=rt.HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value=path
        )
    )


def _parent(ref: GatewayRef, listener: str) -> rt.HttpRouteSpecParentRefs:
    namespace = None if ref.owned else ref.namespace
    return rt.HttpRouteSpecParentRefs(name=ref.name, namespace=namespace, section_name=listener)


class WebRoutes(Construct):
    """HTTPRoutes ``<web>`` and ``<web>-https-redirect``.

    :param namespace: the environment's namespace.
    :param ref: the Gateway and its listeners (ours or the platform's).
    :param edge: the host and the request timeout.
    :param backend: the web tier: its Service name and port.
    :param unrouted: a path the edge refuses (the web tier's metrics path).
    :param identity: the web tier's identity, which labels the routes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        namespace: str,
        ref: GatewayRef,
        edge: EdgeConfig,
        backend: Listener,
        unrouted: str,
        identity: Identity,
    ) -> None:
        super().__init__(scope, id)
        timeout = f"{edge.request_timeout_seconds}s"
        rt.HttpRoute(
            self,
            "App",
            metadata=crd_meta(backend.name, namespace, identity),
            spec=rt.HttpRouteSpec(
                parent_refs=[_parent(ref, ref.https_listener)],
                hostnames=[edge.host],
                rules=[
                    rt.HttpRouteSpecRules(matches=[_prefix(unrouted)]),
                    rt.HttpRouteSpecRules(
                        matches=[_prefix("/")],
                        backend_refs=[rt.HttpRouteSpecRulesBackendRefs(name=backend.name, port=backend.port)],
                        timeouts=rt.HttpRouteSpecRulesTimeouts(request=timeout),
                    ),
                ],
            ),
        )
        redirect = rt.HttpRouteSpecRulesFiltersRequestRedirect(
            scheme=rt.HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS,
            status_code=rt.HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301,
        )
        rt.HttpRoute(
            self,
            "Redirect",
            metadata=crd_meta(f"{backend.name}-https-redirect", namespace, identity),
            spec=rt.HttpRouteSpec(
                parent_refs=[_parent(ref, ref.http_listener)],
                hostnames=[edge.host],
                rules=[
                    rt.HttpRouteSpecRules(
                        filters=[
                            rt.HttpRouteSpecRulesFilters(
                                type=rt.HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                                request_redirect=redirect,
                            )
                        ]
                    )
                ],
            ),
        )
