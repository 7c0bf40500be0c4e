from __future__ import annotations

from pkgutil import extend_path
__path__ = extend_path(__path__, __name__)

import abc
import builtins
import datetime
import enum
import typing

import jsii
import publication
import typing_extensions

from jsii._type_checking import cached_type_hints, check_type


from ._jsii import *

class _LazyImport:
    def __init__(self, module_name: str) -> None:
        self._module_name = module_name
        self._module: typing.Any = None
    def __getattr__(self, name: str) -> typing.Any:
        if self._module is None:
            import importlib
            self._module = importlib.import_module(self._module_name)
        return getattr(self._module, name)

if typing.TYPE_CHECKING:

    import cdk8s as _cdk8s_d3d9af27
    import constructs as _constructs_77d1e7e8
else:

    _cdk8s_d3d9af27 = _LazyImport("cdk8s")
    _constructs_77d1e7e8 = _LazyImport("constructs")


class Gateway(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="gateways_iok8snetworkinggateway.Gateway",
):
    '''Gateway represents an instance of a service-traffic handling infrastructure by binding Listeners to a set of IP addresses.

    A Gateway name SHOULD be compliant with RFC 1035, consisting of a maximum of 63 lower case alphanumeric
    characters or hyphens ('-'), and MUST start and end with an alphanumeric character.

    :schema: Gateway
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        spec: typing.Union["GatewaySpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "Gateway" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7466f79324bc1e4acf8002f44858d3b796d4caa3a6c19d5bc20df0aeb35e0bd6)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = GatewayProps(spec=spec, metadata=metadata)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        spec: typing.Union["GatewaySpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "Gateway".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 
        '''
        props = GatewayProps(spec=spec, metadata=metadata)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "Gateway".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayProps",
    jsii_struct_bases=[],
    name_mapping={"spec": "spec", "metadata": "metadata"},
)
class GatewayProps:
    def __init__(
        self,
        *,
        spec: typing.Union["GatewaySpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Gateway represents an instance of a service-traffic handling infrastructure by binding Listeners to a set of IP addresses.

        A Gateway name SHOULD be compliant with RFC 1035, consisting of a maximum of 63 lower case alphanumeric
        characters or hyphens ('-'), and MUST start and end with an alphanumeric character.

        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 

        :schema: Gateway
        '''
        if isinstance(spec, dict):
            spec = GatewaySpec(**spec)
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b70655c313ad55dabb10efae5c0881a1af721e210d073cd4f830335293cd998f)
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "spec": spec,
        }
        if metadata is not None:
            self._values["metadata"] = metadata

    @builtins.property
    def spec(self) -> "GatewaySpec":
        '''Spec defines the desired state of Gateway.

        :schema: Gateway#spec
        '''
        result = self._values.get("spec")
        assert result is not None, "Required property 'spec' is missing"
        return typing.cast("GatewaySpec", result)

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: Gateway#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayProps(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpec",
    jsii_struct_bases=[],
    name_mapping={
        "gateway_class_name": "gatewayClassName",
        "listeners": "listeners",
        "addresses": "addresses",
        "allowed_listeners": "allowedListeners",
        "infrastructure": "infrastructure",
        "tls": "tls",
    },
)
class GatewaySpec:
    def __init__(
        self,
        *,
        gateway_class_name: builtins.str,
        listeners: typing.Sequence[typing.Union["GatewaySpecListeners", typing.Dict[builtins.str, typing.Any]]],
        addresses: typing.Optional[typing.Sequence[typing.Union["GatewaySpecAddresses", typing.Dict[builtins.str, typing.Any]]]] = None,
        allowed_listeners: typing.Optional[typing.Union["GatewaySpecAllowedListeners", typing.Dict[builtins.str, typing.Any]]] = None,
        infrastructure: typing.Optional[typing.Union["GatewaySpecInfrastructure", typing.Dict[builtins.str, typing.Any]]] = None,
        tls: typing.Optional[typing.Union["GatewaySpecTls", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Spec defines the desired state of Gateway.

        :param gateway_class_name: GatewayClassName used for this Gateway. This is the name of a GatewayClass resource.
        :param listeners: Listeners associated with this Gateway. Listeners define logical endpoints that are bound on this Gateway's addresses. At least one Listener MUST be specified. Distinct Listeners Each Listener in a set of Listeners (for example, in a single Gateway) MUST be *distinct*, in that a traffic flow MUST be able to be assigned to exactly one listener. (This section uses "set of Listeners" rather than "Listeners in a single Gateway" because implementations MAY merge configuration from multiple Gateways onto a single data plane, and these rules *also* apply in that case). Practically, this means that each listener in a set MUST have a unique combination of Port, Protocol, and, if supported by the protocol, Hostname. Some combinations of port, protocol, and TLS settings are considered Core support and MUST be supported by implementations based on the objects they support: HTTPRoute 1. HTTPRoute, Port: 80, Protocol: HTTP 2. HTTPRoute, Port: 443, Protocol: HTTPS, TLS Mode: Terminate, TLS keypair provided TLSRoute 1. TLSRoute, Port: 443, Protocol: TLS, TLS Mode: Passthrough "Distinct" Listeners have the following property: **The implementation can match inbound requests to a single distinct Listener**. When multiple Listeners share values for fields (for example, two Listeners with the same Port value), the implementation can match requests to only one of the Listeners using other Listener fields. When multiple listeners have the same value for the Protocol field, then each of the Listeners with matching Protocol values MUST have different values for other fields. The set of fields that MUST be different for a Listener differs per protocol. The following rules define the rules for what fields MUST be considered for Listeners to be distinct with each protocol currently defined in the Gateway API spec. The set of listeners that all share a protocol value MUST have *different* values for *at least one* of these fields to be distinct: - **HTTP, HTTPS, TLS**: Port, Hostname - **TCP, UDP**: Port One **very** important rule to call out involves what happens when an implementation: - Supports TCP protocol Listeners, as well as HTTP, HTTPS, or TLS protocol Listeners, and - sees HTTP, HTTPS, or TLS protocols with the same ``port`` as one with TCP Protocol. In this case all the Listeners that share a port with the TCP Listener are not distinct and so MUST NOT be accepted. If an implementation does not support TCP Protocol Listeners, then the previous rule does not apply, and the TCP Listeners SHOULD NOT be accepted. Note that the ``tls`` field is not used for determining if a listener is distinct, because Listeners that *only* differ on TLS config will still conflict in all cases. Listeners that are distinct only by Hostname When the Listeners are distinct based only on Hostname, inbound request hostnames MUST match from the most specific to least specific Hostname values to choose the correct Listener and its associated set of Routes. Exact matches MUST be processed before wildcard matches, and wildcard matches MUST be processed before fallback (empty Hostname value) matches. For example, ``"foo.example.com"`` takes precedence over ``"*.example.com"``, and ``"*.example.com"`` takes precedence over ``""``. Additionally, if there are multiple wildcard entries, more specific wildcard entries must be processed before less specific wildcard entries. For example, ``"*.foo.example.com"`` takes precedence over ``"*.example.com"``. The precise definition here is that the higher the number of dots in the hostname to the right of the wildcard character, the higher the precedence. The wildcard character will match any number of characters *and dots* to the left, however, so ``"*.example.com"`` will match both ``"foo.bar.example.com"`` *and* ``"bar.example.com"``. Handling indistinct Listeners If a set of Listeners contains Listeners that are not distinct, then those Listeners are *Conflicted*, and the implementation MUST set the "Conflicted" condition in the Listener Status to "True". The words "indistinct" and "conflicted" are considered equivalent for the purpose of this documentation. Implementations MAY choose to accept a Gateway with some Conflicted Listeners only if they only accept the partial Listener set that contains no Conflicted Listeners. Specifically, an implementation MAY accept a partial Listener set subject to the following rules: - The implementation MUST NOT pick one conflicting Listener as the winner. ALL indistinct Listeners must not be accepted for processing. - At least one distinct Listener MUST be present, or else the Gateway effectively contains *no* Listeners, and must be rejected from processing as a whole. The implementation MUST set a "ListenersNotValid" condition on the Gateway Status when the Gateway contains Conflicted Listeners whether or not they accept the Gateway. That Condition SHOULD clearly indicate in the Message which Listeners are conflicted, and which are Accepted. Additionally, the Listener status for those listeners SHOULD indicate which Listeners are conflicted and not Accepted. General Listener behavior Note that, for all distinct Listeners, requests SHOULD match at most one Listener. For example, if Listeners are defined for "foo.example.com" and "*.example.com", a request to "foo.example.com" SHOULD only be routed using routes attached to the "foo.example.com" Listener (and not the "*.example.com" Listener). If traffic to a Gateway does not match any Listener's hostname (or if the Listener does not specify a hostname and the request does not match any attached Route), the request MUST be rejected. The specific mechanism for rejection depends on the protocol: HTTP returns a 404 status code, while gRPC returns an Unimplemented status code. This concept is known as "Listener Isolation", and it is an Extended feature of Gateway API. Implementations that do not support Listener Isolation MUST clearly document this, and MUST NOT claim support for the ``GatewayHTTPListenerIsolation`` feature. Implementations that *do* support Listener Isolation SHOULD claim support for the Extended ``GatewayHTTPListenerIsolation`` feature and pass the associated conformance tests. Compatible Listeners A Gateway's Listeners are considered *compatible* if: 1. They are distinct. 2. The implementation can serve them in compliance with the Addresses requirement that all Listeners are available on all assigned addresses. Compatible combinations in Extended support are expected to vary across implementations. A combination that is compatible for one implementation may not be compatible for another. For example, an implementation that cannot serve both TCP and UDP listeners on the same address, or cannot mix HTTPS and generic TLS listens on the same port would not consider those cases compatible, even though they are distinct. Implementations MAY merge separate Gateways onto a single set of Addresses if all Listeners across all Gateways are compatible. In a future release the MinItems=1 requirement MAY be dropped. Support: Core
        :param addresses: Addresses requested for this Gateway. This is optional and behavior can depend on the implementation. If a value is set in the spec and the requested address is invalid or unavailable, the implementation MUST indicate this in an associated entry in GatewayStatus.Conditions. The Addresses field represents a request for the address(es) on the "outside of the Gateway", that traffic bound for this Gateway will use. This could be the IP address or hostname of an external load balancer or other networking infrastructure, or some other address that traffic will be sent to. If no Addresses are specified, the implementation MAY schedule the Gateway in an implementation-specific manner, assigning an appropriate set of Addresses. The implementation MUST bind all Listeners to every GatewayAddress that it assigns to the Gateway and add a corresponding entry in GatewayStatus.Addresses. Support: Extended
        :param allowed_listeners: AllowedListeners defines which ListenerSets can be attached to this Gateway. The default value is to allow no ListenerSets.
        :param infrastructure: Infrastructure defines infrastructure level attributes about this Gateway instance. Support: Extended
        :param tls: TLS specifies frontend and backend tls configuration for entire gateway. Support: Extended

        :schema: GatewaySpec
        '''
        if isinstance(allowed_listeners, dict):
            allowed_listeners = GatewaySpecAllowedListeners(**allowed_listeners)
        if isinstance(infrastructure, dict):
            infrastructure = GatewaySpecInfrastructure(**infrastructure)
        if isinstance(tls, dict):
            tls = GatewaySpecTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__714cee2a569068a44bd4f27e1afe1b256fc318f3934edde1eb507f981cf9d51a)
            check_type(argname="argument gateway_class_name", value=gateway_class_name, expected_type=type_hints["gateway_class_name"])
            check_type(argname="argument listeners", value=listeners, expected_type=type_hints["listeners"])
            check_type(argname="argument addresses", value=addresses, expected_type=type_hints["addresses"])
            check_type(argname="argument allowed_listeners", value=allowed_listeners, expected_type=type_hints["allowed_listeners"])
            check_type(argname="argument infrastructure", value=infrastructure, expected_type=type_hints["infrastructure"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "gateway_class_name": gateway_class_name,
            "listeners": listeners,
        }
        if addresses is not None:
            self._values["addresses"] = addresses
        if allowed_listeners is not None:
            self._values["allowed_listeners"] = allowed_listeners
        if infrastructure is not None:
            self._values["infrastructure"] = infrastructure
        if tls is not None:
            self._values["tls"] = tls

    @builtins.property
    def gateway_class_name(self) -> builtins.str:
        '''GatewayClassName used for this Gateway.

        This is the name of a
        GatewayClass resource.

        :schema: GatewaySpec#gatewayClassName
        '''
        result = self._values.get("gateway_class_name")
        assert result is not None, "Required property 'gateway_class_name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def listeners(self) -> typing.List["GatewaySpecListeners"]:
        '''Listeners associated with this Gateway.

        Listeners define
        logical endpoints that are bound on this Gateway's addresses.
        At least one Listener MUST be specified.


        Distinct Listeners

        Each Listener in a set of Listeners (for example, in a single Gateway)
        MUST be *distinct*, in that a traffic flow MUST be able to be assigned to
        exactly one listener. (This section uses "set of Listeners" rather than
        "Listeners in a single Gateway" because implementations MAY merge configuration
        from multiple Gateways onto a single data plane, and these rules *also*
        apply in that case).

        Practically, this means that each listener in a set MUST have a unique
        combination of Port, Protocol, and, if supported by the protocol, Hostname.

        Some combinations of port, protocol, and TLS settings are considered
        Core support and MUST be supported by implementations based on the objects
        they support:

        HTTPRoute

        1. HTTPRoute, Port: 80, Protocol: HTTP
        2. HTTPRoute, Port: 443, Protocol: HTTPS, TLS Mode: Terminate, TLS keypair provided

        TLSRoute

        1. TLSRoute, Port: 443, Protocol: TLS, TLS Mode: Passthrough

        "Distinct" Listeners have the following property:

        **The implementation can match inbound requests to a single distinct
        Listener**.

        When multiple Listeners share values for fields (for
        example, two Listeners with the same Port value), the implementation
        can match requests to only one of the Listeners using other
        Listener fields.

        When multiple listeners have the same value for the Protocol field, then
        each of the Listeners with matching Protocol values MUST have different
        values for other fields.

        The set of fields that MUST be different for a Listener differs per protocol.
        The following rules define the rules for what fields MUST be considered for
        Listeners to be distinct with each protocol currently defined in the
        Gateway API spec.

        The set of listeners that all share a protocol value MUST have *different*
        values for *at least one* of these fields to be distinct:

        - **HTTP, HTTPS, TLS**: Port, Hostname
        - **TCP, UDP**: Port

        One **very** important rule to call out involves what happens when an
        implementation:

        - Supports TCP protocol Listeners, as well as HTTP, HTTPS, or TLS protocol
          Listeners, and
        - sees HTTP, HTTPS, or TLS protocols with the same ``port`` as one with TCP
          Protocol.

        In this case all the Listeners that share a port with the
        TCP Listener are not distinct and so MUST NOT be accepted.

        If an implementation does not support TCP Protocol Listeners, then the
        previous rule does not apply, and the TCP Listeners SHOULD NOT be
        accepted.

        Note that the ``tls`` field is not used for determining if a listener is distinct, because
        Listeners that *only* differ on TLS config will still conflict in all cases.


        Listeners that are distinct only by Hostname

        When the Listeners are distinct based only on Hostname, inbound request
        hostnames MUST match from the most specific to least specific Hostname
        values to choose the correct Listener and its associated set of Routes.

        Exact matches MUST be processed before wildcard matches, and wildcard
        matches MUST be processed before fallback (empty Hostname value)
        matches. For example, ``"foo.example.com"`` takes precedence over
        ``"*.example.com"``, and ``"*.example.com"`` takes precedence over ``""``.

        Additionally, if there are multiple wildcard entries, more specific
        wildcard entries must be processed before less specific wildcard entries.
        For example, ``"*.foo.example.com"`` takes precedence over ``"*.example.com"``.

        The precise definition here is that the higher the number of dots in the
        hostname to the right of the wildcard character, the higher the precedence.

        The wildcard character will match any number of characters *and dots* to
        the left, however, so ``"*.example.com"`` will match both
        ``"foo.bar.example.com"`` *and* ``"bar.example.com"``.


        Handling indistinct Listeners

        If a set of Listeners contains Listeners that are not distinct, then those
        Listeners are *Conflicted*, and the implementation MUST set the "Conflicted"
        condition in the Listener Status to "True".

        The words "indistinct" and "conflicted" are considered equivalent for the
        purpose of this documentation.

        Implementations MAY choose to accept a Gateway with some Conflicted
        Listeners only if they only accept the partial Listener set that contains
        no Conflicted Listeners.

        Specifically, an implementation MAY accept a partial Listener set subject to
        the following rules:

        - The implementation MUST NOT pick one conflicting Listener as the winner.
          ALL indistinct Listeners must not be accepted for processing.
        - At least one distinct Listener MUST be present, or else the Gateway effectively
          contains *no* Listeners, and must be rejected from processing as a whole.

        The implementation MUST set a "ListenersNotValid" condition on the
        Gateway Status when the Gateway contains Conflicted Listeners whether or
        not they accept the Gateway. That Condition SHOULD clearly
        indicate in the Message which Listeners are conflicted, and which are
        Accepted. Additionally, the Listener status for those listeners SHOULD
        indicate which Listeners are conflicted and not Accepted.


        General Listener behavior

        Note that, for all distinct Listeners, requests SHOULD match at most one Listener.
        For example, if Listeners are defined for "foo.example.com" and "*.example.com", a
        request to "foo.example.com" SHOULD only be routed using routes attached
        to the "foo.example.com" Listener (and not the "*.example.com" Listener).

        If traffic to a Gateway does not match any Listener's hostname (or if
        the Listener does not specify a hostname and the request does not match
        any attached Route), the request MUST be rejected. The specific mechanism
        for rejection depends on the protocol: HTTP returns a 404 status code,
        while gRPC returns an Unimplemented status code.

        This concept is known as "Listener Isolation", and it is an Extended feature
        of Gateway API. Implementations that do not support Listener Isolation MUST
        clearly document this, and MUST NOT claim support for the
        ``GatewayHTTPListenerIsolation`` feature.

        Implementations that *do* support Listener Isolation SHOULD claim support
        for the Extended ``GatewayHTTPListenerIsolation`` feature and pass the associated
        conformance tests.


        Compatible Listeners

        A Gateway's Listeners are considered *compatible* if:

        1. They are distinct.
        2. The implementation can serve them in compliance with the Addresses
           requirement that all Listeners are available on all assigned
           addresses.

        Compatible combinations in Extended support are expected to vary across
        implementations. A combination that is compatible for one implementation
        may not be compatible for another.

        For example, an implementation that cannot serve both TCP and UDP listeners
        on the same address, or cannot mix HTTPS and generic TLS listens on the same port
        would not consider those cases compatible, even though they are distinct.

        Implementations MAY merge separate Gateways onto a single set of
        Addresses if all Listeners across all Gateways are compatible.

        In a future release the MinItems=1 requirement MAY be dropped.

        Support: Core

        :schema: GatewaySpec#listeners
        '''
        result = self._values.get("listeners")
        assert result is not None, "Required property 'listeners' is missing"
        return typing.cast(typing.List["GatewaySpecListeners"], result)

    @builtins.property
    def addresses(self) -> typing.Optional[typing.List["GatewaySpecAddresses"]]:
        '''Addresses requested for this Gateway.

        This is optional and behavior can
        depend on the implementation. If a value is set in the spec and the
        requested address is invalid or unavailable, the implementation MUST
        indicate this in an associated entry in GatewayStatus.Conditions.

        The Addresses field represents a request for the address(es) on the
        "outside of the Gateway", that traffic bound for this Gateway will use.
        This could be the IP address or hostname of an external load balancer or
        other networking infrastructure, or some other address that traffic will
        be sent to.

        If no Addresses are specified, the implementation MAY schedule the
        Gateway in an implementation-specific manner, assigning an appropriate
        set of Addresses.

        The implementation MUST bind all Listeners to every GatewayAddress that
        it assigns to the Gateway and add a corresponding entry in
        GatewayStatus.Addresses.

        Support: Extended

        :schema: GatewaySpec#addresses
        '''
        result = self._values.get("addresses")
        return typing.cast(typing.Optional[typing.List["GatewaySpecAddresses"]], result)

    @builtins.property
    def allowed_listeners(self) -> typing.Optional["GatewaySpecAllowedListeners"]:
        '''AllowedListeners defines which ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :schema: GatewaySpec#allowedListeners
        '''
        result = self._values.get("allowed_listeners")
        return typing.cast(typing.Optional["GatewaySpecAllowedListeners"], result)

    @builtins.property
    def infrastructure(self) -> typing.Optional["GatewaySpecInfrastructure"]:
        '''Infrastructure defines infrastructure level attributes about this Gateway instance.

        Support: Extended

        :schema: GatewaySpec#infrastructure
        '''
        result = self._values.get("infrastructure")
        return typing.cast(typing.Optional["GatewaySpecInfrastructure"], result)

    @builtins.property
    def tls(self) -> typing.Optional["GatewaySpecTls"]:
        '''TLS specifies frontend and backend tls configuration for entire gateway.

        Support: Extended

        :schema: GatewaySpec#tls
        '''
        result = self._values.get("tls")
        return typing.cast(typing.Optional["GatewaySpecTls"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAddresses",
    jsii_struct_bases=[],
    name_mapping={"type": "type", "value": "value"},
)
class GatewaySpecAddresses:
    def __init__(
        self,
        *,
        type: typing.Optional[builtins.str] = None,
        value: typing.Optional[builtins.str] = None,
    ) -> None:
        '''GatewaySpecAddress describes an address that can be bound to a Gateway.

        :param type: Type of the address.
        :param value: When a value is unspecified, an implementation SHOULD automatically assign an address matching the requested type if possible. If an implementation does not support an empty value, they MUST set the "Programmed" condition in status to False with a reason of "AddressNotAssigned". Examples: ``1.2.3.4``, ``128::1``, ``my-ip-address``.

        :schema: GatewaySpecAddresses
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__317b9a2201c7ab05f9434c0b740f446f86aa9e8d20e98da6b475e3c073a0501e)
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if type is not None:
            self._values["type"] = type
        if value is not None:
            self._values["value"] = value

    @builtins.property
    def type(self) -> typing.Optional[builtins.str]:
        '''Type of the address.

        :schema: GatewaySpecAddresses#type
        '''
        result = self._values.get("type")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def value(self) -> typing.Optional[builtins.str]:
        '''When a value is unspecified, an implementation SHOULD automatically assign an address matching the requested type if possible.

        If an implementation does not support an empty value, they MUST set the
        "Programmed" condition in status to False with a reason of "AddressNotAssigned".

        Examples: ``1.2.3.4``, ``128::1``, ``my-ip-address``.

        :schema: GatewaySpecAddresses#value
        '''
        result = self._values.get("value")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecAddresses(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAllowedListeners",
    jsii_struct_bases=[],
    name_mapping={"namespaces": "namespaces"},
)
class GatewaySpecAllowedListeners:
    def __init__(
        self,
        *,
        namespaces: typing.Optional[typing.Union["GatewaySpecAllowedListenersNamespaces", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''AllowedListeners defines which ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :param namespaces: Namespaces defines which namespaces ListenerSets can be attached to this Gateway. The default value is to allow no ListenerSets.

        :schema: GatewaySpecAllowedListeners
        '''
        if isinstance(namespaces, dict):
            namespaces = GatewaySpecAllowedListenersNamespaces(**namespaces)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4481fab3efe945e7d4d5fdceb4fb574165dde98fcf8b7bd4bbf08124802f38e9)
            check_type(argname="argument namespaces", value=namespaces, expected_type=type_hints["namespaces"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if namespaces is not None:
            self._values["namespaces"] = namespaces

    @builtins.property
    def namespaces(self) -> typing.Optional["GatewaySpecAllowedListenersNamespaces"]:
        '''Namespaces defines which namespaces ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :schema: GatewaySpecAllowedListeners#namespaces
        '''
        result = self._values.get("namespaces")
        return typing.cast(typing.Optional["GatewaySpecAllowedListenersNamespaces"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecAllowedListeners(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAllowedListenersNamespaces",
    jsii_struct_bases=[],
    name_mapping={"from_": "from", "selector": "selector"},
)
class GatewaySpecAllowedListenersNamespaces:
    def __init__(
        self,
        *,
        from_: typing.Optional["GatewaySpecAllowedListenersNamespacesFrom"] = None,
        selector: typing.Optional[typing.Union["GatewaySpecAllowedListenersNamespacesSelector", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Namespaces defines which namespaces ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :param from_: From indicates where ListenerSets can attach to this Gateway. Possible values are:. - Same: Only ListenerSets in the same namespace may be attached to this Gateway. - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway. - All: ListenerSets in all namespaces may be attached to this Gateway. - None: Only listeners defined in the Gateway's spec are allowed The default value None
        :param selector: Selector must be specified when From is set to "Selector". In that case, only ListenerSets in Namespaces matching this Selector will be selected by this Gateway. This field is ignored for other values of "From".

        :schema: GatewaySpecAllowedListenersNamespaces
        '''
        if isinstance(selector, dict):
            selector = GatewaySpecAllowedListenersNamespacesSelector(**selector)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f6beb69b837a4b4f267d0414366069c55a66600bda0870de748b623ed79bfd81)
            check_type(argname="argument from_", value=from_, expected_type=type_hints["from_"])
            check_type(argname="argument selector", value=selector, expected_type=type_hints["selector"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if from_ is not None:
            self._values["from_"] = from_
        if selector is not None:
            self._values["selector"] = selector

    @builtins.property
    def from_(self) -> typing.Optional["GatewaySpecAllowedListenersNamespacesFrom"]:
        '''From indicates where ListenerSets can attach to this Gateway. Possible values are:.

        - Same: Only ListenerSets in the same namespace may be attached to this Gateway.
        - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway.
        - All: ListenerSets in all namespaces may be attached to this Gateway.
        - None: Only listeners defined in the Gateway's spec are allowed

        The default value None

        :schema: GatewaySpecAllowedListenersNamespaces#from
        '''
        result = self._values.get("from_")
        return typing.cast(typing.Optional["GatewaySpecAllowedListenersNamespacesFrom"], result)

    @builtins.property
    def selector(
        self,
    ) -> typing.Optional["GatewaySpecAllowedListenersNamespacesSelector"]:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only ListenerSets in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        :schema: GatewaySpecAllowedListenersNamespaces#selector
        '''
        result = self._values.get("selector")
        return typing.cast(typing.Optional["GatewaySpecAllowedListenersNamespacesSelector"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecAllowedListenersNamespaces(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAllowedListenersNamespacesFrom"
)
class GatewaySpecAllowedListenersNamespacesFrom(enum.Enum):
    '''From indicates where ListenerSets can attach to this Gateway. Possible values are:.

    - Same: Only ListenerSets in the same namespace may be attached to this Gateway.
    - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway.
    - All: ListenerSets in all namespaces may be attached to this Gateway.
    - None: Only listeners defined in the Gateway's spec are allowed

    The default value None

    :schema: GatewaySpecAllowedListenersNamespacesFrom
    '''

    ALL = "ALL"
    '''All.'''
    SELECTOR = "SELECTOR"
    '''Selector.'''
    SAME = "SAME"
    '''Same.'''
    NONE = "NONE"
    '''None.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAllowedListenersNamespacesSelector",
    jsii_struct_bases=[],
    name_mapping={
        "match_expressions": "matchExpressions",
        "match_labels": "matchLabels",
    },
)
class GatewaySpecAllowedListenersNamespacesSelector:
    def __init__(
        self,
        *,
        match_expressions: typing.Optional[typing.Sequence[typing.Union["GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions", typing.Dict[builtins.str, typing.Any]]]] = None,
        match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only ListenerSets in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        :param match_expressions: matchExpressions is a list of label selector requirements. The requirements are ANDed.
        :param match_labels: matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewaySpecAllowedListenersNamespacesSelector
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__67591f20d6856ac21604151b4bbcb035a55283140097329495e290ff39acad31)
            check_type(argname="argument match_expressions", value=match_expressions, expected_type=type_hints["match_expressions"])
            check_type(argname="argument match_labels", value=match_labels, expected_type=type_hints["match_labels"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if match_expressions is not None:
            self._values["match_expressions"] = match_expressions
        if match_labels is not None:
            self._values["match_labels"] = match_labels

    @builtins.property
    def match_expressions(
        self,
    ) -> typing.Optional[typing.List["GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions"]]:
        '''matchExpressions is a list of label selector requirements.

        The requirements are ANDed.

        :schema: GatewaySpecAllowedListenersNamespacesSelector#matchExpressions
        '''
        result = self._values.get("match_expressions")
        return typing.cast(typing.Optional[typing.List["GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions"]], result)

    @builtins.property
    def match_labels(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''matchLabels is a map of {key,value} pairs.

        A single {key,value} in the matchLabels
        map is equivalent to an element of matchExpressions, whose key field is "key", the
        operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewaySpecAllowedListenersNamespacesSelector#matchLabels
        '''
        result = self._values.get("match_labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecAllowedListenersNamespacesSelector(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "operator": "operator", "values": "values"},
)
class GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions:
    def __init__(
        self,
        *,
        key: builtins.str,
        operator: builtins.str,
        values: typing.Optional[typing.Sequence[builtins.str]] = None,
    ) -> None:
        '''A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.

        :param key: key is the label key that the selector applies to.
        :param operator: operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.
        :param values: values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.

        :schema: GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4d69b3b414136c9746a117799e24de53136f88d1058d4442f6538b836206430a)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument operator", value=operator, expected_type=type_hints["operator"])
            check_type(argname="argument values", value=values, expected_type=type_hints["values"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "operator": operator,
        }
        if values is not None:
            self._values["values"] = values

    @builtins.property
    def key(self) -> builtins.str:
        '''key is the label key that the selector applies to.

        :schema: GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def operator(self) -> builtins.str:
        '''operator represents a key's relationship to a set of values.

        Valid operators are In, NotIn, Exists and DoesNotExist.

        :schema: GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions#operator
        '''
        result = self._values.get("operator")
        assert result is not None, "Required property 'operator' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def values(self) -> typing.Optional[typing.List[builtins.str]]:
        '''values is an array of string values.

        If the operator is In or NotIn,
        the values array must be non-empty. If the operator is Exists or DoesNotExist,
        the values array must be empty. This array is replaced during a strategic
        merge patch.

        :schema: GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions#values
        '''
        result = self._values.get("values")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecInfrastructure",
    jsii_struct_bases=[],
    name_mapping={
        "annotations": "annotations",
        "labels": "labels",
        "parameters_ref": "parametersRef",
    },
)
class GatewaySpecInfrastructure:
    def __init__(
        self,
        *,
        annotations: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
        labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
        parameters_ref: typing.Optional[typing.Union["GatewaySpecInfrastructureParametersRef", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Infrastructure defines infrastructure level attributes about this Gateway instance.

        Support: Extended

        :param annotations: Annotations that SHOULD be applied to any resources created in response to this Gateway. For implementations creating other Kubernetes objects, this should be the ``metadata.annotations`` field on resources. For other implementations, this refers to any relevant (implementation specific) "annotations" concepts. An implementation may chose to add additional implementation-specific annotations as they see fit. Support: Extended
        :param labels: Labels that SHOULD be applied to any resources created in response to this Gateway. For implementations creating other Kubernetes objects, this should be the ``metadata.labels`` field on resources. For other implementations, this refers to any relevant (implementation specific) "labels" concepts. An implementation may chose to add additional implementation-specific labels as they see fit. If an implementation maps these labels to Pods, or any other resource that would need to be recreated when labels change, it SHOULD clearly warn about this behavior in documentation. Support: Extended
        :param parameters_ref: ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway. This is optional if the controller does not require any additional configuration. This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified, the merging behavior is implementation specific. It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway. If the referent cannot be found, refers to an unsupported kind, or when the data within that resource is malformed, the Gateway SHOULD be rejected with the "Accepted" status condition set to "False" and an "InvalidParameters" reason. Support: Implementation-specific

        :schema: GatewaySpecInfrastructure
        '''
        if isinstance(parameters_ref, dict):
            parameters_ref = GatewaySpecInfrastructureParametersRef(**parameters_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c033cf11f5732dda472e14a071833cf145f3b61542234ecd2d061951c03fc7bd)
            check_type(argname="argument annotations", value=annotations, expected_type=type_hints["annotations"])
            check_type(argname="argument labels", value=labels, expected_type=type_hints["labels"])
            check_type(argname="argument parameters_ref", value=parameters_ref, expected_type=type_hints["parameters_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if annotations is not None:
            self._values["annotations"] = annotations
        if labels is not None:
            self._values["labels"] = labels
        if parameters_ref is not None:
            self._values["parameters_ref"] = parameters_ref

    @builtins.property
    def annotations(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Annotations that SHOULD be applied to any resources created in response to this Gateway.

        For implementations creating other Kubernetes objects, this should be the ``metadata.annotations`` field on resources.
        For other implementations, this refers to any relevant (implementation specific) "annotations" concepts.

        An implementation may chose to add additional implementation-specific annotations as they see fit.

        Support: Extended

        :schema: GatewaySpecInfrastructure#annotations
        '''
        result = self._values.get("annotations")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    @builtins.property
    def labels(self) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Labels that SHOULD be applied to any resources created in response to this Gateway.

        For implementations creating other Kubernetes objects, this should be the ``metadata.labels`` field on resources.
        For other implementations, this refers to any relevant (implementation specific) "labels" concepts.

        An implementation may chose to add additional implementation-specific labels as they see fit.

        If an implementation maps these labels to Pods, or any other resource that would need to be recreated when labels
        change, it SHOULD clearly warn about this behavior in documentation.

        Support: Extended

        :schema: GatewaySpecInfrastructure#labels
        '''
        result = self._values.get("labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    @builtins.property
    def parameters_ref(
        self,
    ) -> typing.Optional["GatewaySpecInfrastructureParametersRef"]:
        '''ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway.

        This is optional if the
        controller does not require any additional configuration.

        This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis

        The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified,
        the merging behavior is implementation specific.
        It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway.

        If the referent cannot be found, refers to an unsupported kind, or when
        the data within that resource is malformed, the Gateway SHOULD be
        rejected with the "Accepted" status condition set to "False" and an
        "InvalidParameters" reason.

        Support: Implementation-specific

        :schema: GatewaySpecInfrastructure#parametersRef
        '''
        result = self._values.get("parameters_ref")
        return typing.cast(typing.Optional["GatewaySpecInfrastructureParametersRef"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecInfrastructure(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecInfrastructureParametersRef",
    jsii_struct_bases=[],
    name_mapping={"group": "group", "kind": "kind", "name": "name"},
)
class GatewaySpecInfrastructureParametersRef:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
    ) -> None:
        '''ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway.

        This is optional if the
        controller does not require any additional configuration.

        This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis

        The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified,
        the merging behavior is implementation specific.
        It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway.

        If the referent cannot be found, refers to an unsupported kind, or when
        the data within that resource is malformed, the Gateway SHOULD be
        rejected with the "Accepted" status condition set to "False" and an
        "InvalidParameters" reason.

        Support: Implementation-specific

        :param group: Group is the group of the referent.
        :param kind: Kind is kind of the referent.
        :param name: Name is the name of the referent.

        :schema: GatewaySpecInfrastructureParametersRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4fd6dfca5374a711a9aa5c4667bf3ed5f1d40b25d4e2080591abaf7fc2ef0738)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        :schema: GatewaySpecInfrastructureParametersRef#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        :schema: GatewaySpecInfrastructureParametersRef#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewaySpecInfrastructureParametersRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecInfrastructureParametersRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListeners",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "port": "port",
        "protocol": "protocol",
        "allowed_routes": "allowedRoutes",
        "hostname": "hostname",
        "tls": "tls",
    },
)
class GatewaySpecListeners:
    def __init__(
        self,
        *,
        name: builtins.str,
        port: jsii.Number,
        protocol: builtins.str,
        allowed_routes: typing.Optional[typing.Union["GatewaySpecListenersAllowedRoutes", typing.Dict[builtins.str, typing.Any]]] = None,
        hostname: typing.Optional[builtins.str] = None,
        tls: typing.Optional[typing.Union["GatewaySpecListenersTls", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Listener embodies the concept of a logical endpoint where a Gateway accepts network connections.

        :param name: Name is the name of the Listener. This name MUST be unique within a Gateway. Support: Core
        :param port: Port is the network port. Multiple listeners may use the same port, subject to the Listener compatibility rules. Support: Core
        :param protocol: Protocol specifies the network protocol this listener expects to receive. Support: Core
        :param allowed_routes: AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present. Although a client request may match multiple route rules, only one rule may ultimately receive the request. Matching precedence MUST be determined in order of the following criteria: - The most specific match as defined by the Route type. - The oldest Route based on creation timestamp. For example, a Route with a creation timestamp of "2020-09-08 01:02:03" is given precedence over a Route with a creation timestamp of "2020-09-08 01:02:04". - If everything else is equivalent, the Route appearing first in alphabetical order (namespace/name) should be given precedence. For example, foo/bar is given precedence over foo/baz. All valid rules within a Route attached to this Listener should be implemented. Invalid Route rules can be ignored (sometimes that will mean the full Route). If a Route rule transitions from valid to invalid, support for that Route rule should be dropped to ensure consistency. For example, even if a filter specified by a Route rule is invalid, the rest of the rules within that Route should still be supported. Support: Core
        :param hostname: Hostname specifies the virtual hostname to match for protocol types that define this concept. When unspecified, all hostnames are matched. This field is ignored for protocols that don't require hostname based matching. Implementations MUST apply Hostname matching appropriately for each of the following protocols: - TLS: The Listener Hostname MUST match the SNI. - HTTP: The Listener Hostname MUST match the Host header of the request. - HTTPS: The Listener Hostname SHOULD match both the SNI and Host header. Note that this does not require the SNI and Host header to be the same. The semantics of this are described in more detail below. To ensure security, Section 11.1 of RFC-6066 emphasizes that server implementations that rely on SNI hostname matching MUST also verify hostnames within the application protocol. Section 9.1.2 of RFC-7540 provides a mechanism for servers to reject the reuse of a connection by responding with the HTTP 421 Misdirected Request status code. This indicates that the origin server has rejected the request because it appears to have been misdirected. To detect misdirected requests, Gateways SHOULD match the authority of the requests with all the SNI hostname(s) configured across all the Gateway Listeners on the same port and protocol: - If another Listener has an exact match or more specific wildcard entry, the Gateway SHOULD return a 421. - If the current Listener (selected by SNI matching during ClientHello) does not match the Host: - If another Listener does match the Host, the Gateway SHOULD return a 421. - If no other Listener matches the Host, the Gateway MUST return a 404. For HTTPRoute and TLSRoute resources, there is an interaction with the ``spec.hostnames`` array. When both listener and route specify hostnames, there MUST be an intersection between the values for a Route to be accepted. For more information, refer to the Route specific Hostnames documentation. Hostnames that are prefixed with a wildcard label (``*.``) are interpreted as a suffix match. That means that a match for ``*.example.com`` would match both ``test.example.com``, and ``foo.test.example.com``, but not ``example.com``. Support: Core
        :param tls: TLS is the TLS configuration for the Listener. This field is required if the Protocol field is "HTTPS" or "TLS". It is invalid to set this field if the Protocol field is "HTTP", "TCP", or "UDP". The association of SNIs to Certificate defined in ListenerTLSConfig is defined based on the Hostname field for this listener. The GatewayClass MUST use the longest matching SNI out of all available certificates for any TLS handshake. Support: Core

        :schema: GatewaySpecListeners
        '''
        if isinstance(allowed_routes, dict):
            allowed_routes = GatewaySpecListenersAllowedRoutes(**allowed_routes)
        if isinstance(tls, dict):
            tls = GatewaySpecListenersTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e109d866c129e6ae209c1411ceb12e0b10ca99911e6af667cf5a5fe1ad944ec7)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument port", value=port, expected_type=type_hints["port"])
            check_type(argname="argument protocol", value=protocol, expected_type=type_hints["protocol"])
            check_type(argname="argument allowed_routes", value=allowed_routes, expected_type=type_hints["allowed_routes"])
            check_type(argname="argument hostname", value=hostname, expected_type=type_hints["hostname"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
            "port": port,
            "protocol": protocol,
        }
        if allowed_routes is not None:
            self._values["allowed_routes"] = allowed_routes
        if hostname is not None:
            self._values["hostname"] = hostname
        if tls is not None:
            self._values["tls"] = tls

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the Listener. This name MUST be unique within a Gateway.

        Support: Core

        :schema: GatewaySpecListeners#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def port(self) -> jsii.Number:
        '''Port is the network port. Multiple listeners may use the same port, subject to the Listener compatibility rules.

        Support: Core

        :schema: GatewaySpecListeners#port
        '''
        result = self._values.get("port")
        assert result is not None, "Required property 'port' is missing"
        return typing.cast(jsii.Number, result)

    @builtins.property
    def protocol(self) -> builtins.str:
        '''Protocol specifies the network protocol this listener expects to receive.

        Support: Core

        :schema: GatewaySpecListeners#protocol
        '''
        result = self._values.get("protocol")
        assert result is not None, "Required property 'protocol' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def allowed_routes(self) -> typing.Optional["GatewaySpecListenersAllowedRoutes"]:
        '''AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present.

        Although a client request may match multiple route rules, only one rule
        may ultimately receive the request. Matching precedence MUST be
        determined in order of the following criteria:

        - The most specific match as defined by the Route type.
        - The oldest Route based on creation timestamp. For example, a Route with
          a creation timestamp of "2020-09-08 01:02:03" is given precedence over
          a Route with a creation timestamp of "2020-09-08 01:02:04".
        - If everything else is equivalent, the Route appearing first in
          alphabetical order (namespace/name) should be given precedence. For
          example, foo/bar is given precedence over foo/baz.

        All valid rules within a Route attached to this Listener should be
        implemented. Invalid Route rules can be ignored (sometimes that will mean
        the full Route). If a Route rule transitions from valid to invalid,
        support for that Route rule should be dropped to ensure consistency. For
        example, even if a filter specified by a Route rule is invalid, the rest
        of the rules within that Route should still be supported.

        Support: Core

        :schema: GatewaySpecListeners#allowedRoutes
        '''
        result = self._values.get("allowed_routes")
        return typing.cast(typing.Optional["GatewaySpecListenersAllowedRoutes"], result)

    @builtins.property
    def hostname(self) -> typing.Optional[builtins.str]:
        '''Hostname specifies the virtual hostname to match for protocol types that define this concept.

        When unspecified, all hostnames are matched. This
        field is ignored for protocols that don't require hostname based
        matching.

        Implementations MUST apply Hostname matching appropriately for each of
        the following protocols:

        - TLS: The Listener Hostname MUST match the SNI.
        - HTTP: The Listener Hostname MUST match the Host header of the request.
        - HTTPS: The Listener Hostname SHOULD match both the SNI and Host header.
          Note that this does not require the SNI and Host header to be the same.
          The semantics of this are described in more detail below.

        To ensure security, Section 11.1 of RFC-6066 emphasizes that server
        implementations that rely on SNI hostname matching MUST also verify
        hostnames within the application protocol.

        Section 9.1.2 of RFC-7540 provides a mechanism for servers to reject the
        reuse of a connection by responding with the HTTP 421 Misdirected Request
        status code. This indicates that the origin server has rejected the
        request because it appears to have been misdirected.

        To detect misdirected requests, Gateways SHOULD match the authority of
        the requests with all the SNI hostname(s) configured across all the
        Gateway Listeners on the same port and protocol:

        - If another Listener has an exact match or more specific wildcard entry,
          the Gateway SHOULD return a 421.
        - If the current Listener (selected by SNI matching during ClientHello)
          does not match the Host:
        - If another Listener does match the Host, the Gateway SHOULD return a

        1.

        - If no other Listener matches the Host, the Gateway MUST return a

        1.

        For HTTPRoute and TLSRoute resources, there is an interaction with the
        ``spec.hostnames`` array. When both listener and route specify hostnames,
        there MUST be an intersection between the values for a Route to be
        accepted. For more information, refer to the Route specific Hostnames
        documentation.

        Hostnames that are prefixed with a wildcard label (``*.``) are interpreted
        as a suffix match. That means that a match for ``*.example.com`` would match
        both ``test.example.com``, and ``foo.test.example.com``, but not ``example.com``.

        Support: Core

        :schema: GatewaySpecListeners#hostname
        '''
        result = self._values.get("hostname")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def tls(self) -> typing.Optional["GatewaySpecListenersTls"]:
        '''TLS is the TLS configuration for the Listener.

        This field is required if
        the Protocol field is "HTTPS" or "TLS". It is invalid to set this field
        if the Protocol field is "HTTP", "TCP", or "UDP".

        The association of SNIs to Certificate defined in ListenerTLSConfig is
        defined based on the Hostname field for this listener.

        The GatewayClass MUST use the longest matching SNI out of all
        available certificates for any TLS handshake.

        Support: Core

        :schema: GatewaySpecListeners#tls
        '''
        result = self._values.get("tls")
        return typing.cast(typing.Optional["GatewaySpecListenersTls"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListeners(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutes",
    jsii_struct_bases=[],
    name_mapping={"kinds": "kinds", "namespaces": "namespaces"},
)
class GatewaySpecListenersAllowedRoutes:
    def __init__(
        self,
        *,
        kinds: typing.Optional[typing.Sequence[typing.Union["GatewaySpecListenersAllowedRoutesKinds", typing.Dict[builtins.str, typing.Any]]]] = None,
        namespaces: typing.Optional[typing.Union["GatewaySpecListenersAllowedRoutesNamespaces", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present.

        Although a client request may match multiple route rules, only one rule
        may ultimately receive the request. Matching precedence MUST be
        determined in order of the following criteria:

        - The most specific match as defined by the Route type.
        - The oldest Route based on creation timestamp. For example, a Route with
          a creation timestamp of "2020-09-08 01:02:03" is given precedence over
          a Route with a creation timestamp of "2020-09-08 01:02:04".
        - If everything else is equivalent, the Route appearing first in
          alphabetical order (namespace/name) should be given precedence. For
          example, foo/bar is given precedence over foo/baz.

        All valid rules within a Route attached to this Listener should be
        implemented. Invalid Route rules can be ignored (sometimes that will mean
        the full Route). If a Route rule transitions from valid to invalid,
        support for that Route rule should be dropped to ensure consistency. For
        example, even if a filter specified by a Route rule is invalid, the rest
        of the rules within that Route should still be supported.

        Support: Core

        :param kinds: Kinds specifies the groups and kinds of Routes that are allowed to bind to this Gateway Listener. When unspecified or empty, the kinds of Routes selected are determined using the Listener protocol. A RouteGroupKind MUST correspond to kinds of Routes that are compatible with the application protocol specified in the Listener's Protocol field. If an implementation does not support or recognize this resource type, it MUST set the "ResolvedRefs" condition to False for this Listener with the "InvalidRouteKinds" reason. Support: Core
        :param namespaces: Namespaces indicates namespaces from which Routes may be attached to this Listener. This is restricted to the namespace of this Gateway by default. Support: Core

        :schema: GatewaySpecListenersAllowedRoutes
        '''
        if isinstance(namespaces, dict):
            namespaces = GatewaySpecListenersAllowedRoutesNamespaces(**namespaces)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__8b6e1ac847344100e592883eb0d3352823752df8e155fee7fae234aefe79e2c7)
            check_type(argname="argument kinds", value=kinds, expected_type=type_hints["kinds"])
            check_type(argname="argument namespaces", value=namespaces, expected_type=type_hints["namespaces"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if kinds is not None:
            self._values["kinds"] = kinds
        if namespaces is not None:
            self._values["namespaces"] = namespaces

    @builtins.property
    def kinds(
        self,
    ) -> typing.Optional[typing.List["GatewaySpecListenersAllowedRoutesKinds"]]:
        '''Kinds specifies the groups and kinds of Routes that are allowed to bind to this Gateway Listener.

        When unspecified or empty, the kinds of Routes
        selected are determined using the Listener protocol.

        A RouteGroupKind MUST correspond to kinds of Routes that are compatible
        with the application protocol specified in the Listener's Protocol field.
        If an implementation does not support or recognize this resource type, it
        MUST set the "ResolvedRefs" condition to False for this Listener with the
        "InvalidRouteKinds" reason.

        Support: Core

        :schema: GatewaySpecListenersAllowedRoutes#kinds
        '''
        result = self._values.get("kinds")
        return typing.cast(typing.Optional[typing.List["GatewaySpecListenersAllowedRoutesKinds"]], result)

    @builtins.property
    def namespaces(
        self,
    ) -> typing.Optional["GatewaySpecListenersAllowedRoutesNamespaces"]:
        '''Namespaces indicates namespaces from which Routes may be attached to this Listener.

        This is restricted to the namespace of this Gateway by default.

        Support: Core

        :schema: GatewaySpecListenersAllowedRoutes#namespaces
        '''
        result = self._values.get("namespaces")
        return typing.cast(typing.Optional["GatewaySpecListenersAllowedRoutesNamespaces"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersAllowedRoutes(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutesKinds",
    jsii_struct_bases=[],
    name_mapping={"kind": "kind", "group": "group"},
)
class GatewaySpecListenersAllowedRoutesKinds:
    def __init__(
        self,
        *,
        kind: builtins.str,
        group: typing.Optional[builtins.str] = None,
    ) -> None:
        '''RouteGroupKind indicates the group and kind of a Route resource.

        :param kind: Kind is the kind of the Route.
        :param group: Group is the group of the Route.

        :schema: GatewaySpecListenersAllowedRoutesKinds
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6e97dbae0636a8674a0e88bdfdd668c0fe700183e2acc46c4e9832044ffc802f)
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "kind": kind,
        }
        if group is not None:
            self._values["group"] = group

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is the kind of the Route.

        :schema: GatewaySpecListenersAllowedRoutesKinds#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the Route.

        :schema: GatewaySpecListenersAllowedRoutesKinds#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersAllowedRoutesKinds(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutesNamespaces",
    jsii_struct_bases=[],
    name_mapping={"from_": "from", "selector": "selector"},
)
class GatewaySpecListenersAllowedRoutesNamespaces:
    def __init__(
        self,
        *,
        from_: typing.Optional["GatewaySpecListenersAllowedRoutesNamespacesFrom"] = None,
        selector: typing.Optional[typing.Union["GatewaySpecListenersAllowedRoutesNamespacesSelector", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Namespaces indicates namespaces from which Routes may be attached to this Listener.

        This is restricted to the namespace of this Gateway by default.

        Support: Core

        :param from_: From indicates where Routes will be selected for this Gateway. Possible values are:. - All: Routes in all namespaces may be used by this Gateway. - Selector: Routes in namespaces selected by the selector may be used by this Gateway. - Same: Only Routes in the same namespace may be used by this Gateway. Support: Core
        :param selector: Selector must be specified when From is set to "Selector". In that case, only Routes in Namespaces matching this Selector will be selected by this Gateway. This field is ignored for other values of "From". Support: Core

        :schema: GatewaySpecListenersAllowedRoutesNamespaces
        '''
        if isinstance(selector, dict):
            selector = GatewaySpecListenersAllowedRoutesNamespacesSelector(**selector)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e558c90fe83479dea45929cacac4a705e83242195fe8ae48c3276b3ff0df34ee)
            check_type(argname="argument from_", value=from_, expected_type=type_hints["from_"])
            check_type(argname="argument selector", value=selector, expected_type=type_hints["selector"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if from_ is not None:
            self._values["from_"] = from_
        if selector is not None:
            self._values["selector"] = selector

    @builtins.property
    def from_(
        self,
    ) -> typing.Optional["GatewaySpecListenersAllowedRoutesNamespacesFrom"]:
        '''From indicates where Routes will be selected for this Gateway. Possible values are:.

        - All: Routes in all namespaces may be used by this Gateway.
        - Selector: Routes in namespaces selected by the selector may be used by
          this Gateway.
        - Same: Only Routes in the same namespace may be used by this Gateway.

        Support: Core

        :schema: GatewaySpecListenersAllowedRoutesNamespaces#from
        '''
        result = self._values.get("from_")
        return typing.cast(typing.Optional["GatewaySpecListenersAllowedRoutesNamespacesFrom"], result)

    @builtins.property
    def selector(
        self,
    ) -> typing.Optional["GatewaySpecListenersAllowedRoutesNamespacesSelector"]:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only Routes in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        Support: Core

        :schema: GatewaySpecListenersAllowedRoutesNamespaces#selector
        '''
        result = self._values.get("selector")
        return typing.cast(typing.Optional["GatewaySpecListenersAllowedRoutesNamespacesSelector"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersAllowedRoutesNamespaces(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutesNamespacesFrom"
)
class GatewaySpecListenersAllowedRoutesNamespacesFrom(enum.Enum):
    '''From indicates where Routes will be selected for this Gateway. Possible values are:.

    - All: Routes in all namespaces may be used by this Gateway.
    - Selector: Routes in namespaces selected by the selector may be used by
      this Gateway.
    - Same: Only Routes in the same namespace may be used by this Gateway.

    Support: Core

    :schema: GatewaySpecListenersAllowedRoutesNamespacesFrom
    '''

    ALL = "ALL"
    '''All.'''
    SELECTOR = "SELECTOR"
    '''Selector.'''
    SAME = "SAME"
    '''Same.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutesNamespacesSelector",
    jsii_struct_bases=[],
    name_mapping={
        "match_expressions": "matchExpressions",
        "match_labels": "matchLabels",
    },
)
class GatewaySpecListenersAllowedRoutesNamespacesSelector:
    def __init__(
        self,
        *,
        match_expressions: typing.Optional[typing.Sequence[typing.Union["GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions", typing.Dict[builtins.str, typing.Any]]]] = None,
        match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only Routes in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        Support: Core

        :param match_expressions: matchExpressions is a list of label selector requirements. The requirements are ANDed.
        :param match_labels: matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelector
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__116d497886fa887987ccc1896503c71973285e20f891338f113693b7a287df7d)
            check_type(argname="argument match_expressions", value=match_expressions, expected_type=type_hints["match_expressions"])
            check_type(argname="argument match_labels", value=match_labels, expected_type=type_hints["match_labels"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if match_expressions is not None:
            self._values["match_expressions"] = match_expressions
        if match_labels is not None:
            self._values["match_labels"] = match_labels

    @builtins.property
    def match_expressions(
        self,
    ) -> typing.Optional[typing.List["GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions"]]:
        '''matchExpressions is a list of label selector requirements.

        The requirements are ANDed.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelector#matchExpressions
        '''
        result = self._values.get("match_expressions")
        return typing.cast(typing.Optional[typing.List["GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions"]], result)

    @builtins.property
    def match_labels(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''matchLabels is a map of {key,value} pairs.

        A single {key,value} in the matchLabels
        map is equivalent to an element of matchExpressions, whose key field is "key", the
        operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelector#matchLabels
        '''
        result = self._values.get("match_labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersAllowedRoutesNamespacesSelector(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "operator": "operator", "values": "values"},
)
class GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions:
    def __init__(
        self,
        *,
        key: builtins.str,
        operator: builtins.str,
        values: typing.Optional[typing.Sequence[builtins.str]] = None,
    ) -> None:
        '''A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.

        :param key: key is the label key that the selector applies to.
        :param operator: operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.
        :param values: values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__48387b640538c79b4f07fc62a799a35c20e3df484b7e890f52af94f6c25ca12f)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument operator", value=operator, expected_type=type_hints["operator"])
            check_type(argname="argument values", value=values, expected_type=type_hints["values"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "operator": operator,
        }
        if values is not None:
            self._values["values"] = values

    @builtins.property
    def key(self) -> builtins.str:
        '''key is the label key that the selector applies to.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def operator(self) -> builtins.str:
        '''operator represents a key's relationship to a set of values.

        Valid operators are In, NotIn, Exists and DoesNotExist.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#operator
        '''
        result = self._values.get("operator")
        assert result is not None, "Required property 'operator' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def values(self) -> typing.Optional[typing.List[builtins.str]]:
        '''values is an array of string values.

        If the operator is In or NotIn,
        the values array must be non-empty. If the operator is Exists or DoesNotExist,
        the values array must be empty. This array is replaced during a strategic
        merge patch.

        :schema: GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#values
        '''
        result = self._values.get("values")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersTls",
    jsii_struct_bases=[],
    name_mapping={
        "certificate_refs": "certificateRefs",
        "mode": "mode",
        "options": "options",
    },
)
class GatewaySpecListenersTls:
    def __init__(
        self,
        *,
        certificate_refs: typing.Optional[typing.Sequence[typing.Union["GatewaySpecListenersTlsCertificateRefs", typing.Dict[builtins.str, typing.Any]]]] = None,
        mode: typing.Optional["GatewaySpecListenersTlsMode"] = None,
        options: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''TLS is the TLS configuration for the Listener.

        This field is required if
        the Protocol field is "HTTPS" or "TLS". It is invalid to set this field
        if the Protocol field is "HTTP", "TCP", or "UDP".

        The association of SNIs to Certificate defined in ListenerTLSConfig is
        defined based on the Hostname field for this listener.

        The GatewayClass MUST use the longest matching SNI out of all
        available certificates for any TLS handshake.

        Support: Core

        :param certificate_refs: CertificateRefs contains a series of references to Kubernetes objects that contains TLS certificates and private keys. These certificates are used to establish a TLS handshake for requests that match the hostname of the associated listener. A single CertificateRef to a Kubernetes Secret has "Core" support. Implementations MAY choose to support attaching multiple certificates to a Listener, but this behavior is implementation-specific. References to a resource in different namespace are invalid UNLESS there is a ReferenceGrant in the target namespace that allows the certificate to be attached. If a ReferenceGrant does not allow this reference, the "ResolvedRefs" condition MUST be set to False for this listener with the "RefNotPermitted" reason. This field is required to have at least one element when the mode is set to "Terminate" (default) and is optional otherwise. CertificateRefs can reference to standard Kubernetes resources, i.e. Secret, or implementation-specific custom resources. Support: Core - A single reference to a Kubernetes Secret of type kubernetes.io/tls Support: Implementation-specific (More than one reference or other resource types)
        :param mode: Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:. - Terminate: The TLS session between the downstream client and the Gateway is terminated at the Gateway. This mode requires certificates to be specified in some way, such as populating the certificateRefs field. - Passthrough: The TLS session is NOT terminated by the Gateway. This implies that the Gateway can't decipher the TLS stream except for the ClientHello message of the TLS protocol. The certificateRefs field is ignored in this mode. Support: Core
        :param options: Options are a list of key/value pairs to enable extended TLS configuration for each implementation. For example, configuring the minimum TLS version or supported cipher suites. A set of common keys MAY be defined by the API in the future. To avoid any ambiguity, implementation-specific definitions MUST use domain-prefixed names, such as ``example.com/my-custom-option``. Un-prefixed names are reserved for key names defined by Gateway API. Support: Implementation-specific

        :schema: GatewaySpecListenersTls
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__d8c95c90ee18a2769185ff31f9e9e550b2e9fa2be29ceb4edbed206ac09efe15)
            check_type(argname="argument certificate_refs", value=certificate_refs, expected_type=type_hints["certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
            check_type(argname="argument options", value=options, expected_type=type_hints["options"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if certificate_refs is not None:
            self._values["certificate_refs"] = certificate_refs
        if mode is not None:
            self._values["mode"] = mode
        if options is not None:
            self._values["options"] = options

    @builtins.property
    def certificate_refs(
        self,
    ) -> typing.Optional[typing.List["GatewaySpecListenersTlsCertificateRefs"]]:
        '''CertificateRefs contains a series of references to Kubernetes objects that contains TLS certificates and private keys.

        These certificates are used to
        establish a TLS handshake for requests that match the hostname of the
        associated listener.

        A single CertificateRef to a Kubernetes Secret has "Core" support.
        Implementations MAY choose to support attaching multiple certificates to
        a Listener, but this behavior is implementation-specific.

        References to a resource in different namespace are invalid UNLESS there
        is a ReferenceGrant in the target namespace that allows the certificate
        to be attached. If a ReferenceGrant does not allow this reference, the
        "ResolvedRefs" condition MUST be set to False for this listener with the
        "RefNotPermitted" reason.

        This field is required to have at least one element when the mode is set
        to "Terminate" (default) and is optional otherwise.

        CertificateRefs can reference to standard Kubernetes resources, i.e.
        Secret, or implementation-specific custom resources.

        Support: Core - A single reference to a Kubernetes Secret of type kubernetes.io/tls

        Support: Implementation-specific (More than one reference or other resource types)

        :schema: GatewaySpecListenersTls#certificateRefs
        '''
        result = self._values.get("certificate_refs")
        return typing.cast(typing.Optional[typing.List["GatewaySpecListenersTlsCertificateRefs"]], result)

    @builtins.property
    def mode(self) -> typing.Optional["GatewaySpecListenersTlsMode"]:
        '''Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:.

        - Terminate: The TLS session between the downstream client and the
          Gateway is terminated at the Gateway. This mode requires certificates
          to be specified in some way, such as populating the certificateRefs
          field.
        - Passthrough: The TLS session is NOT terminated by the Gateway. This
          implies that the Gateway can't decipher the TLS stream except for
          the ClientHello message of the TLS protocol. The certificateRefs field
          is ignored in this mode.

        Support: Core

        :schema: GatewaySpecListenersTls#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewaySpecListenersTlsMode"], result)

    @builtins.property
    def options(self) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Options are a list of key/value pairs to enable extended TLS configuration for each implementation.

        For example, configuring the
        minimum TLS version or supported cipher suites.

        A set of common keys MAY be defined by the API in the future. To avoid
        any ambiguity, implementation-specific definitions MUST use
        domain-prefixed names, such as ``example.com/my-custom-option``.
        Un-prefixed names are reserved for key names defined by Gateway API.

        Support: Implementation-specific

        :schema: GatewaySpecListenersTls#options
        '''
        result = self._values.get("options")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersTlsCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "group": "group",
        "kind": "kind",
        "namespace": "namespace",
    },
)
class GatewaySpecListenersTlsCertificateRefs:
    def __init__(
        self,
        *,
        name: builtins.str,
        group: typing.Optional[builtins.str] = None,
        kind: typing.Optional[builtins.str] = None,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''SecretObjectReference identifies an API object including its namespace, defaulting to Secret.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param name: Name is the name of the referent.
        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When unspecified or empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "Secret".
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewaySpecListenersTlsCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__31a749c4f73f10a7a84425f6f19da4fda28d2a5a548597ed4cdbd961cdadf703)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
        }
        if group is not None:
            self._values["group"] = group
        if kind is not None:
            self._values["kind"] = kind
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewaySpecListenersTlsCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When unspecified or empty string, core API group is inferred.

        :schema: GatewaySpecListenersTlsCertificateRefs#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def kind(self) -> typing.Optional[builtins.str]:
        '''Kind is kind of the referent.

        For example "Secret".

        :schema: GatewaySpecListenersTlsCertificateRefs#kind
        '''
        result = self._values.get("kind")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewaySpecListenersTlsCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecListenersTlsCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(jsii_type="gateways_iok8snetworkinggateway.GatewaySpecListenersTlsMode")
class GatewaySpecListenersTlsMode(enum.Enum):
    '''Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:.

    - Terminate: The TLS session between the downstream client and the
      Gateway is terminated at the Gateway. This mode requires certificates
      to be specified in some way, such as populating the certificateRefs
      field.
    - Passthrough: The TLS session is NOT terminated by the Gateway. This
      implies that the Gateway can't decipher the TLS stream except for
      the ClientHello message of the TLS protocol. The certificateRefs field
      is ignored in this mode.

    Support: Core

    :schema: GatewaySpecListenersTlsMode
    '''

    TERMINATE = "TERMINATE"
    '''Terminate.'''
    PASSTHROUGH = "PASSTHROUGH"
    '''Passthrough.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTls",
    jsii_struct_bases=[],
    name_mapping={"backend": "backend", "frontend": "frontend"},
)
class GatewaySpecTls:
    def __init__(
        self,
        *,
        backend: typing.Optional[typing.Union["GatewaySpecTlsBackend", typing.Dict[builtins.str, typing.Any]]] = None,
        frontend: typing.Optional[typing.Union["GatewaySpecTlsFrontend", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''TLS specifies frontend and backend tls configuration for entire gateway.

        Support: Extended

        :param backend: Backend describes TLS configuration for gateway when connecting to backends. Note that this contains only details for the Gateway as a TLS client, and does *not* imply behavior about how to choose which backend should get a TLS connection. That is determined by the presence of a BackendTLSPolicy. Support: Core
        :param frontend: Frontend describes TLS config when client connects to Gateway. Support: Core

        :schema: GatewaySpecTls
        '''
        if isinstance(backend, dict):
            backend = GatewaySpecTlsBackend(**backend)
        if isinstance(frontend, dict):
            frontend = GatewaySpecTlsFrontend(**frontend)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7175be09f62f63a2f9031e4234ff3c3528530c3f414a03f07e037ca4b86ebf4b)
            check_type(argname="argument backend", value=backend, expected_type=type_hints["backend"])
            check_type(argname="argument frontend", value=frontend, expected_type=type_hints["frontend"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if backend is not None:
            self._values["backend"] = backend
        if frontend is not None:
            self._values["frontend"] = frontend

    @builtins.property
    def backend(self) -> typing.Optional["GatewaySpecTlsBackend"]:
        '''Backend describes TLS configuration for gateway when connecting to backends.

        Note that this contains only details for the Gateway as a TLS client,
        and does *not* imply behavior about how to choose which backend should
        get a TLS connection. That is determined by the presence of a BackendTLSPolicy.

        Support: Core

        :schema: GatewaySpecTls#backend
        '''
        result = self._values.get("backend")
        return typing.cast(typing.Optional["GatewaySpecTlsBackend"], result)

    @builtins.property
    def frontend(self) -> typing.Optional["GatewaySpecTlsFrontend"]:
        '''Frontend describes TLS config when client connects to Gateway.

        Support: Core

        :schema: GatewaySpecTls#frontend
        '''
        result = self._values.get("frontend")
        return typing.cast(typing.Optional["GatewaySpecTlsFrontend"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsBackend",
    jsii_struct_bases=[],
    name_mapping={"client_certificate_ref": "clientCertificateRef"},
)
class GatewaySpecTlsBackend:
    def __init__(
        self,
        *,
        client_certificate_ref: typing.Optional[typing.Union["GatewaySpecTlsBackendClientCertificateRef", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Backend describes TLS configuration for gateway when connecting to backends.

        Note that this contains only details for the Gateway as a TLS client,
        and does *not* imply behavior about how to choose which backend should
        get a TLS connection. That is determined by the presence of a BackendTLSPolicy.

        Support: Core

        :param client_certificate_ref: ClientCertificateRef references an object that contains a client certificate and its associated private key. It can reference standard Kubernetes resources, i.e., Secret, or implementation-specific custom resources. A ClientCertificateRef is considered invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a Secret does not contain the keys named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef`` and the Message of the Condition MUST indicate why the reference is invalid. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition on the Gateway MUST be set to False with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``). Support: Implementation-specific - Other resource kinds or Secrets with a different type (e.g., ``Opaque``).

        :schema: GatewaySpecTlsBackend
        '''
        if isinstance(client_certificate_ref, dict):
            client_certificate_ref = GatewaySpecTlsBackendClientCertificateRef(**client_certificate_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__134133169249b6397069ea8731807b814cde0bcc81e38704ea324cde6b3fa310)
            check_type(argname="argument client_certificate_ref", value=client_certificate_ref, expected_type=type_hints["client_certificate_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if client_certificate_ref is not None:
            self._values["client_certificate_ref"] = client_certificate_ref

    @builtins.property
    def client_certificate_ref(
        self,
    ) -> typing.Optional["GatewaySpecTlsBackendClientCertificateRef"]:
        '''ClientCertificateRef references an object that contains a client certificate and its associated private key.

        It can reference standard Kubernetes resources,
        i.e., Secret, or implementation-specific custom resources.

        A ClientCertificateRef is considered invalid if:

        - It refers to a resource that cannot be resolved (e.g., the referenced resource
          does not exist) or is misconfigured (e.g., a Secret does not contain the keys
          named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef``
          and the Message of the Condition MUST indicate why the reference is invalid.
        - It refers to a resource in another namespace UNLESS there is a ReferenceGrant
          in the target namespace that allows the certificate to be attached.
          If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the certificate
        content (e.g., checking expiry or enforcing specific formats). In such cases,
        an implementation-specific Reason and Message MUST be set.

        Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``).
        Support: Implementation-specific - Other resource kinds or Secrets with a
        different type (e.g., ``Opaque``).

        :schema: GatewaySpecTlsBackend#clientCertificateRef
        '''
        result = self._values.get("client_certificate_ref")
        return typing.cast(typing.Optional["GatewaySpecTlsBackendClientCertificateRef"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsBackend(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsBackendClientCertificateRef",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "group": "group",
        "kind": "kind",
        "namespace": "namespace",
    },
)
class GatewaySpecTlsBackendClientCertificateRef:
    def __init__(
        self,
        *,
        name: builtins.str,
        group: typing.Optional[builtins.str] = None,
        kind: typing.Optional[builtins.str] = None,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ClientCertificateRef references an object that contains a client certificate and its associated private key.

        It can reference standard Kubernetes resources,
        i.e., Secret, or implementation-specific custom resources.

        A ClientCertificateRef is considered invalid if:

        - It refers to a resource that cannot be resolved (e.g., the referenced resource
          does not exist) or is misconfigured (e.g., a Secret does not contain the keys
          named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef``
          and the Message of the Condition MUST indicate why the reference is invalid.
        - It refers to a resource in another namespace UNLESS there is a ReferenceGrant
          in the target namespace that allows the certificate to be attached.
          If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the certificate
        content (e.g., checking expiry or enforcing specific formats). In such cases,
        an implementation-specific Reason and Message MUST be set.

        Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``).
        Support: Implementation-specific - Other resource kinds or Secrets with a
        different type (e.g., ``Opaque``).

        :param name: Name is the name of the referent.
        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When unspecified or empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "Secret".
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewaySpecTlsBackendClientCertificateRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6bcd96ed4ffabe6f165b74d191f258bfec648596fdd96ba11c4c1ec1fd53b361)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
        }
        if group is not None:
            self._values["group"] = group
        if kind is not None:
            self._values["kind"] = kind
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewaySpecTlsBackendClientCertificateRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When unspecified or empty string, core API group is inferred.

        :schema: GatewaySpecTlsBackendClientCertificateRef#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def kind(self) -> typing.Optional[builtins.str]:
        '''Kind is kind of the referent.

        For example "Secret".

        :schema: GatewaySpecTlsBackendClientCertificateRef#kind
        '''
        result = self._values.get("kind")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewaySpecTlsBackendClientCertificateRef#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsBackendClientCertificateRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontend",
    jsii_struct_bases=[],
    name_mapping={"default": "default", "per_port": "perPort"},
)
class GatewaySpecTlsFrontend:
    def __init__(
        self,
        *,
        default: typing.Union["GatewaySpecTlsFrontendDefault", typing.Dict[builtins.str, typing.Any]],
        per_port: typing.Optional[typing.Sequence[typing.Union["GatewaySpecTlsFrontendPerPort", typing.Dict[builtins.str, typing.Any]]]] = None,
    ) -> None:
        '''Frontend describes TLS config when client connects to Gateway.

        Support: Core

        :param default: Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined. support: Core
        :param per_port: PerPort specifies tls configuration assigned per port. Per port configuration is optional. Once set this configuration overrides the default configuration for all Listeners handling HTTPS traffic that match this port. Each override port requires a unique TLS configuration. support: Core

        :schema: GatewaySpecTlsFrontend
        '''
        if isinstance(default, dict):
            default = GatewaySpecTlsFrontendDefault(**default)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a5bec3e65184aaa709fd5680bd91221cc4ff00e2162baba1bc17d9a2059a8657)
            check_type(argname="argument default", value=default, expected_type=type_hints["default"])
            check_type(argname="argument per_port", value=per_port, expected_type=type_hints["per_port"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "default": default,
        }
        if per_port is not None:
            self._values["per_port"] = per_port

    @builtins.property
    def default(self) -> "GatewaySpecTlsFrontendDefault":
        '''Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined.

        support: Core

        :schema: GatewaySpecTlsFrontend#default
        '''
        result = self._values.get("default")
        assert result is not None, "Required property 'default' is missing"
        return typing.cast("GatewaySpecTlsFrontendDefault", result)

    @builtins.property
    def per_port(self) -> typing.Optional[typing.List["GatewaySpecTlsFrontendPerPort"]]:
        '''PerPort specifies tls configuration assigned per port.

        Per port configuration is optional. Once set this configuration overrides
        the default configuration for all Listeners handling HTTPS traffic
        that match this port.
        Each override port requires a unique TLS configuration.

        support: Core

        :schema: GatewaySpecTlsFrontend#perPort
        '''
        result = self._values.get("per_port")
        return typing.cast(typing.Optional[typing.List["GatewaySpecTlsFrontendPerPort"]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontend(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendDefault",
    jsii_struct_bases=[],
    name_mapping={"validation": "validation"},
)
class GatewaySpecTlsFrontendDefault:
    def __init__(
        self,
        *,
        validation: typing.Optional[typing.Union["GatewaySpecTlsFrontendDefaultValidation", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined.

        support: Core

        :param validation: Validation holds configuration information for validating the frontend (client). Setting this field will result in mutual authentication when connecting to the gateway. In browsers this may result in a dialog appearing that requests a user to specify the client certificate. The maximum depth of a certificate chain accepted in verification is Implementation specific. Support: Core

        :schema: GatewaySpecTlsFrontendDefault
        '''
        if isinstance(validation, dict):
            validation = GatewaySpecTlsFrontendDefaultValidation(**validation)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f38cf120ef432fb5c4bc1983bcf5e6822b39384414f4f606d3ab9ce9e0cda8f6)
            check_type(argname="argument validation", value=validation, expected_type=type_hints["validation"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if validation is not None:
            self._values["validation"] = validation

    @builtins.property
    def validation(self) -> typing.Optional["GatewaySpecTlsFrontendDefaultValidation"]:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :schema: GatewaySpecTlsFrontendDefault#validation
        '''
        result = self._values.get("validation")
        return typing.cast(typing.Optional["GatewaySpecTlsFrontendDefaultValidation"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendDefault(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendDefaultValidation",
    jsii_struct_bases=[],
    name_mapping={"ca_certificate_refs": "caCertificateRefs", "mode": "mode"},
)
class GatewaySpecTlsFrontendDefaultValidation:
    def __init__(
        self,
        *,
        ca_certificate_refs: typing.Sequence[typing.Union["GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs", typing.Dict[builtins.str, typing.Any]]],
        mode: typing.Optional["GatewaySpecTlsFrontendDefaultValidationMode"] = None,
    ) -> None:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :param ca_certificate_refs: CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client. A CACertificateRef is invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a ConfigMap does not contain a key named ``ca.crt``). In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef`` and the Message of the Condition must indicate which reference is invalid and why. - It refers to an unknown or unsupported kind of resource. In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateKind`` and the Message of the Condition must explain which kind of resource is unknown or unsupported. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the CA certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition MUST be set with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. In all cases, the implementation MUST ensure that the ``ResolvedRefs`` condition is set to ``status: False`` on all targeted listeners (i.e., listeners serving HTTPS on a matching port). The condition MUST include a Reason and Message that indicate the cause of the error. If ALL CACertificateRefs are invalid, the implementation MUST also ensure the ``Accepted`` condition on the listener is set to ``status: False``, with the Reason ``NoValidCACertificate``. Implementations MAY choose to support attaching multiple CA certificates to a listener, but this behavior is implementation-specific. Support: Core - A single reference to a Kubernetes ConfigMap, with the CA certificate in a key named ``ca.crt``. Support: Implementation-specific - More than one reference, other kinds of resources, or a single reference that includes multiple certificates.
        :param mode: FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:. - AllowValidOnly: In this mode, the gateway will accept connections only if the client presents a valid certificate. This certificate must successfully pass validation against the CA certificates specified in ``CACertificateRefs``. - AllowInsecureFallback: In this mode, the gateway will accept connections even if the client certificate is not presented or fails verification. This approach delegates client authorization to the backend and introduce a significant security risk. It should be used in testing environments or on a temporary basis in non-testing environments. Defaults to AllowValidOnly. Support: Core Default: AllowValidOnly.

        :schema: GatewaySpecTlsFrontendDefaultValidation
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__14f87b09b58ae603203b84725f4543d680c85ab61941ddb53f6ee9293ba4374b)
            check_type(argname="argument ca_certificate_refs", value=ca_certificate_refs, expected_type=type_hints["ca_certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "ca_certificate_refs": ca_certificate_refs,
        }
        if mode is not None:
            self._values["mode"] = mode

    @builtins.property
    def ca_certificate_refs(
        self,
    ) -> typing.List["GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs"]:
        '''CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client.

        A CACertificateRef is invalid if:

        - It refers to a resource that cannot be resolved (e.g., the
          referenced resource does not exist) or is misconfigured (e.g., a
          ConfigMap does not contain a key named ``ca.crt``). In this case, the
          Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef``
          and the Message of the Condition must indicate which reference is invalid and why.
        - It refers to an unknown or unsupported kind of resource. In this
          case, the Reason on all matching HTTPS listeners must be set to
          ``InvalidCACertificateKind`` and the Message of the Condition must explain
          which kind of resource is unknown or unsupported.
        - It refers to a resource in another namespace UNLESS there is a
          ReferenceGrant in the target namespace that allows the CA
          certificate to be attached. If a ReferenceGrant does not allow this
          reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition
          MUST be set with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the
        certificate content (e.g., checking expiry or enforcing specific formats).
        In such cases, an implementation-specific Reason and Message MUST be set.

        In all cases, the implementation MUST ensure that the ``ResolvedRefs``
        condition is set to ``status: False`` on all targeted listeners (i.e.,
        listeners serving HTTPS on a matching port). The condition MUST
        include a Reason and Message that indicate the cause of the error. If
        ALL CACertificateRefs are invalid, the implementation MUST also ensure
        the ``Accepted`` condition on the listener is set to ``status: False``, with
        the Reason ``NoValidCACertificate``.
        Implementations MAY choose to support attaching multiple CA certificates
        to a listener, but this behavior is implementation-specific.

        Support: Core - A single reference to a Kubernetes ConfigMap, with the
        CA certificate in a key named ``ca.crt``.

        Support: Implementation-specific - More than one reference, other kinds
        of resources, or a single reference that includes multiple certificates.

        :schema: GatewaySpecTlsFrontendDefaultValidation#caCertificateRefs
        '''
        result = self._values.get("ca_certificate_refs")
        assert result is not None, "Required property 'ca_certificate_refs' is missing"
        return typing.cast(typing.List["GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs"], result)

    @builtins.property
    def mode(self) -> typing.Optional["GatewaySpecTlsFrontendDefaultValidationMode"]:
        '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

        - AllowValidOnly: In this mode, the gateway will accept connections only if
          the client presents a valid certificate. This certificate must successfully
          pass validation against the CA certificates specified in ``CACertificateRefs``.
        - AllowInsecureFallback: In this mode, the gateway will accept connections
          even if the client certificate is not presented or fails verification.

        This approach delegates client authorization to the backend and introduce
        a significant security risk. It should be used in testing environments or
        on a temporary basis in non-testing environments.

        Defaults to AllowValidOnly.

        Support: Core

        :default: AllowValidOnly.

        :schema: GatewaySpecTlsFrontendDefaultValidation#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewaySpecTlsFrontendDefaultValidationMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendDefaultValidation(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "group": "group",
        "kind": "kind",
        "name": "name",
        "namespace": "namespace",
    },
)
class GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ObjectReference identifies an API object including its namespace.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When set to the empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "ConfigMap" or "Service".
        :param name: Name is the name of the referent.
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4e93c8b284c33b35b6b0cfd802a31fed05f66629cf5dbd3e6dc98eb51d236956)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When set to the empty string, core API group is inferred.

        :schema: GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        For example "ConfigMap" or "Service".

        :schema: GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendDefaultValidationMode"
)
class GatewaySpecTlsFrontendDefaultValidationMode(enum.Enum):
    '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

    - AllowValidOnly: In this mode, the gateway will accept connections only if
      the client presents a valid certificate. This certificate must successfully
      pass validation against the CA certificates specified in ``CACertificateRefs``.
    - AllowInsecureFallback: In this mode, the gateway will accept connections
      even if the client certificate is not presented or fails verification.

    This approach delegates client authorization to the backend and introduce
    a significant security risk. It should be used in testing environments or
    on a temporary basis in non-testing environments.

    Defaults to AllowValidOnly.

    Support: Core

    :default: AllowValidOnly.

    :schema: GatewaySpecTlsFrontendDefaultValidationMode
    '''

    ALLOW_VALID_ONLY = "ALLOW_VALID_ONLY"
    '''AllowValidOnly.'''
    ALLOW_INSECURE_FALLBACK = "ALLOW_INSECURE_FALLBACK"
    '''AllowInsecureFallback.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendPerPort",
    jsii_struct_bases=[],
    name_mapping={"port": "port", "tls": "tls"},
)
class GatewaySpecTlsFrontendPerPort:
    def __init__(
        self,
        *,
        port: jsii.Number,
        tls: typing.Union["GatewaySpecTlsFrontendPerPortTls", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param port: The Port indicates the Port Number to which the TLS configuration will be applied. This configuration will be applied to all Listeners handling HTTPS traffic that match this port. Support: Core
        :param tls: TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port. Support: Core

        :schema: GatewaySpecTlsFrontendPerPort
        '''
        if isinstance(tls, dict):
            tls = GatewaySpecTlsFrontendPerPortTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__aa539a51d3641846e7c82328dc17a1258e928f280628b0e57590af436782a9b8)
            check_type(argname="argument port", value=port, expected_type=type_hints["port"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "port": port,
            "tls": tls,
        }

    @builtins.property
    def port(self) -> jsii.Number:
        '''The Port indicates the Port Number to which the TLS configuration will be applied.

        This configuration will be applied to all Listeners handling HTTPS
        traffic that match this port.

        Support: Core

        :schema: GatewaySpecTlsFrontendPerPort#port
        '''
        result = self._values.get("port")
        assert result is not None, "Required property 'port' is missing"
        return typing.cast(jsii.Number, result)

    @builtins.property
    def tls(self) -> "GatewaySpecTlsFrontendPerPortTls":
        '''TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port.

        Support: Core

        :schema: GatewaySpecTlsFrontendPerPort#tls
        '''
        result = self._values.get("tls")
        assert result is not None, "Required property 'tls' is missing"
        return typing.cast("GatewaySpecTlsFrontendPerPortTls", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendPerPort(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendPerPortTls",
    jsii_struct_bases=[],
    name_mapping={"validation": "validation"},
)
class GatewaySpecTlsFrontendPerPortTls:
    def __init__(
        self,
        *,
        validation: typing.Optional[typing.Union["GatewaySpecTlsFrontendPerPortTlsValidation", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port.

        Support: Core

        :param validation: Validation holds configuration information for validating the frontend (client). Setting this field will result in mutual authentication when connecting to the gateway. In browsers this may result in a dialog appearing that requests a user to specify the client certificate. The maximum depth of a certificate chain accepted in verification is Implementation specific. Support: Core

        :schema: GatewaySpecTlsFrontendPerPortTls
        '''
        if isinstance(validation, dict):
            validation = GatewaySpecTlsFrontendPerPortTlsValidation(**validation)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e3a1c79f83f563c97a8c207ca0b62445f2dabcad198bc908e8d176c81da07181)
            check_type(argname="argument validation", value=validation, expected_type=type_hints["validation"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if validation is not None:
            self._values["validation"] = validation

    @builtins.property
    def validation(
        self,
    ) -> typing.Optional["GatewaySpecTlsFrontendPerPortTlsValidation"]:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :schema: GatewaySpecTlsFrontendPerPortTls#validation
        '''
        result = self._values.get("validation")
        return typing.cast(typing.Optional["GatewaySpecTlsFrontendPerPortTlsValidation"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendPerPortTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendPerPortTlsValidation",
    jsii_struct_bases=[],
    name_mapping={"ca_certificate_refs": "caCertificateRefs", "mode": "mode"},
)
class GatewaySpecTlsFrontendPerPortTlsValidation:
    def __init__(
        self,
        *,
        ca_certificate_refs: typing.Sequence[typing.Union["GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs", typing.Dict[builtins.str, typing.Any]]],
        mode: typing.Optional["GatewaySpecTlsFrontendPerPortTlsValidationMode"] = None,
    ) -> None:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :param ca_certificate_refs: CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client. A CACertificateRef is invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a ConfigMap does not contain a key named ``ca.crt``). In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef`` and the Message of the Condition must indicate which reference is invalid and why. - It refers to an unknown or unsupported kind of resource. In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateKind`` and the Message of the Condition must explain which kind of resource is unknown or unsupported. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the CA certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition MUST be set with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. In all cases, the implementation MUST ensure that the ``ResolvedRefs`` condition is set to ``status: False`` on all targeted listeners (i.e., listeners serving HTTPS on a matching port). The condition MUST include a Reason and Message that indicate the cause of the error. If ALL CACertificateRefs are invalid, the implementation MUST also ensure the ``Accepted`` condition on the listener is set to ``status: False``, with the Reason ``NoValidCACertificate``. Implementations MAY choose to support attaching multiple CA certificates to a listener, but this behavior is implementation-specific. Support: Core - A single reference to a Kubernetes ConfigMap, with the CA certificate in a key named ``ca.crt``. Support: Implementation-specific - More than one reference, other kinds of resources, or a single reference that includes multiple certificates.
        :param mode: FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:. - AllowValidOnly: In this mode, the gateway will accept connections only if the client presents a valid certificate. This certificate must successfully pass validation against the CA certificates specified in ``CACertificateRefs``. - AllowInsecureFallback: In this mode, the gateway will accept connections even if the client certificate is not presented or fails verification. This approach delegates client authorization to the backend and introduce a significant security risk. It should be used in testing environments or on a temporary basis in non-testing environments. Defaults to AllowValidOnly. Support: Core Default: AllowValidOnly.

        :schema: GatewaySpecTlsFrontendPerPortTlsValidation
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b1e23f1677c29bfe3d334859e5fb83d7d00f2901b674e825f4d20018867cd62f)
            check_type(argname="argument ca_certificate_refs", value=ca_certificate_refs, expected_type=type_hints["ca_certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "ca_certificate_refs": ca_certificate_refs,
        }
        if mode is not None:
            self._values["mode"] = mode

    @builtins.property
    def ca_certificate_refs(
        self,
    ) -> typing.List["GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs"]:
        '''CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client.

        A CACertificateRef is invalid if:

        - It refers to a resource that cannot be resolved (e.g., the
          referenced resource does not exist) or is misconfigured (e.g., a
          ConfigMap does not contain a key named ``ca.crt``). In this case, the
          Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef``
          and the Message of the Condition must indicate which reference is invalid and why.
        - It refers to an unknown or unsupported kind of resource. In this
          case, the Reason on all matching HTTPS listeners must be set to
          ``InvalidCACertificateKind`` and the Message of the Condition must explain
          which kind of resource is unknown or unsupported.
        - It refers to a resource in another namespace UNLESS there is a
          ReferenceGrant in the target namespace that allows the CA
          certificate to be attached. If a ReferenceGrant does not allow this
          reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition
          MUST be set with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the
        certificate content (e.g., checking expiry or enforcing specific formats).
        In such cases, an implementation-specific Reason and Message MUST be set.

        In all cases, the implementation MUST ensure that the ``ResolvedRefs``
        condition is set to ``status: False`` on all targeted listeners (i.e.,
        listeners serving HTTPS on a matching port). The condition MUST
        include a Reason and Message that indicate the cause of the error. If
        ALL CACertificateRefs are invalid, the implementation MUST also ensure
        the ``Accepted`` condition on the listener is set to ``status: False``, with
        the Reason ``NoValidCACertificate``.
        Implementations MAY choose to support attaching multiple CA certificates
        to a listener, but this behavior is implementation-specific.

        Support: Core - A single reference to a Kubernetes ConfigMap, with the
        CA certificate in a key named ``ca.crt``.

        Support: Implementation-specific - More than one reference, other kinds
        of resources, or a single reference that includes multiple certificates.

        :schema: GatewaySpecTlsFrontendPerPortTlsValidation#caCertificateRefs
        '''
        result = self._values.get("ca_certificate_refs")
        assert result is not None, "Required property 'ca_certificate_refs' is missing"
        return typing.cast(typing.List["GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs"], result)

    @builtins.property
    def mode(self) -> typing.Optional["GatewaySpecTlsFrontendPerPortTlsValidationMode"]:
        '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

        - AllowValidOnly: In this mode, the gateway will accept connections only if
          the client presents a valid certificate. This certificate must successfully
          pass validation against the CA certificates specified in ``CACertificateRefs``.
        - AllowInsecureFallback: In this mode, the gateway will accept connections
          even if the client certificate is not presented or fails verification.

        This approach delegates client authorization to the backend and introduce
        a significant security risk. It should be used in testing environments or
        on a temporary basis in non-testing environments.

        Defaults to AllowValidOnly.

        Support: Core

        :default: AllowValidOnly.

        :schema: GatewaySpecTlsFrontendPerPortTlsValidation#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewaySpecTlsFrontendPerPortTlsValidationMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendPerPortTlsValidation(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "group": "group",
        "kind": "kind",
        "name": "name",
        "namespace": "namespace",
    },
)
class GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ObjectReference identifies an API object including its namespace.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When set to the empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "ConfigMap" or "Service".
        :param name: Name is the name of the referent.
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b5f4c38c37a6a04b088dadce0e6a41f60c8e13c11b61571abaf73aed9a503181)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When set to the empty string, core API group is inferred.

        :schema: GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        For example "ConfigMap" or "Service".

        :schema: GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewaySpecTlsFrontendPerPortTlsValidationMode"
)
class GatewaySpecTlsFrontendPerPortTlsValidationMode(enum.Enum):
    '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

    - AllowValidOnly: In this mode, the gateway will accept connections only if
      the client presents a valid certificate. This certificate must successfully
      pass validation against the CA certificates specified in ``CACertificateRefs``.
    - AllowInsecureFallback: In this mode, the gateway will accept connections
      even if the client certificate is not presented or fails verification.

    This approach delegates client authorization to the backend and introduce
    a significant security risk. It should be used in testing environments or
    on a temporary basis in non-testing environments.

    Defaults to AllowValidOnly.

    Support: Core

    :default: AllowValidOnly.

    :schema: GatewaySpecTlsFrontendPerPortTlsValidationMode
    '''

    ALLOW_VALID_ONLY = "ALLOW_VALID_ONLY"
    '''AllowValidOnly.'''
    ALLOW_INSECURE_FALLBACK = "ALLOW_INSECURE_FALLBACK"
    '''AllowInsecureFallback.'''


class GatewayV1Beta1(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1",
):
    '''Gateway represents an instance of a service-traffic handling infrastructure by binding Listeners to a set of IP addresses.

    :schema: GatewayV1Beta1
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        spec: typing.Union["GatewayV1Beta1Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "GatewayV1Beta1" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__3cfde1522afd260f4422ace8c558340eaf814102c53212409b27a0e36e053409)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = GatewayV1Beta1Props(spec=spec, metadata=metadata)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        spec: typing.Union["GatewayV1Beta1Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "GatewayV1Beta1".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 
        '''
        props = GatewayV1Beta1Props(spec=spec, metadata=metadata)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "GatewayV1Beta1".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1Props",
    jsii_struct_bases=[],
    name_mapping={"spec": "spec", "metadata": "metadata"},
)
class GatewayV1Beta1Props:
    def __init__(
        self,
        *,
        spec: typing.Union["GatewayV1Beta1Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Gateway represents an instance of a service-traffic handling infrastructure by binding Listeners to a set of IP addresses.

        :param spec: Spec defines the desired state of Gateway.
        :param metadata: 

        :schema: GatewayV1Beta1
        '''
        if isinstance(spec, dict):
            spec = GatewayV1Beta1Spec(**spec)
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__fa441b35b56799f925f8a79ce235c39c6059c776e617380aca449705c89974f4)
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "spec": spec,
        }
        if metadata is not None:
            self._values["metadata"] = metadata

    @builtins.property
    def spec(self) -> "GatewayV1Beta1Spec":
        '''Spec defines the desired state of Gateway.

        :schema: GatewayV1Beta1#spec
        '''
        result = self._values.get("spec")
        assert result is not None, "Required property 'spec' is missing"
        return typing.cast("GatewayV1Beta1Spec", result)

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: GatewayV1Beta1#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1Props(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1Spec",
    jsii_struct_bases=[],
    name_mapping={
        "gateway_class_name": "gatewayClassName",
        "listeners": "listeners",
        "addresses": "addresses",
        "allowed_listeners": "allowedListeners",
        "infrastructure": "infrastructure",
        "tls": "tls",
    },
)
class GatewayV1Beta1Spec:
    def __init__(
        self,
        *,
        gateway_class_name: builtins.str,
        listeners: typing.Sequence[typing.Union["GatewayV1Beta1SpecListeners", typing.Dict[builtins.str, typing.Any]]],
        addresses: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecAddresses", typing.Dict[builtins.str, typing.Any]]]] = None,
        allowed_listeners: typing.Optional[typing.Union["GatewayV1Beta1SpecAllowedListeners", typing.Dict[builtins.str, typing.Any]]] = None,
        infrastructure: typing.Optional[typing.Union["GatewayV1Beta1SpecInfrastructure", typing.Dict[builtins.str, typing.Any]]] = None,
        tls: typing.Optional[typing.Union["GatewayV1Beta1SpecTls", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Spec defines the desired state of Gateway.

        :param gateway_class_name: GatewayClassName used for this Gateway. This is the name of a GatewayClass resource.
        :param listeners: Listeners associated with this Gateway. Listeners define logical endpoints that are bound on this Gateway's addresses. At least one Listener MUST be specified. Distinct Listeners Each Listener in a set of Listeners (for example, in a single Gateway) MUST be *distinct*, in that a traffic flow MUST be able to be assigned to exactly one listener. (This section uses "set of Listeners" rather than "Listeners in a single Gateway" because implementations MAY merge configuration from multiple Gateways onto a single data plane, and these rules *also* apply in that case). Practically, this means that each listener in a set MUST have a unique combination of Port, Protocol, and, if supported by the protocol, Hostname. Some combinations of port, protocol, and TLS settings are considered Core support and MUST be supported by implementations based on the objects they support: HTTPRoute 1. HTTPRoute, Port: 80, Protocol: HTTP 2. HTTPRoute, Port: 443, Protocol: HTTPS, TLS Mode: Terminate, TLS keypair provided TLSRoute 1. TLSRoute, Port: 443, Protocol: TLS, TLS Mode: Passthrough "Distinct" Listeners have the following property: **The implementation can match inbound requests to a single distinct Listener**. When multiple Listeners share values for fields (for example, two Listeners with the same Port value), the implementation can match requests to only one of the Listeners using other Listener fields. When multiple listeners have the same value for the Protocol field, then each of the Listeners with matching Protocol values MUST have different values for other fields. The set of fields that MUST be different for a Listener differs per protocol. The following rules define the rules for what fields MUST be considered for Listeners to be distinct with each protocol currently defined in the Gateway API spec. The set of listeners that all share a protocol value MUST have *different* values for *at least one* of these fields to be distinct: - **HTTP, HTTPS, TLS**: Port, Hostname - **TCP, UDP**: Port One **very** important rule to call out involves what happens when an implementation: - Supports TCP protocol Listeners, as well as HTTP, HTTPS, or TLS protocol Listeners, and - sees HTTP, HTTPS, or TLS protocols with the same ``port`` as one with TCP Protocol. In this case all the Listeners that share a port with the TCP Listener are not distinct and so MUST NOT be accepted. If an implementation does not support TCP Protocol Listeners, then the previous rule does not apply, and the TCP Listeners SHOULD NOT be accepted. Note that the ``tls`` field is not used for determining if a listener is distinct, because Listeners that *only* differ on TLS config will still conflict in all cases. Listeners that are distinct only by Hostname When the Listeners are distinct based only on Hostname, inbound request hostnames MUST match from the most specific to least specific Hostname values to choose the correct Listener and its associated set of Routes. Exact matches MUST be processed before wildcard matches, and wildcard matches MUST be processed before fallback (empty Hostname value) matches. For example, ``"foo.example.com"`` takes precedence over ``"*.example.com"``, and ``"*.example.com"`` takes precedence over ``""``. Additionally, if there are multiple wildcard entries, more specific wildcard entries must be processed before less specific wildcard entries. For example, ``"*.foo.example.com"`` takes precedence over ``"*.example.com"``. The precise definition here is that the higher the number of dots in the hostname to the right of the wildcard character, the higher the precedence. The wildcard character will match any number of characters *and dots* to the left, however, so ``"*.example.com"`` will match both ``"foo.bar.example.com"`` *and* ``"bar.example.com"``. Handling indistinct Listeners If a set of Listeners contains Listeners that are not distinct, then those Listeners are *Conflicted*, and the implementation MUST set the "Conflicted" condition in the Listener Status to "True". The words "indistinct" and "conflicted" are considered equivalent for the purpose of this documentation. Implementations MAY choose to accept a Gateway with some Conflicted Listeners only if they only accept the partial Listener set that contains no Conflicted Listeners. Specifically, an implementation MAY accept a partial Listener set subject to the following rules: - The implementation MUST NOT pick one conflicting Listener as the winner. ALL indistinct Listeners must not be accepted for processing. - At least one distinct Listener MUST be present, or else the Gateway effectively contains *no* Listeners, and must be rejected from processing as a whole. The implementation MUST set a "ListenersNotValid" condition on the Gateway Status when the Gateway contains Conflicted Listeners whether or not they accept the Gateway. That Condition SHOULD clearly indicate in the Message which Listeners are conflicted, and which are Accepted. Additionally, the Listener status for those listeners SHOULD indicate which Listeners are conflicted and not Accepted. General Listener behavior Note that, for all distinct Listeners, requests SHOULD match at most one Listener. For example, if Listeners are defined for "foo.example.com" and "*.example.com", a request to "foo.example.com" SHOULD only be routed using routes attached to the "foo.example.com" Listener (and not the "*.example.com" Listener). If traffic to a Gateway does not match any Listener's hostname (or if the Listener does not specify a hostname and the request does not match any attached Route), the request MUST be rejected. The specific mechanism for rejection depends on the protocol: HTTP returns a 404 status code, while gRPC returns an Unimplemented status code. This concept is known as "Listener Isolation", and it is an Extended feature of Gateway API. Implementations that do not support Listener Isolation MUST clearly document this, and MUST NOT claim support for the ``GatewayHTTPListenerIsolation`` feature. Implementations that *do* support Listener Isolation SHOULD claim support for the Extended ``GatewayHTTPListenerIsolation`` feature and pass the associated conformance tests. Compatible Listeners A Gateway's Listeners are considered *compatible* if: 1. They are distinct. 2. The implementation can serve them in compliance with the Addresses requirement that all Listeners are available on all assigned addresses. Compatible combinations in Extended support are expected to vary across implementations. A combination that is compatible for one implementation may not be compatible for another. For example, an implementation that cannot serve both TCP and UDP listeners on the same address, or cannot mix HTTPS and generic TLS listens on the same port would not consider those cases compatible, even though they are distinct. Implementations MAY merge separate Gateways onto a single set of Addresses if all Listeners across all Gateways are compatible. In a future release the MinItems=1 requirement MAY be dropped. Support: Core
        :param addresses: Addresses requested for this Gateway. This is optional and behavior can depend on the implementation. If a value is set in the spec and the requested address is invalid or unavailable, the implementation MUST indicate this in an associated entry in GatewayStatus.Conditions. The Addresses field represents a request for the address(es) on the "outside of the Gateway", that traffic bound for this Gateway will use. This could be the IP address or hostname of an external load balancer or other networking infrastructure, or some other address that traffic will be sent to. If no Addresses are specified, the implementation MAY schedule the Gateway in an implementation-specific manner, assigning an appropriate set of Addresses. The implementation MUST bind all Listeners to every GatewayAddress that it assigns to the Gateway and add a corresponding entry in GatewayStatus.Addresses. Support: Extended
        :param allowed_listeners: AllowedListeners defines which ListenerSets can be attached to this Gateway. The default value is to allow no ListenerSets.
        :param infrastructure: Infrastructure defines infrastructure level attributes about this Gateway instance. Support: Extended
        :param tls: TLS specifies frontend and backend tls configuration for entire gateway. Support: Extended

        :schema: GatewayV1Beta1Spec
        '''
        if isinstance(allowed_listeners, dict):
            allowed_listeners = GatewayV1Beta1SpecAllowedListeners(**allowed_listeners)
        if isinstance(infrastructure, dict):
            infrastructure = GatewayV1Beta1SpecInfrastructure(**infrastructure)
        if isinstance(tls, dict):
            tls = GatewayV1Beta1SpecTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b3e750f17309e938d0b3c6eeb84677cce82514a134eddd2bac4ed0b4a0e6907c)
            check_type(argname="argument gateway_class_name", value=gateway_class_name, expected_type=type_hints["gateway_class_name"])
            check_type(argname="argument listeners", value=listeners, expected_type=type_hints["listeners"])
            check_type(argname="argument addresses", value=addresses, expected_type=type_hints["addresses"])
            check_type(argname="argument allowed_listeners", value=allowed_listeners, expected_type=type_hints["allowed_listeners"])
            check_type(argname="argument infrastructure", value=infrastructure, expected_type=type_hints["infrastructure"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "gateway_class_name": gateway_class_name,
            "listeners": listeners,
        }
        if addresses is not None:
            self._values["addresses"] = addresses
        if allowed_listeners is not None:
            self._values["allowed_listeners"] = allowed_listeners
        if infrastructure is not None:
            self._values["infrastructure"] = infrastructure
        if tls is not None:
            self._values["tls"] = tls

    @builtins.property
    def gateway_class_name(self) -> builtins.str:
        '''GatewayClassName used for this Gateway.

        This is the name of a
        GatewayClass resource.

        :schema: GatewayV1Beta1Spec#gatewayClassName
        '''
        result = self._values.get("gateway_class_name")
        assert result is not None, "Required property 'gateway_class_name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def listeners(self) -> typing.List["GatewayV1Beta1SpecListeners"]:
        '''Listeners associated with this Gateway.

        Listeners define
        logical endpoints that are bound on this Gateway's addresses.
        At least one Listener MUST be specified.


        Distinct Listeners

        Each Listener in a set of Listeners (for example, in a single Gateway)
        MUST be *distinct*, in that a traffic flow MUST be able to be assigned to
        exactly one listener. (This section uses "set of Listeners" rather than
        "Listeners in a single Gateway" because implementations MAY merge configuration
        from multiple Gateways onto a single data plane, and these rules *also*
        apply in that case).

        Practically, this means that each listener in a set MUST have a unique
        combination of Port, Protocol, and, if supported by the protocol, Hostname.

        Some combinations of port, protocol, and TLS settings are considered
        Core support and MUST be supported by implementations based on the objects
        they support:

        HTTPRoute

        1. HTTPRoute, Port: 80, Protocol: HTTP
        2. HTTPRoute, Port: 443, Protocol: HTTPS, TLS Mode: Terminate, TLS keypair provided

        TLSRoute

        1. TLSRoute, Port: 443, Protocol: TLS, TLS Mode: Passthrough

        "Distinct" Listeners have the following property:

        **The implementation can match inbound requests to a single distinct
        Listener**.

        When multiple Listeners share values for fields (for
        example, two Listeners with the same Port value), the implementation
        can match requests to only one of the Listeners using other
        Listener fields.

        When multiple listeners have the same value for the Protocol field, then
        each of the Listeners with matching Protocol values MUST have different
        values for other fields.

        The set of fields that MUST be different for a Listener differs per protocol.
        The following rules define the rules for what fields MUST be considered for
        Listeners to be distinct with each protocol currently defined in the
        Gateway API spec.

        The set of listeners that all share a protocol value MUST have *different*
        values for *at least one* of these fields to be distinct:

        - **HTTP, HTTPS, TLS**: Port, Hostname
        - **TCP, UDP**: Port

        One **very** important rule to call out involves what happens when an
        implementation:

        - Supports TCP protocol Listeners, as well as HTTP, HTTPS, or TLS protocol
          Listeners, and
        - sees HTTP, HTTPS, or TLS protocols with the same ``port`` as one with TCP
          Protocol.

        In this case all the Listeners that share a port with the
        TCP Listener are not distinct and so MUST NOT be accepted.

        If an implementation does not support TCP Protocol Listeners, then the
        previous rule does not apply, and the TCP Listeners SHOULD NOT be
        accepted.

        Note that the ``tls`` field is not used for determining if a listener is distinct, because
        Listeners that *only* differ on TLS config will still conflict in all cases.


        Listeners that are distinct only by Hostname

        When the Listeners are distinct based only on Hostname, inbound request
        hostnames MUST match from the most specific to least specific Hostname
        values to choose the correct Listener and its associated set of Routes.

        Exact matches MUST be processed before wildcard matches, and wildcard
        matches MUST be processed before fallback (empty Hostname value)
        matches. For example, ``"foo.example.com"`` takes precedence over
        ``"*.example.com"``, and ``"*.example.com"`` takes precedence over ``""``.

        Additionally, if there are multiple wildcard entries, more specific
        wildcard entries must be processed before less specific wildcard entries.
        For example, ``"*.foo.example.com"`` takes precedence over ``"*.example.com"``.

        The precise definition here is that the higher the number of dots in the
        hostname to the right of the wildcard character, the higher the precedence.

        The wildcard character will match any number of characters *and dots* to
        the left, however, so ``"*.example.com"`` will match both
        ``"foo.bar.example.com"`` *and* ``"bar.example.com"``.


        Handling indistinct Listeners

        If a set of Listeners contains Listeners that are not distinct, then those
        Listeners are *Conflicted*, and the implementation MUST set the "Conflicted"
        condition in the Listener Status to "True".

        The words "indistinct" and "conflicted" are considered equivalent for the
        purpose of this documentation.

        Implementations MAY choose to accept a Gateway with some Conflicted
        Listeners only if they only accept the partial Listener set that contains
        no Conflicted Listeners.

        Specifically, an implementation MAY accept a partial Listener set subject to
        the following rules:

        - The implementation MUST NOT pick one conflicting Listener as the winner.
          ALL indistinct Listeners must not be accepted for processing.
        - At least one distinct Listener MUST be present, or else the Gateway effectively
          contains *no* Listeners, and must be rejected from processing as a whole.

        The implementation MUST set a "ListenersNotValid" condition on the
        Gateway Status when the Gateway contains Conflicted Listeners whether or
        not they accept the Gateway. That Condition SHOULD clearly
        indicate in the Message which Listeners are conflicted, and which are
        Accepted. Additionally, the Listener status for those listeners SHOULD
        indicate which Listeners are conflicted and not Accepted.


        General Listener behavior

        Note that, for all distinct Listeners, requests SHOULD match at most one Listener.
        For example, if Listeners are defined for "foo.example.com" and "*.example.com", a
        request to "foo.example.com" SHOULD only be routed using routes attached
        to the "foo.example.com" Listener (and not the "*.example.com" Listener).

        If traffic to a Gateway does not match any Listener's hostname (or if
        the Listener does not specify a hostname and the request does not match
        any attached Route), the request MUST be rejected. The specific mechanism
        for rejection depends on the protocol: HTTP returns a 404 status code,
        while gRPC returns an Unimplemented status code.

        This concept is known as "Listener Isolation", and it is an Extended feature
        of Gateway API. Implementations that do not support Listener Isolation MUST
        clearly document this, and MUST NOT claim support for the
        ``GatewayHTTPListenerIsolation`` feature.

        Implementations that *do* support Listener Isolation SHOULD claim support
        for the Extended ``GatewayHTTPListenerIsolation`` feature and pass the associated
        conformance tests.


        Compatible Listeners

        A Gateway's Listeners are considered *compatible* if:

        1. They are distinct.
        2. The implementation can serve them in compliance with the Addresses
           requirement that all Listeners are available on all assigned
           addresses.

        Compatible combinations in Extended support are expected to vary across
        implementations. A combination that is compatible for one implementation
        may not be compatible for another.

        For example, an implementation that cannot serve both TCP and UDP listeners
        on the same address, or cannot mix HTTPS and generic TLS listens on the same port
        would not consider those cases compatible, even though they are distinct.

        Implementations MAY merge separate Gateways onto a single set of
        Addresses if all Listeners across all Gateways are compatible.

        In a future release the MinItems=1 requirement MAY be dropped.

        Support: Core

        :schema: GatewayV1Beta1Spec#listeners
        '''
        result = self._values.get("listeners")
        assert result is not None, "Required property 'listeners' is missing"
        return typing.cast(typing.List["GatewayV1Beta1SpecListeners"], result)

    @builtins.property
    def addresses(self) -> typing.Optional[typing.List["GatewayV1Beta1SpecAddresses"]]:
        '''Addresses requested for this Gateway.

        This is optional and behavior can
        depend on the implementation. If a value is set in the spec and the
        requested address is invalid or unavailable, the implementation MUST
        indicate this in an associated entry in GatewayStatus.Conditions.

        The Addresses field represents a request for the address(es) on the
        "outside of the Gateway", that traffic bound for this Gateway will use.
        This could be the IP address or hostname of an external load balancer or
        other networking infrastructure, or some other address that traffic will
        be sent to.

        If no Addresses are specified, the implementation MAY schedule the
        Gateway in an implementation-specific manner, assigning an appropriate
        set of Addresses.

        The implementation MUST bind all Listeners to every GatewayAddress that
        it assigns to the Gateway and add a corresponding entry in
        GatewayStatus.Addresses.

        Support: Extended

        :schema: GatewayV1Beta1Spec#addresses
        '''
        result = self._values.get("addresses")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecAddresses"]], result)

    @builtins.property
    def allowed_listeners(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecAllowedListeners"]:
        '''AllowedListeners defines which ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :schema: GatewayV1Beta1Spec#allowedListeners
        '''
        result = self._values.get("allowed_listeners")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecAllowedListeners"], result)

    @builtins.property
    def infrastructure(self) -> typing.Optional["GatewayV1Beta1SpecInfrastructure"]:
        '''Infrastructure defines infrastructure level attributes about this Gateway instance.

        Support: Extended

        :schema: GatewayV1Beta1Spec#infrastructure
        '''
        result = self._values.get("infrastructure")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecInfrastructure"], result)

    @builtins.property
    def tls(self) -> typing.Optional["GatewayV1Beta1SpecTls"]:
        '''TLS specifies frontend and backend tls configuration for entire gateway.

        Support: Extended

        :schema: GatewayV1Beta1Spec#tls
        '''
        result = self._values.get("tls")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTls"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1Spec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAddresses",
    jsii_struct_bases=[],
    name_mapping={"type": "type", "value": "value"},
)
class GatewayV1Beta1SpecAddresses:
    def __init__(
        self,
        *,
        type: typing.Optional[builtins.str] = None,
        value: typing.Optional[builtins.str] = None,
    ) -> None:
        '''GatewaySpecAddress describes an address that can be bound to a Gateway.

        :param type: Type of the address.
        :param value: When a value is unspecified, an implementation SHOULD automatically assign an address matching the requested type if possible. If an implementation does not support an empty value, they MUST set the "Programmed" condition in status to False with a reason of "AddressNotAssigned". Examples: ``1.2.3.4``, ``128::1``, ``my-ip-address``.

        :schema: GatewayV1Beta1SpecAddresses
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__97cddd5304fc75f599025fdf4ad0c9ef7c2c73ab9eba424fd7af381d25f1d5f0)
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if type is not None:
            self._values["type"] = type
        if value is not None:
            self._values["value"] = value

    @builtins.property
    def type(self) -> typing.Optional[builtins.str]:
        '''Type of the address.

        :schema: GatewayV1Beta1SpecAddresses#type
        '''
        result = self._values.get("type")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def value(self) -> typing.Optional[builtins.str]:
        '''When a value is unspecified, an implementation SHOULD automatically assign an address matching the requested type if possible.

        If an implementation does not support an empty value, they MUST set the
        "Programmed" condition in status to False with a reason of "AddressNotAssigned".

        Examples: ``1.2.3.4``, ``128::1``, ``my-ip-address``.

        :schema: GatewayV1Beta1SpecAddresses#value
        '''
        result = self._values.get("value")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecAddresses(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAllowedListeners",
    jsii_struct_bases=[],
    name_mapping={"namespaces": "namespaces"},
)
class GatewayV1Beta1SpecAllowedListeners:
    def __init__(
        self,
        *,
        namespaces: typing.Optional[typing.Union["GatewayV1Beta1SpecAllowedListenersNamespaces", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''AllowedListeners defines which ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :param namespaces: Namespaces defines which namespaces ListenerSets can be attached to this Gateway. The default value is to allow no ListenerSets.

        :schema: GatewayV1Beta1SpecAllowedListeners
        '''
        if isinstance(namespaces, dict):
            namespaces = GatewayV1Beta1SpecAllowedListenersNamespaces(**namespaces)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__222504cc2a28529d4265a1404735e0513af5cf3ccc352daf085468c684558f76)
            check_type(argname="argument namespaces", value=namespaces, expected_type=type_hints["namespaces"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if namespaces is not None:
            self._values["namespaces"] = namespaces

    @builtins.property
    def namespaces(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespaces"]:
        '''Namespaces defines which namespaces ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :schema: GatewayV1Beta1SpecAllowedListeners#namespaces
        '''
        result = self._values.get("namespaces")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespaces"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecAllowedListeners(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAllowedListenersNamespaces",
    jsii_struct_bases=[],
    name_mapping={"from_": "from", "selector": "selector"},
)
class GatewayV1Beta1SpecAllowedListenersNamespaces:
    def __init__(
        self,
        *,
        from_: typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespacesFrom"] = None,
        selector: typing.Optional[typing.Union["GatewayV1Beta1SpecAllowedListenersNamespacesSelector", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Namespaces defines which namespaces ListenerSets can be attached to this Gateway.

        The default value is to allow no ListenerSets.

        :param from_: From indicates where ListenerSets can attach to this Gateway. Possible values are:. - Same: Only ListenerSets in the same namespace may be attached to this Gateway. - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway. - All: ListenerSets in all namespaces may be attached to this Gateway. - None: Only listeners defined in the Gateway's spec are allowed The default value None
        :param selector: Selector must be specified when From is set to "Selector". In that case, only ListenerSets in Namespaces matching this Selector will be selected by this Gateway. This field is ignored for other values of "From".

        :schema: GatewayV1Beta1SpecAllowedListenersNamespaces
        '''
        if isinstance(selector, dict):
            selector = GatewayV1Beta1SpecAllowedListenersNamespacesSelector(**selector)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__5b0e6c8343838706620bebbf0cf6ff08a0d80741661ce1e4e987b85c8006c0ee)
            check_type(argname="argument from_", value=from_, expected_type=type_hints["from_"])
            check_type(argname="argument selector", value=selector, expected_type=type_hints["selector"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if from_ is not None:
            self._values["from_"] = from_
        if selector is not None:
            self._values["selector"] = selector

    @builtins.property
    def from_(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespacesFrom"]:
        '''From indicates where ListenerSets can attach to this Gateway. Possible values are:.

        - Same: Only ListenerSets in the same namespace may be attached to this Gateway.
        - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway.
        - All: ListenerSets in all namespaces may be attached to this Gateway.
        - None: Only listeners defined in the Gateway's spec are allowed

        The default value None

        :schema: GatewayV1Beta1SpecAllowedListenersNamespaces#from
        '''
        result = self._values.get("from_")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespacesFrom"], result)

    @builtins.property
    def selector(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespacesSelector"]:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only ListenerSets in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        :schema: GatewayV1Beta1SpecAllowedListenersNamespaces#selector
        '''
        result = self._values.get("selector")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecAllowedListenersNamespacesSelector"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecAllowedListenersNamespaces(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAllowedListenersNamespacesFrom"
)
class GatewayV1Beta1SpecAllowedListenersNamespacesFrom(enum.Enum):
    '''From indicates where ListenerSets can attach to this Gateway. Possible values are:.

    - Same: Only ListenerSets in the same namespace may be attached to this Gateway.
    - Selector: ListenerSets in namespaces selected by the selector may be attached to this Gateway.
    - All: ListenerSets in all namespaces may be attached to this Gateway.
    - None: Only listeners defined in the Gateway's spec are allowed

    The default value None

    :schema: GatewayV1Beta1SpecAllowedListenersNamespacesFrom
    '''

    ALL = "ALL"
    '''All.'''
    SELECTOR = "SELECTOR"
    '''Selector.'''
    SAME = "SAME"
    '''Same.'''
    NONE = "NONE"
    '''None.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAllowedListenersNamespacesSelector",
    jsii_struct_bases=[],
    name_mapping={
        "match_expressions": "matchExpressions",
        "match_labels": "matchLabels",
    },
)
class GatewayV1Beta1SpecAllowedListenersNamespacesSelector:
    def __init__(
        self,
        *,
        match_expressions: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions", typing.Dict[builtins.str, typing.Any]]]] = None,
        match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only ListenerSets in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        :param match_expressions: matchExpressions is a list of label selector requirements. The requirements are ANDed.
        :param match_labels: matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelector
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__d66f48b8ebbc968961f03b156e4b58d74d3ea95a30bf6ceed6e3f7bcae1fb596)
            check_type(argname="argument match_expressions", value=match_expressions, expected_type=type_hints["match_expressions"])
            check_type(argname="argument match_labels", value=match_labels, expected_type=type_hints["match_labels"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if match_expressions is not None:
            self._values["match_expressions"] = match_expressions
        if match_labels is not None:
            self._values["match_labels"] = match_labels

    @builtins.property
    def match_expressions(
        self,
    ) -> typing.Optional[typing.List["GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions"]]:
        '''matchExpressions is a list of label selector requirements.

        The requirements are ANDed.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelector#matchExpressions
        '''
        result = self._values.get("match_expressions")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions"]], result)

    @builtins.property
    def match_labels(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''matchLabels is a map of {key,value} pairs.

        A single {key,value} in the matchLabels
        map is equivalent to an element of matchExpressions, whose key field is "key", the
        operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelector#matchLabels
        '''
        result = self._values.get("match_labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecAllowedListenersNamespacesSelector(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "operator": "operator", "values": "values"},
)
class GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions:
    def __init__(
        self,
        *,
        key: builtins.str,
        operator: builtins.str,
        values: typing.Optional[typing.Sequence[builtins.str]] = None,
    ) -> None:
        '''A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.

        :param key: key is the label key that the selector applies to.
        :param operator: operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.
        :param values: values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c0d564f58f1085605eed401959a6a8c834c88bfe1c6393448cd37ed5a26c0c54)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument operator", value=operator, expected_type=type_hints["operator"])
            check_type(argname="argument values", value=values, expected_type=type_hints["values"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "operator": operator,
        }
        if values is not None:
            self._values["values"] = values

    @builtins.property
    def key(self) -> builtins.str:
        '''key is the label key that the selector applies to.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def operator(self) -> builtins.str:
        '''operator represents a key's relationship to a set of values.

        Valid operators are In, NotIn, Exists and DoesNotExist.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions#operator
        '''
        result = self._values.get("operator")
        assert result is not None, "Required property 'operator' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def values(self) -> typing.Optional[typing.List[builtins.str]]:
        '''values is an array of string values.

        If the operator is In or NotIn,
        the values array must be non-empty. If the operator is Exists or DoesNotExist,
        the values array must be empty. This array is replaced during a strategic
        merge patch.

        :schema: GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions#values
        '''
        result = self._values.get("values")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecInfrastructure",
    jsii_struct_bases=[],
    name_mapping={
        "annotations": "annotations",
        "labels": "labels",
        "parameters_ref": "parametersRef",
    },
)
class GatewayV1Beta1SpecInfrastructure:
    def __init__(
        self,
        *,
        annotations: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
        labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
        parameters_ref: typing.Optional[typing.Union["GatewayV1Beta1SpecInfrastructureParametersRef", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Infrastructure defines infrastructure level attributes about this Gateway instance.

        Support: Extended

        :param annotations: Annotations that SHOULD be applied to any resources created in response to this Gateway. For implementations creating other Kubernetes objects, this should be the ``metadata.annotations`` field on resources. For other implementations, this refers to any relevant (implementation specific) "annotations" concepts. An implementation may chose to add additional implementation-specific annotations as they see fit. Support: Extended
        :param labels: Labels that SHOULD be applied to any resources created in response to this Gateway. For implementations creating other Kubernetes objects, this should be the ``metadata.labels`` field on resources. For other implementations, this refers to any relevant (implementation specific) "labels" concepts. An implementation may chose to add additional implementation-specific labels as they see fit. If an implementation maps these labels to Pods, or any other resource that would need to be recreated when labels change, it SHOULD clearly warn about this behavior in documentation. Support: Extended
        :param parameters_ref: ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway. This is optional if the controller does not require any additional configuration. This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified, the merging behavior is implementation specific. It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway. If the referent cannot be found, refers to an unsupported kind, or when the data within that resource is malformed, the Gateway SHOULD be rejected with the "Accepted" status condition set to "False" and an "InvalidParameters" reason. Support: Implementation-specific

        :schema: GatewayV1Beta1SpecInfrastructure
        '''
        if isinstance(parameters_ref, dict):
            parameters_ref = GatewayV1Beta1SpecInfrastructureParametersRef(**parameters_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__57e70252bd86d251b9b84bcb6eb631161c9054ab7708e70f61682144d9b3ffa0)
            check_type(argname="argument annotations", value=annotations, expected_type=type_hints["annotations"])
            check_type(argname="argument labels", value=labels, expected_type=type_hints["labels"])
            check_type(argname="argument parameters_ref", value=parameters_ref, expected_type=type_hints["parameters_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if annotations is not None:
            self._values["annotations"] = annotations
        if labels is not None:
            self._values["labels"] = labels
        if parameters_ref is not None:
            self._values["parameters_ref"] = parameters_ref

    @builtins.property
    def annotations(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Annotations that SHOULD be applied to any resources created in response to this Gateway.

        For implementations creating other Kubernetes objects, this should be the ``metadata.annotations`` field on resources.
        For other implementations, this refers to any relevant (implementation specific) "annotations" concepts.

        An implementation may chose to add additional implementation-specific annotations as they see fit.

        Support: Extended

        :schema: GatewayV1Beta1SpecInfrastructure#annotations
        '''
        result = self._values.get("annotations")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    @builtins.property
    def labels(self) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Labels that SHOULD be applied to any resources created in response to this Gateway.

        For implementations creating other Kubernetes objects, this should be the ``metadata.labels`` field on resources.
        For other implementations, this refers to any relevant (implementation specific) "labels" concepts.

        An implementation may chose to add additional implementation-specific labels as they see fit.

        If an implementation maps these labels to Pods, or any other resource that would need to be recreated when labels
        change, it SHOULD clearly warn about this behavior in documentation.

        Support: Extended

        :schema: GatewayV1Beta1SpecInfrastructure#labels
        '''
        result = self._values.get("labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    @builtins.property
    def parameters_ref(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecInfrastructureParametersRef"]:
        '''ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway.

        This is optional if the
        controller does not require any additional configuration.

        This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis

        The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified,
        the merging behavior is implementation specific.
        It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway.

        If the referent cannot be found, refers to an unsupported kind, or when
        the data within that resource is malformed, the Gateway SHOULD be
        rejected with the "Accepted" status condition set to "False" and an
        "InvalidParameters" reason.

        Support: Implementation-specific

        :schema: GatewayV1Beta1SpecInfrastructure#parametersRef
        '''
        result = self._values.get("parameters_ref")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecInfrastructureParametersRef"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecInfrastructure(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecInfrastructureParametersRef",
    jsii_struct_bases=[],
    name_mapping={"group": "group", "kind": "kind", "name": "name"},
)
class GatewayV1Beta1SpecInfrastructureParametersRef:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
    ) -> None:
        '''ParametersRef is a reference to a resource that contains the configuration parameters corresponding to the Gateway.

        This is optional if the
        controller does not require any additional configuration.

        This follows the same semantics as GatewayClass's ``parametersRef``, but on a per-Gateway basis

        The Gateway's GatewayClass may provide its own ``parametersRef``. When both are specified,
        the merging behavior is implementation specific.
        It is generally recommended that GatewayClass provides defaults that can be overridden by a Gateway.

        If the referent cannot be found, refers to an unsupported kind, or when
        the data within that resource is malformed, the Gateway SHOULD be
        rejected with the "Accepted" status condition set to "False" and an
        "InvalidParameters" reason.

        Support: Implementation-specific

        :param group: Group is the group of the referent.
        :param kind: Kind is kind of the referent.
        :param name: Name is the name of the referent.

        :schema: GatewayV1Beta1SpecInfrastructureParametersRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__575a382c08de79c2e40441e5cf3e2e265d0274e1e837d896aaf6c3a38c76e047)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        :schema: GatewayV1Beta1SpecInfrastructureParametersRef#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        :schema: GatewayV1Beta1SpecInfrastructureParametersRef#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewayV1Beta1SpecInfrastructureParametersRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecInfrastructureParametersRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListeners",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "port": "port",
        "protocol": "protocol",
        "allowed_routes": "allowedRoutes",
        "hostname": "hostname",
        "tls": "tls",
    },
)
class GatewayV1Beta1SpecListeners:
    def __init__(
        self,
        *,
        name: builtins.str,
        port: jsii.Number,
        protocol: builtins.str,
        allowed_routes: typing.Optional[typing.Union["GatewayV1Beta1SpecListenersAllowedRoutes", typing.Dict[builtins.str, typing.Any]]] = None,
        hostname: typing.Optional[builtins.str] = None,
        tls: typing.Optional[typing.Union["GatewayV1Beta1SpecListenersTls", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Listener embodies the concept of a logical endpoint where a Gateway accepts network connections.

        :param name: Name is the name of the Listener. This name MUST be unique within a Gateway. Support: Core
        :param port: Port is the network port. Multiple listeners may use the same port, subject to the Listener compatibility rules. Support: Core
        :param protocol: Protocol specifies the network protocol this listener expects to receive. Support: Core
        :param allowed_routes: AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present. Although a client request may match multiple route rules, only one rule may ultimately receive the request. Matching precedence MUST be determined in order of the following criteria: - The most specific match as defined by the Route type. - The oldest Route based on creation timestamp. For example, a Route with a creation timestamp of "2020-09-08 01:02:03" is given precedence over a Route with a creation timestamp of "2020-09-08 01:02:04". - If everything else is equivalent, the Route appearing first in alphabetical order (namespace/name) should be given precedence. For example, foo/bar is given precedence over foo/baz. All valid rules within a Route attached to this Listener should be implemented. Invalid Route rules can be ignored (sometimes that will mean the full Route). If a Route rule transitions from valid to invalid, support for that Route rule should be dropped to ensure consistency. For example, even if a filter specified by a Route rule is invalid, the rest of the rules within that Route should still be supported. Support: Core
        :param hostname: Hostname specifies the virtual hostname to match for protocol types that define this concept. When unspecified, all hostnames are matched. This field is ignored for protocols that don't require hostname based matching. Implementations MUST apply Hostname matching appropriately for each of the following protocols: - TLS: The Listener Hostname MUST match the SNI. - HTTP: The Listener Hostname MUST match the Host header of the request. - HTTPS: The Listener Hostname SHOULD match both the SNI and Host header. Note that this does not require the SNI and Host header to be the same. The semantics of this are described in more detail below. To ensure security, Section 11.1 of RFC-6066 emphasizes that server implementations that rely on SNI hostname matching MUST also verify hostnames within the application protocol. Section 9.1.2 of RFC-7540 provides a mechanism for servers to reject the reuse of a connection by responding with the HTTP 421 Misdirected Request status code. This indicates that the origin server has rejected the request because it appears to have been misdirected. To detect misdirected requests, Gateways SHOULD match the authority of the requests with all the SNI hostname(s) configured across all the Gateway Listeners on the same port and protocol: - If another Listener has an exact match or more specific wildcard entry, the Gateway SHOULD return a 421. - If the current Listener (selected by SNI matching during ClientHello) does not match the Host: - If another Listener does match the Host, the Gateway SHOULD return a 421. - If no other Listener matches the Host, the Gateway MUST return a 404. For HTTPRoute and TLSRoute resources, there is an interaction with the ``spec.hostnames`` array. When both listener and route specify hostnames, there MUST be an intersection between the values for a Route to be accepted. For more information, refer to the Route specific Hostnames documentation. Hostnames that are prefixed with a wildcard label (``*.``) are interpreted as a suffix match. That means that a match for ``*.example.com`` would match both ``test.example.com``, and ``foo.test.example.com``, but not ``example.com``. Support: Core
        :param tls: TLS is the TLS configuration for the Listener. This field is required if the Protocol field is "HTTPS" or "TLS". It is invalid to set this field if the Protocol field is "HTTP", "TCP", or "UDP". The association of SNIs to Certificate defined in ListenerTLSConfig is defined based on the Hostname field for this listener. The GatewayClass MUST use the longest matching SNI out of all available certificates for any TLS handshake. Support: Core

        :schema: GatewayV1Beta1SpecListeners
        '''
        if isinstance(allowed_routes, dict):
            allowed_routes = GatewayV1Beta1SpecListenersAllowedRoutes(**allowed_routes)
        if isinstance(tls, dict):
            tls = GatewayV1Beta1SpecListenersTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6e799d61abcfd276148c17bb57c92854d4cd5cc2ea89d9d5daa52a9541c3037c)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument port", value=port, expected_type=type_hints["port"])
            check_type(argname="argument protocol", value=protocol, expected_type=type_hints["protocol"])
            check_type(argname="argument allowed_routes", value=allowed_routes, expected_type=type_hints["allowed_routes"])
            check_type(argname="argument hostname", value=hostname, expected_type=type_hints["hostname"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
            "port": port,
            "protocol": protocol,
        }
        if allowed_routes is not None:
            self._values["allowed_routes"] = allowed_routes
        if hostname is not None:
            self._values["hostname"] = hostname
        if tls is not None:
            self._values["tls"] = tls

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the Listener. This name MUST be unique within a Gateway.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def port(self) -> jsii.Number:
        '''Port is the network port. Multiple listeners may use the same port, subject to the Listener compatibility rules.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#port
        '''
        result = self._values.get("port")
        assert result is not None, "Required property 'port' is missing"
        return typing.cast(jsii.Number, result)

    @builtins.property
    def protocol(self) -> builtins.str:
        '''Protocol specifies the network protocol this listener expects to receive.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#protocol
        '''
        result = self._values.get("protocol")
        assert result is not None, "Required property 'protocol' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def allowed_routes(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutes"]:
        '''AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present.

        Although a client request may match multiple route rules, only one rule
        may ultimately receive the request. Matching precedence MUST be
        determined in order of the following criteria:

        - The most specific match as defined by the Route type.
        - The oldest Route based on creation timestamp. For example, a Route with
          a creation timestamp of "2020-09-08 01:02:03" is given precedence over
          a Route with a creation timestamp of "2020-09-08 01:02:04".
        - If everything else is equivalent, the Route appearing first in
          alphabetical order (namespace/name) should be given precedence. For
          example, foo/bar is given precedence over foo/baz.

        All valid rules within a Route attached to this Listener should be
        implemented. Invalid Route rules can be ignored (sometimes that will mean
        the full Route). If a Route rule transitions from valid to invalid,
        support for that Route rule should be dropped to ensure consistency. For
        example, even if a filter specified by a Route rule is invalid, the rest
        of the rules within that Route should still be supported.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#allowedRoutes
        '''
        result = self._values.get("allowed_routes")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutes"], result)

    @builtins.property
    def hostname(self) -> typing.Optional[builtins.str]:
        '''Hostname specifies the virtual hostname to match for protocol types that define this concept.

        When unspecified, all hostnames are matched. This
        field is ignored for protocols that don't require hostname based
        matching.

        Implementations MUST apply Hostname matching appropriately for each of
        the following protocols:

        - TLS: The Listener Hostname MUST match the SNI.
        - HTTP: The Listener Hostname MUST match the Host header of the request.
        - HTTPS: The Listener Hostname SHOULD match both the SNI and Host header.
          Note that this does not require the SNI and Host header to be the same.
          The semantics of this are described in more detail below.

        To ensure security, Section 11.1 of RFC-6066 emphasizes that server
        implementations that rely on SNI hostname matching MUST also verify
        hostnames within the application protocol.

        Section 9.1.2 of RFC-7540 provides a mechanism for servers to reject the
        reuse of a connection by responding with the HTTP 421 Misdirected Request
        status code. This indicates that the origin server has rejected the
        request because it appears to have been misdirected.

        To detect misdirected requests, Gateways SHOULD match the authority of
        the requests with all the SNI hostname(s) configured across all the
        Gateway Listeners on the same port and protocol:

        - If another Listener has an exact match or more specific wildcard entry,
          the Gateway SHOULD return a 421.
        - If the current Listener (selected by SNI matching during ClientHello)
          does not match the Host:
        - If another Listener does match the Host, the Gateway SHOULD return a

        1.

        - If no other Listener matches the Host, the Gateway MUST return a

        1.

        For HTTPRoute and TLSRoute resources, there is an interaction with the
        ``spec.hostnames`` array. When both listener and route specify hostnames,
        there MUST be an intersection between the values for a Route to be
        accepted. For more information, refer to the Route specific Hostnames
        documentation.

        Hostnames that are prefixed with a wildcard label (``*.``) are interpreted
        as a suffix match. That means that a match for ``*.example.com`` would match
        both ``test.example.com``, and ``foo.test.example.com``, but not ``example.com``.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#hostname
        '''
        result = self._values.get("hostname")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def tls(self) -> typing.Optional["GatewayV1Beta1SpecListenersTls"]:
        '''TLS is the TLS configuration for the Listener.

        This field is required if
        the Protocol field is "HTTPS" or "TLS". It is invalid to set this field
        if the Protocol field is "HTTP", "TCP", or "UDP".

        The association of SNIs to Certificate defined in ListenerTLSConfig is
        defined based on the Hostname field for this listener.

        The GatewayClass MUST use the longest matching SNI out of all
        available certificates for any TLS handshake.

        Support: Core

        :schema: GatewayV1Beta1SpecListeners#tls
        '''
        result = self._values.get("tls")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersTls"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListeners(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutes",
    jsii_struct_bases=[],
    name_mapping={"kinds": "kinds", "namespaces": "namespaces"},
)
class GatewayV1Beta1SpecListenersAllowedRoutes:
    def __init__(
        self,
        *,
        kinds: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecListenersAllowedRoutesKinds", typing.Dict[builtins.str, typing.Any]]]] = None,
        namespaces: typing.Optional[typing.Union["GatewayV1Beta1SpecListenersAllowedRoutesNamespaces", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''AllowedRoutes defines the types of routes that MAY be attached to a Listener and the trusted namespaces where those Route resources MAY be present.

        Although a client request may match multiple route rules, only one rule
        may ultimately receive the request. Matching precedence MUST be
        determined in order of the following criteria:

        - The most specific match as defined by the Route type.
        - The oldest Route based on creation timestamp. For example, a Route with
          a creation timestamp of "2020-09-08 01:02:03" is given precedence over
          a Route with a creation timestamp of "2020-09-08 01:02:04".
        - If everything else is equivalent, the Route appearing first in
          alphabetical order (namespace/name) should be given precedence. For
          example, foo/bar is given precedence over foo/baz.

        All valid rules within a Route attached to this Listener should be
        implemented. Invalid Route rules can be ignored (sometimes that will mean
        the full Route). If a Route rule transitions from valid to invalid,
        support for that Route rule should be dropped to ensure consistency. For
        example, even if a filter specified by a Route rule is invalid, the rest
        of the rules within that Route should still be supported.

        Support: Core

        :param kinds: Kinds specifies the groups and kinds of Routes that are allowed to bind to this Gateway Listener. When unspecified or empty, the kinds of Routes selected are determined using the Listener protocol. A RouteGroupKind MUST correspond to kinds of Routes that are compatible with the application protocol specified in the Listener's Protocol field. If an implementation does not support or recognize this resource type, it MUST set the "ResolvedRefs" condition to False for this Listener with the "InvalidRouteKinds" reason. Support: Core
        :param namespaces: Namespaces indicates namespaces from which Routes may be attached to this Listener. This is restricted to the namespace of this Gateway by default. Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutes
        '''
        if isinstance(namespaces, dict):
            namespaces = GatewayV1Beta1SpecListenersAllowedRoutesNamespaces(**namespaces)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e23f36826608738aba5eaee7ebaffa2a697960ad28ae1d69820e01778921d0f9)
            check_type(argname="argument kinds", value=kinds, expected_type=type_hints["kinds"])
            check_type(argname="argument namespaces", value=namespaces, expected_type=type_hints["namespaces"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if kinds is not None:
            self._values["kinds"] = kinds
        if namespaces is not None:
            self._values["namespaces"] = namespaces

    @builtins.property
    def kinds(
        self,
    ) -> typing.Optional[typing.List["GatewayV1Beta1SpecListenersAllowedRoutesKinds"]]:
        '''Kinds specifies the groups and kinds of Routes that are allowed to bind to this Gateway Listener.

        When unspecified or empty, the kinds of Routes
        selected are determined using the Listener protocol.

        A RouteGroupKind MUST correspond to kinds of Routes that are compatible
        with the application protocol specified in the Listener's Protocol field.
        If an implementation does not support or recognize this resource type, it
        MUST set the "ResolvedRefs" condition to False for this Listener with the
        "InvalidRouteKinds" reason.

        Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutes#kinds
        '''
        result = self._values.get("kinds")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecListenersAllowedRoutesKinds"]], result)

    @builtins.property
    def namespaces(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespaces"]:
        '''Namespaces indicates namespaces from which Routes may be attached to this Listener.

        This is restricted to the namespace of this Gateway by default.

        Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutes#namespaces
        '''
        result = self._values.get("namespaces")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespaces"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersAllowedRoutes(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutesKinds",
    jsii_struct_bases=[],
    name_mapping={"kind": "kind", "group": "group"},
)
class GatewayV1Beta1SpecListenersAllowedRoutesKinds:
    def __init__(
        self,
        *,
        kind: builtins.str,
        group: typing.Optional[builtins.str] = None,
    ) -> None:
        '''RouteGroupKind indicates the group and kind of a Route resource.

        :param kind: Kind is the kind of the Route.
        :param group: Group is the group of the Route.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesKinds
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__658556b07c403ebabf2ed35124adca3cc160fa73e22e81276cfe38fab635fc6d)
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "kind": kind,
        }
        if group is not None:
            self._values["group"] = group

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is the kind of the Route.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesKinds#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the Route.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesKinds#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersAllowedRoutesKinds(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutesNamespaces",
    jsii_struct_bases=[],
    name_mapping={"from_": "from", "selector": "selector"},
)
class GatewayV1Beta1SpecListenersAllowedRoutesNamespaces:
    def __init__(
        self,
        *,
        from_: typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom"] = None,
        selector: typing.Optional[typing.Union["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Namespaces indicates namespaces from which Routes may be attached to this Listener.

        This is restricted to the namespace of this Gateway by default.

        Support: Core

        :param from_: From indicates where Routes will be selected for this Gateway. Possible values are:. - All: Routes in all namespaces may be used by this Gateway. - Selector: Routes in namespaces selected by the selector may be used by this Gateway. - Same: Only Routes in the same namespace may be used by this Gateway. Support: Core
        :param selector: Selector must be specified when From is set to "Selector". In that case, only Routes in Namespaces matching this Selector will be selected by this Gateway. This field is ignored for other values of "From". Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespaces
        '''
        if isinstance(selector, dict):
            selector = GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector(**selector)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b895d6cd9b656790ebd1356aa6a7da01446d63c1328e2d503b6e025292bec4e9)
            check_type(argname="argument from_", value=from_, expected_type=type_hints["from_"])
            check_type(argname="argument selector", value=selector, expected_type=type_hints["selector"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if from_ is not None:
            self._values["from_"] = from_
        if selector is not None:
            self._values["selector"] = selector

    @builtins.property
    def from_(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom"]:
        '''From indicates where Routes will be selected for this Gateway. Possible values are:.

        - All: Routes in all namespaces may be used by this Gateway.
        - Selector: Routes in namespaces selected by the selector may be used by
          this Gateway.
        - Same: Only Routes in the same namespace may be used by this Gateway.

        Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespaces#from
        '''
        result = self._values.get("from_")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom"], result)

    @builtins.property
    def selector(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector"]:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only Routes in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        Support: Core

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespaces#selector
        '''
        result = self._values.get("selector")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersAllowedRoutesNamespaces(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom"
)
class GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom(enum.Enum):
    '''From indicates where Routes will be selected for this Gateway. Possible values are:.

    - All: Routes in all namespaces may be used by this Gateway.
    - Selector: Routes in namespaces selected by the selector may be used by
      this Gateway.
    - Same: Only Routes in the same namespace may be used by this Gateway.

    Support: Core

    :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom
    '''

    ALL = "ALL"
    '''All.'''
    SELECTOR = "SELECTOR"
    '''Selector.'''
    SAME = "SAME"
    '''Same.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector",
    jsii_struct_bases=[],
    name_mapping={
        "match_expressions": "matchExpressions",
        "match_labels": "matchLabels",
    },
)
class GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector:
    def __init__(
        self,
        *,
        match_expressions: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions", typing.Dict[builtins.str, typing.Any]]]] = None,
        match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''Selector must be specified when From is set to "Selector".

        In that case,
        only Routes in Namespaces matching this Selector will be selected by this
        Gateway. This field is ignored for other values of "From".

        Support: Core

        :param match_expressions: matchExpressions is a list of label selector requirements. The requirements are ANDed.
        :param match_labels: matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is "key", the operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6e0f91a1ff2cb43ae054e7a3cc4e01f6cd9af90b9e3f87d84214d5804a768d9d)
            check_type(argname="argument match_expressions", value=match_expressions, expected_type=type_hints["match_expressions"])
            check_type(argname="argument match_labels", value=match_labels, expected_type=type_hints["match_labels"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if match_expressions is not None:
            self._values["match_expressions"] = match_expressions
        if match_labels is not None:
            self._values["match_labels"] = match_labels

    @builtins.property
    def match_expressions(
        self,
    ) -> typing.Optional[typing.List["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions"]]:
        '''matchExpressions is a list of label selector requirements.

        The requirements are ANDed.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector#matchExpressions
        '''
        result = self._values.get("match_expressions")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions"]], result)

    @builtins.property
    def match_labels(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''matchLabels is a map of {key,value} pairs.

        A single {key,value} in the matchLabels
        map is equivalent to an element of matchExpressions, whose key field is "key", the
        operator is "In", and the values array contains only "value". The requirements are ANDed.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector#matchLabels
        '''
        result = self._values.get("match_labels")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "operator": "operator", "values": "values"},
)
class GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions:
    def __init__(
        self,
        *,
        key: builtins.str,
        operator: builtins.str,
        values: typing.Optional[typing.Sequence[builtins.str]] = None,
    ) -> None:
        '''A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.

        :param key: key is the label key that the selector applies to.
        :param operator: operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.
        :param values: values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__d97c653e3e32e16ff50069992ecdc265415045d460352aaf3f62a145f0db35cc)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument operator", value=operator, expected_type=type_hints["operator"])
            check_type(argname="argument values", value=values, expected_type=type_hints["values"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "operator": operator,
        }
        if values is not None:
            self._values["values"] = values

    @builtins.property
    def key(self) -> builtins.str:
        '''key is the label key that the selector applies to.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def operator(self) -> builtins.str:
        '''operator represents a key's relationship to a set of values.

        Valid operators are In, NotIn, Exists and DoesNotExist.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#operator
        '''
        result = self._values.get("operator")
        assert result is not None, "Required property 'operator' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def values(self) -> typing.Optional[typing.List[builtins.str]]:
        '''values is an array of string values.

        If the operator is In or NotIn,
        the values array must be non-empty. If the operator is Exists or DoesNotExist,
        the values array must be empty. This array is replaced during a strategic
        merge patch.

        :schema: GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions#values
        '''
        result = self._values.get("values")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersTls",
    jsii_struct_bases=[],
    name_mapping={
        "certificate_refs": "certificateRefs",
        "mode": "mode",
        "options": "options",
    },
)
class GatewayV1Beta1SpecListenersTls:
    def __init__(
        self,
        *,
        certificate_refs: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecListenersTlsCertificateRefs", typing.Dict[builtins.str, typing.Any]]]] = None,
        mode: typing.Optional["GatewayV1Beta1SpecListenersTlsMode"] = None,
        options: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''TLS is the TLS configuration for the Listener.

        This field is required if
        the Protocol field is "HTTPS" or "TLS". It is invalid to set this field
        if the Protocol field is "HTTP", "TCP", or "UDP".

        The association of SNIs to Certificate defined in ListenerTLSConfig is
        defined based on the Hostname field for this listener.

        The GatewayClass MUST use the longest matching SNI out of all
        available certificates for any TLS handshake.

        Support: Core

        :param certificate_refs: CertificateRefs contains a series of references to Kubernetes objects that contains TLS certificates and private keys. These certificates are used to establish a TLS handshake for requests that match the hostname of the associated listener. A single CertificateRef to a Kubernetes Secret has "Core" support. Implementations MAY choose to support attaching multiple certificates to a Listener, but this behavior is implementation-specific. References to a resource in different namespace are invalid UNLESS there is a ReferenceGrant in the target namespace that allows the certificate to be attached. If a ReferenceGrant does not allow this reference, the "ResolvedRefs" condition MUST be set to False for this listener with the "RefNotPermitted" reason. This field is required to have at least one element when the mode is set to "Terminate" (default) and is optional otherwise. CertificateRefs can reference to standard Kubernetes resources, i.e. Secret, or implementation-specific custom resources. Support: Core - A single reference to a Kubernetes Secret of type kubernetes.io/tls Support: Implementation-specific (More than one reference or other resource types)
        :param mode: Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:. - Terminate: The TLS session between the downstream client and the Gateway is terminated at the Gateway. This mode requires certificates to be specified in some way, such as populating the certificateRefs field. - Passthrough: The TLS session is NOT terminated by the Gateway. This implies that the Gateway can't decipher the TLS stream except for the ClientHello message of the TLS protocol. The certificateRefs field is ignored in this mode. Support: Core
        :param options: Options are a list of key/value pairs to enable extended TLS configuration for each implementation. For example, configuring the minimum TLS version or supported cipher suites. A set of common keys MAY be defined by the API in the future. To avoid any ambiguity, implementation-specific definitions MUST use domain-prefixed names, such as ``example.com/my-custom-option``. Un-prefixed names are reserved for key names defined by Gateway API. Support: Implementation-specific

        :schema: GatewayV1Beta1SpecListenersTls
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__8410918acda361439c5d1493aee7fa76678827b1581505c847313e84f5339dd9)
            check_type(argname="argument certificate_refs", value=certificate_refs, expected_type=type_hints["certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
            check_type(argname="argument options", value=options, expected_type=type_hints["options"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if certificate_refs is not None:
            self._values["certificate_refs"] = certificate_refs
        if mode is not None:
            self._values["mode"] = mode
        if options is not None:
            self._values["options"] = options

    @builtins.property
    def certificate_refs(
        self,
    ) -> typing.Optional[typing.List["GatewayV1Beta1SpecListenersTlsCertificateRefs"]]:
        '''CertificateRefs contains a series of references to Kubernetes objects that contains TLS certificates and private keys.

        These certificates are used to
        establish a TLS handshake for requests that match the hostname of the
        associated listener.

        A single CertificateRef to a Kubernetes Secret has "Core" support.
        Implementations MAY choose to support attaching multiple certificates to
        a Listener, but this behavior is implementation-specific.

        References to a resource in different namespace are invalid UNLESS there
        is a ReferenceGrant in the target namespace that allows the certificate
        to be attached. If a ReferenceGrant does not allow this reference, the
        "ResolvedRefs" condition MUST be set to False for this listener with the
        "RefNotPermitted" reason.

        This field is required to have at least one element when the mode is set
        to "Terminate" (default) and is optional otherwise.

        CertificateRefs can reference to standard Kubernetes resources, i.e.
        Secret, or implementation-specific custom resources.

        Support: Core - A single reference to a Kubernetes Secret of type kubernetes.io/tls

        Support: Implementation-specific (More than one reference or other resource types)

        :schema: GatewayV1Beta1SpecListenersTls#certificateRefs
        '''
        result = self._values.get("certificate_refs")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecListenersTlsCertificateRefs"]], result)

    @builtins.property
    def mode(self) -> typing.Optional["GatewayV1Beta1SpecListenersTlsMode"]:
        '''Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:.

        - Terminate: The TLS session between the downstream client and the
          Gateway is terminated at the Gateway. This mode requires certificates
          to be specified in some way, such as populating the certificateRefs
          field.
        - Passthrough: The TLS session is NOT terminated by the Gateway. This
          implies that the Gateway can't decipher the TLS stream except for
          the ClientHello message of the TLS protocol. The certificateRefs field
          is ignored in this mode.

        Support: Core

        :schema: GatewayV1Beta1SpecListenersTls#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecListenersTlsMode"], result)

    @builtins.property
    def options(self) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''Options are a list of key/value pairs to enable extended TLS configuration for each implementation.

        For example, configuring the
        minimum TLS version or supported cipher suites.

        A set of common keys MAY be defined by the API in the future. To avoid
        any ambiguity, implementation-specific definitions MUST use
        domain-prefixed names, such as ``example.com/my-custom-option``.
        Un-prefixed names are reserved for key names defined by Gateway API.

        Support: Implementation-specific

        :schema: GatewayV1Beta1SpecListenersTls#options
        '''
        result = self._values.get("options")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersTlsCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "group": "group",
        "kind": "kind",
        "namespace": "namespace",
    },
)
class GatewayV1Beta1SpecListenersTlsCertificateRefs:
    def __init__(
        self,
        *,
        name: builtins.str,
        group: typing.Optional[builtins.str] = None,
        kind: typing.Optional[builtins.str] = None,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''SecretObjectReference identifies an API object including its namespace, defaulting to Secret.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param name: Name is the name of the referent.
        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When unspecified or empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "Secret".
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewayV1Beta1SpecListenersTlsCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__22403604599aaf8491d9037f31dc4fc76dca5369c9d9af658a0341d58ca4a55e)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
        }
        if group is not None:
            self._values["group"] = group
        if kind is not None:
            self._values["kind"] = kind
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewayV1Beta1SpecListenersTlsCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When unspecified or empty string, core API group is inferred.

        :schema: GatewayV1Beta1SpecListenersTlsCertificateRefs#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def kind(self) -> typing.Optional[builtins.str]:
        '''Kind is kind of the referent.

        For example "Secret".

        :schema: GatewayV1Beta1SpecListenersTlsCertificateRefs#kind
        '''
        result = self._values.get("kind")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewayV1Beta1SpecListenersTlsCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecListenersTlsCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecListenersTlsMode"
)
class GatewayV1Beta1SpecListenersTlsMode(enum.Enum):
    '''Mode defines the TLS behavior for the TLS session initiated by the client. There are two possible modes:.

    - Terminate: The TLS session between the downstream client and the
      Gateway is terminated at the Gateway. This mode requires certificates
      to be specified in some way, such as populating the certificateRefs
      field.
    - Passthrough: The TLS session is NOT terminated by the Gateway. This
      implies that the Gateway can't decipher the TLS stream except for
      the ClientHello message of the TLS protocol. The certificateRefs field
      is ignored in this mode.

    Support: Core

    :schema: GatewayV1Beta1SpecListenersTlsMode
    '''

    TERMINATE = "TERMINATE"
    '''Terminate.'''
    PASSTHROUGH = "PASSTHROUGH"
    '''Passthrough.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTls",
    jsii_struct_bases=[],
    name_mapping={"backend": "backend", "frontend": "frontend"},
)
class GatewayV1Beta1SpecTls:
    def __init__(
        self,
        *,
        backend: typing.Optional[typing.Union["GatewayV1Beta1SpecTlsBackend", typing.Dict[builtins.str, typing.Any]]] = None,
        frontend: typing.Optional[typing.Union["GatewayV1Beta1SpecTlsFrontend", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''TLS specifies frontend and backend tls configuration for entire gateway.

        Support: Extended

        :param backend: Backend describes TLS configuration for gateway when connecting to backends. Note that this contains only details for the Gateway as a TLS client, and does *not* imply behavior about how to choose which backend should get a TLS connection. That is determined by the presence of a BackendTLSPolicy. Support: Core
        :param frontend: Frontend describes TLS config when client connects to Gateway. Support: Core

        :schema: GatewayV1Beta1SpecTls
        '''
        if isinstance(backend, dict):
            backend = GatewayV1Beta1SpecTlsBackend(**backend)
        if isinstance(frontend, dict):
            frontend = GatewayV1Beta1SpecTlsFrontend(**frontend)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a174b7d9a4a8fc7169c23d0b6a9fe60e39720e95995373b2f1774c311b911aa0)
            check_type(argname="argument backend", value=backend, expected_type=type_hints["backend"])
            check_type(argname="argument frontend", value=frontend, expected_type=type_hints["frontend"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if backend is not None:
            self._values["backend"] = backend
        if frontend is not None:
            self._values["frontend"] = frontend

    @builtins.property
    def backend(self) -> typing.Optional["GatewayV1Beta1SpecTlsBackend"]:
        '''Backend describes TLS configuration for gateway when connecting to backends.

        Note that this contains only details for the Gateway as a TLS client,
        and does *not* imply behavior about how to choose which backend should
        get a TLS connection. That is determined by the presence of a BackendTLSPolicy.

        Support: Core

        :schema: GatewayV1Beta1SpecTls#backend
        '''
        result = self._values.get("backend")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsBackend"], result)

    @builtins.property
    def frontend(self) -> typing.Optional["GatewayV1Beta1SpecTlsFrontend"]:
        '''Frontend describes TLS config when client connects to Gateway.

        Support: Core

        :schema: GatewayV1Beta1SpecTls#frontend
        '''
        result = self._values.get("frontend")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsFrontend"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsBackend",
    jsii_struct_bases=[],
    name_mapping={"client_certificate_ref": "clientCertificateRef"},
)
class GatewayV1Beta1SpecTlsBackend:
    def __init__(
        self,
        *,
        client_certificate_ref: typing.Optional[typing.Union["GatewayV1Beta1SpecTlsBackendClientCertificateRef", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Backend describes TLS configuration for gateway when connecting to backends.

        Note that this contains only details for the Gateway as a TLS client,
        and does *not* imply behavior about how to choose which backend should
        get a TLS connection. That is determined by the presence of a BackendTLSPolicy.

        Support: Core

        :param client_certificate_ref: ClientCertificateRef references an object that contains a client certificate and its associated private key. It can reference standard Kubernetes resources, i.e., Secret, or implementation-specific custom resources. A ClientCertificateRef is considered invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a Secret does not contain the keys named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef`` and the Message of the Condition MUST indicate why the reference is invalid. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition on the Gateway MUST be set to False with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``). Support: Implementation-specific - Other resource kinds or Secrets with a different type (e.g., ``Opaque``).

        :schema: GatewayV1Beta1SpecTlsBackend
        '''
        if isinstance(client_certificate_ref, dict):
            client_certificate_ref = GatewayV1Beta1SpecTlsBackendClientCertificateRef(**client_certificate_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f969487ca82b7b87737e0411f6185bd235766adc1298ef64507acb7316c0b269)
            check_type(argname="argument client_certificate_ref", value=client_certificate_ref, expected_type=type_hints["client_certificate_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if client_certificate_ref is not None:
            self._values["client_certificate_ref"] = client_certificate_ref

    @builtins.property
    def client_certificate_ref(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecTlsBackendClientCertificateRef"]:
        '''ClientCertificateRef references an object that contains a client certificate and its associated private key.

        It can reference standard Kubernetes resources,
        i.e., Secret, or implementation-specific custom resources.

        A ClientCertificateRef is considered invalid if:

        - It refers to a resource that cannot be resolved (e.g., the referenced resource
          does not exist) or is misconfigured (e.g., a Secret does not contain the keys
          named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef``
          and the Message of the Condition MUST indicate why the reference is invalid.
        - It refers to a resource in another namespace UNLESS there is a ReferenceGrant
          in the target namespace that allows the certificate to be attached.
          If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the certificate
        content (e.g., checking expiry or enforcing specific formats). In such cases,
        an implementation-specific Reason and Message MUST be set.

        Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``).
        Support: Implementation-specific - Other resource kinds or Secrets with a
        different type (e.g., ``Opaque``).

        :schema: GatewayV1Beta1SpecTlsBackend#clientCertificateRef
        '''
        result = self._values.get("client_certificate_ref")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsBackendClientCertificateRef"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsBackend(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsBackendClientCertificateRef",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "group": "group",
        "kind": "kind",
        "namespace": "namespace",
    },
)
class GatewayV1Beta1SpecTlsBackendClientCertificateRef:
    def __init__(
        self,
        *,
        name: builtins.str,
        group: typing.Optional[builtins.str] = None,
        kind: typing.Optional[builtins.str] = None,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ClientCertificateRef references an object that contains a client certificate and its associated private key.

        It can reference standard Kubernetes resources,
        i.e., Secret, or implementation-specific custom resources.

        A ClientCertificateRef is considered invalid if:

        - It refers to a resource that cannot be resolved (e.g., the referenced resource
          does not exist) or is misconfigured (e.g., a Secret does not contain the keys
          named ``tls.crt`` and ``tls.key``). In this case, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``InvalidClientCertificateRef``
          and the Message of the Condition MUST indicate why the reference is invalid.
        - It refers to a resource in another namespace UNLESS there is a ReferenceGrant
          in the target namespace that allows the certificate to be attached.
          If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` condition
          on the Gateway MUST be set to False with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the certificate
        content (e.g., checking expiry or enforcing specific formats). In such cases,
        an implementation-specific Reason and Message MUST be set.

        Support: Core - Reference to a Kubernetes TLS Secret (with the type ``kubernetes.io/tls``).
        Support: Implementation-specific - Other resource kinds or Secrets with a
        different type (e.g., ``Opaque``).

        :param name: Name is the name of the referent.
        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When unspecified or empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "Secret".
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewayV1Beta1SpecTlsBackendClientCertificateRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__0f37e597374fb271e9e0631fe0359f52fc8a6ed0b69b49d310b76c0c1d47c1f7)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
        }
        if group is not None:
            self._values["group"] = group
        if kind is not None:
            self._values["kind"] = kind
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewayV1Beta1SpecTlsBackendClientCertificateRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def group(self) -> typing.Optional[builtins.str]:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When unspecified or empty string, core API group is inferred.

        :schema: GatewayV1Beta1SpecTlsBackendClientCertificateRef#group
        '''
        result = self._values.get("group")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def kind(self) -> typing.Optional[builtins.str]:
        '''Kind is kind of the referent.

        For example "Secret".

        :schema: GatewayV1Beta1SpecTlsBackendClientCertificateRef#kind
        '''
        result = self._values.get("kind")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsBackendClientCertificateRef#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsBackendClientCertificateRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontend",
    jsii_struct_bases=[],
    name_mapping={"default": "default", "per_port": "perPort"},
)
class GatewayV1Beta1SpecTlsFrontend:
    def __init__(
        self,
        *,
        default: typing.Union["GatewayV1Beta1SpecTlsFrontendDefault", typing.Dict[builtins.str, typing.Any]],
        per_port: typing.Optional[typing.Sequence[typing.Union["GatewayV1Beta1SpecTlsFrontendPerPort", typing.Dict[builtins.str, typing.Any]]]] = None,
    ) -> None:
        '''Frontend describes TLS config when client connects to Gateway.

        Support: Core

        :param default: Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined. support: Core
        :param per_port: PerPort specifies tls configuration assigned per port. Per port configuration is optional. Once set this configuration overrides the default configuration for all Listeners handling HTTPS traffic that match this port. Each override port requires a unique TLS configuration. support: Core

        :schema: GatewayV1Beta1SpecTlsFrontend
        '''
        if isinstance(default, dict):
            default = GatewayV1Beta1SpecTlsFrontendDefault(**default)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a7d5362bdbb7b3bdefdf76facfe269bb7158845848208227c84448d52876818c)
            check_type(argname="argument default", value=default, expected_type=type_hints["default"])
            check_type(argname="argument per_port", value=per_port, expected_type=type_hints["per_port"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "default": default,
        }
        if per_port is not None:
            self._values["per_port"] = per_port

    @builtins.property
    def default(self) -> "GatewayV1Beta1SpecTlsFrontendDefault":
        '''Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined.

        support: Core

        :schema: GatewayV1Beta1SpecTlsFrontend#default
        '''
        result = self._values.get("default")
        assert result is not None, "Required property 'default' is missing"
        return typing.cast("GatewayV1Beta1SpecTlsFrontendDefault", result)

    @builtins.property
    def per_port(
        self,
    ) -> typing.Optional[typing.List["GatewayV1Beta1SpecTlsFrontendPerPort"]]:
        '''PerPort specifies tls configuration assigned per port.

        Per port configuration is optional. Once set this configuration overrides
        the default configuration for all Listeners handling HTTPS traffic
        that match this port.
        Each override port requires a unique TLS configuration.

        support: Core

        :schema: GatewayV1Beta1SpecTlsFrontend#perPort
        '''
        result = self._values.get("per_port")
        return typing.cast(typing.Optional[typing.List["GatewayV1Beta1SpecTlsFrontendPerPort"]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontend(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendDefault",
    jsii_struct_bases=[],
    name_mapping={"validation": "validation"},
)
class GatewayV1Beta1SpecTlsFrontendDefault:
    def __init__(
        self,
        *,
        validation: typing.Optional[typing.Union["GatewayV1Beta1SpecTlsFrontendDefaultValidation", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Default specifies the default client certificate validation configuration for all Listeners handling HTTPS traffic, unless a per-port configuration is defined.

        support: Core

        :param validation: Validation holds configuration information for validating the frontend (client). Setting this field will result in mutual authentication when connecting to the gateway. In browsers this may result in a dialog appearing that requests a user to specify the client certificate. The maximum depth of a certificate chain accepted in verification is Implementation specific. Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendDefault
        '''
        if isinstance(validation, dict):
            validation = GatewayV1Beta1SpecTlsFrontendDefaultValidation(**validation)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__2d20bd37af8d856369f97694e3381f4a14e36ccebce3d67fdb9365d855ee68a0)
            check_type(argname="argument validation", value=validation, expected_type=type_hints["validation"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if validation is not None:
            self._values["validation"] = validation

    @builtins.property
    def validation(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecTlsFrontendDefaultValidation"]:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendDefault#validation
        '''
        result = self._values.get("validation")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsFrontendDefaultValidation"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendDefault(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendDefaultValidation",
    jsii_struct_bases=[],
    name_mapping={"ca_certificate_refs": "caCertificateRefs", "mode": "mode"},
)
class GatewayV1Beta1SpecTlsFrontendDefaultValidation:
    def __init__(
        self,
        *,
        ca_certificate_refs: typing.Sequence[typing.Union["GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs", typing.Dict[builtins.str, typing.Any]]],
        mode: typing.Optional["GatewayV1Beta1SpecTlsFrontendDefaultValidationMode"] = None,
    ) -> None:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :param ca_certificate_refs: CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client. A CACertificateRef is invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a ConfigMap does not contain a key named ``ca.crt``). In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef`` and the Message of the Condition must indicate which reference is invalid and why. - It refers to an unknown or unsupported kind of resource. In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateKind`` and the Message of the Condition must explain which kind of resource is unknown or unsupported. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the CA certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition MUST be set with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. In all cases, the implementation MUST ensure that the ``ResolvedRefs`` condition is set to ``status: False`` on all targeted listeners (i.e., listeners serving HTTPS on a matching port). The condition MUST include a Reason and Message that indicate the cause of the error. If ALL CACertificateRefs are invalid, the implementation MUST also ensure the ``Accepted`` condition on the listener is set to ``status: False``, with the Reason ``NoValidCACertificate``. Implementations MAY choose to support attaching multiple CA certificates to a listener, but this behavior is implementation-specific. Support: Core - A single reference to a Kubernetes ConfigMap, with the CA certificate in a key named ``ca.crt``. Support: Implementation-specific - More than one reference, other kinds of resources, or a single reference that includes multiple certificates.
        :param mode: FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:. - AllowValidOnly: In this mode, the gateway will accept connections only if the client presents a valid certificate. This certificate must successfully pass validation against the CA certificates specified in ``CACertificateRefs``. - AllowInsecureFallback: In this mode, the gateway will accept connections even if the client certificate is not presented or fails verification. This approach delegates client authorization to the backend and introduce a significant security risk. It should be used in testing environments or on a temporary basis in non-testing environments. Defaults to AllowValidOnly. Support: Core Default: AllowValidOnly.

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidation
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__9aaa68e60f2c0a30943732070b7a6f9ba99ce9bc9f2c96e6bf49fd1d73787a75)
            check_type(argname="argument ca_certificate_refs", value=ca_certificate_refs, expected_type=type_hints["ca_certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "ca_certificate_refs": ca_certificate_refs,
        }
        if mode is not None:
            self._values["mode"] = mode

    @builtins.property
    def ca_certificate_refs(
        self,
    ) -> typing.List["GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs"]:
        '''CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client.

        A CACertificateRef is invalid if:

        - It refers to a resource that cannot be resolved (e.g., the
          referenced resource does not exist) or is misconfigured (e.g., a
          ConfigMap does not contain a key named ``ca.crt``). In this case, the
          Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef``
          and the Message of the Condition must indicate which reference is invalid and why.
        - It refers to an unknown or unsupported kind of resource. In this
          case, the Reason on all matching HTTPS listeners must be set to
          ``InvalidCACertificateKind`` and the Message of the Condition must explain
          which kind of resource is unknown or unsupported.
        - It refers to a resource in another namespace UNLESS there is a
          ReferenceGrant in the target namespace that allows the CA
          certificate to be attached. If a ReferenceGrant does not allow this
          reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition
          MUST be set with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the
        certificate content (e.g., checking expiry or enforcing specific formats).
        In such cases, an implementation-specific Reason and Message MUST be set.

        In all cases, the implementation MUST ensure that the ``ResolvedRefs``
        condition is set to ``status: False`` on all targeted listeners (i.e.,
        listeners serving HTTPS on a matching port). The condition MUST
        include a Reason and Message that indicate the cause of the error. If
        ALL CACertificateRefs are invalid, the implementation MUST also ensure
        the ``Accepted`` condition on the listener is set to ``status: False``, with
        the Reason ``NoValidCACertificate``.
        Implementations MAY choose to support attaching multiple CA certificates
        to a listener, but this behavior is implementation-specific.

        Support: Core - A single reference to a Kubernetes ConfigMap, with the
        CA certificate in a key named ``ca.crt``.

        Support: Implementation-specific - More than one reference, other kinds
        of resources, or a single reference that includes multiple certificates.

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidation#caCertificateRefs
        '''
        result = self._values.get("ca_certificate_refs")
        assert result is not None, "Required property 'ca_certificate_refs' is missing"
        return typing.cast(typing.List["GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs"], result)

    @builtins.property
    def mode(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecTlsFrontendDefaultValidationMode"]:
        '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

        - AllowValidOnly: In this mode, the gateway will accept connections only if
          the client presents a valid certificate. This certificate must successfully
          pass validation against the CA certificates specified in ``CACertificateRefs``.
        - AllowInsecureFallback: In this mode, the gateway will accept connections
          even if the client certificate is not presented or fails verification.

        This approach delegates client authorization to the backend and introduce
        a significant security risk. It should be used in testing environments or
        on a temporary basis in non-testing environments.

        Defaults to AllowValidOnly.

        Support: Core

        :default: AllowValidOnly.

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidation#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsFrontendDefaultValidationMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendDefaultValidation(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "group": "group",
        "kind": "kind",
        "name": "name",
        "namespace": "namespace",
    },
)
class GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ObjectReference identifies an API object including its namespace.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When set to the empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "ConfigMap" or "Service".
        :param name: Name is the name of the referent.
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__021034517e5fe51700c6182a881ef7729cbdea42253fa2d7e6878ff5e5f8f2a9)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When set to the empty string, core API group is inferred.

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        For example "ConfigMap" or "Service".

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendDefaultValidationMode"
)
class GatewayV1Beta1SpecTlsFrontendDefaultValidationMode(enum.Enum):
    '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

    - AllowValidOnly: In this mode, the gateway will accept connections only if
      the client presents a valid certificate. This certificate must successfully
      pass validation against the CA certificates specified in ``CACertificateRefs``.
    - AllowInsecureFallback: In this mode, the gateway will accept connections
      even if the client certificate is not presented or fails verification.

    This approach delegates client authorization to the backend and introduce
    a significant security risk. It should be used in testing environments or
    on a temporary basis in non-testing environments.

    Defaults to AllowValidOnly.

    Support: Core

    :default: AllowValidOnly.

    :schema: GatewayV1Beta1SpecTlsFrontendDefaultValidationMode
    '''

    ALLOW_VALID_ONLY = "ALLOW_VALID_ONLY"
    '''AllowValidOnly.'''
    ALLOW_INSECURE_FALLBACK = "ALLOW_INSECURE_FALLBACK"
    '''AllowInsecureFallback.'''


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendPerPort",
    jsii_struct_bases=[],
    name_mapping={"port": "port", "tls": "tls"},
)
class GatewayV1Beta1SpecTlsFrontendPerPort:
    def __init__(
        self,
        *,
        port: jsii.Number,
        tls: typing.Union["GatewayV1Beta1SpecTlsFrontendPerPortTls", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param port: The Port indicates the Port Number to which the TLS configuration will be applied. This configuration will be applied to all Listeners handling HTTPS traffic that match this port. Support: Core
        :param tls: TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port. Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPort
        '''
        if isinstance(tls, dict):
            tls = GatewayV1Beta1SpecTlsFrontendPerPortTls(**tls)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b1bbef4e1b86523bd62fddf13ce75fdfcb39f8ee513c5218e05c0fcdd68c8522)
            check_type(argname="argument port", value=port, expected_type=type_hints["port"])
            check_type(argname="argument tls", value=tls, expected_type=type_hints["tls"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "port": port,
            "tls": tls,
        }

    @builtins.property
    def port(self) -> jsii.Number:
        '''The Port indicates the Port Number to which the TLS configuration will be applied.

        This configuration will be applied to all Listeners handling HTTPS
        traffic that match this port.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPort#port
        '''
        result = self._values.get("port")
        assert result is not None, "Required property 'port' is missing"
        return typing.cast(jsii.Number, result)

    @builtins.property
    def tls(self) -> "GatewayV1Beta1SpecTlsFrontendPerPortTls":
        '''TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPort#tls
        '''
        result = self._values.get("tls")
        assert result is not None, "Required property 'tls' is missing"
        return typing.cast("GatewayV1Beta1SpecTlsFrontendPerPortTls", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendPerPort(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendPerPortTls",
    jsii_struct_bases=[],
    name_mapping={"validation": "validation"},
)
class GatewayV1Beta1SpecTlsFrontendPerPortTls:
    def __init__(
        self,
        *,
        validation: typing.Optional[typing.Union["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''TLS store the configuration that will be applied to all Listeners handling HTTPS traffic and matching given port.

        Support: Core

        :param validation: Validation holds configuration information for validating the frontend (client). Setting this field will result in mutual authentication when connecting to the gateway. In browsers this may result in a dialog appearing that requests a user to specify the client certificate. The maximum depth of a certificate chain accepted in verification is Implementation specific. Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTls
        '''
        if isinstance(validation, dict):
            validation = GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation(**validation)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__b8c5b947d8b8b57337c97499b943f945b0500053dfd689c3b97035fc079d4063)
            check_type(argname="argument validation", value=validation, expected_type=type_hints["validation"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if validation is not None:
            self._values["validation"] = validation

    @builtins.property
    def validation(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation"]:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTls#validation
        '''
        result = self._values.get("validation")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendPerPortTls(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation",
    jsii_struct_bases=[],
    name_mapping={"ca_certificate_refs": "caCertificateRefs", "mode": "mode"},
)
class GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation:
    def __init__(
        self,
        *,
        ca_certificate_refs: typing.Sequence[typing.Union["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs", typing.Dict[builtins.str, typing.Any]]],
        mode: typing.Optional["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode"] = None,
    ) -> None:
        '''Validation holds configuration information for validating the frontend (client).

        Setting this field will result in mutual authentication when connecting to the gateway.
        In browsers this may result in a dialog appearing
        that requests a user to specify the client certificate.
        The maximum depth of a certificate chain accepted in verification is Implementation specific.

        Support: Core

        :param ca_certificate_refs: CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client. A CACertificateRef is invalid if: - It refers to a resource that cannot be resolved (e.g., the referenced resource does not exist) or is misconfigured (e.g., a ConfigMap does not contain a key named ``ca.crt``). In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef`` and the Message of the Condition must indicate which reference is invalid and why. - It refers to an unknown or unsupported kind of resource. In this case, the Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateKind`` and the Message of the Condition must explain which kind of resource is unknown or unsupported. - It refers to a resource in another namespace UNLESS there is a ReferenceGrant in the target namespace that allows the CA certificate to be attached. If a ReferenceGrant does not allow this reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition MUST be set with the Reason ``RefNotPermitted``. Implementations MAY choose to perform further validation of the certificate content (e.g., checking expiry or enforcing specific formats). In such cases, an implementation-specific Reason and Message MUST be set. In all cases, the implementation MUST ensure that the ``ResolvedRefs`` condition is set to ``status: False`` on all targeted listeners (i.e., listeners serving HTTPS on a matching port). The condition MUST include a Reason and Message that indicate the cause of the error. If ALL CACertificateRefs are invalid, the implementation MUST also ensure the ``Accepted`` condition on the listener is set to ``status: False``, with the Reason ``NoValidCACertificate``. Implementations MAY choose to support attaching multiple CA certificates to a listener, but this behavior is implementation-specific. Support: Core - A single reference to a Kubernetes ConfigMap, with the CA certificate in a key named ``ca.crt``. Support: Implementation-specific - More than one reference, other kinds of resources, or a single reference that includes multiple certificates.
        :param mode: FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:. - AllowValidOnly: In this mode, the gateway will accept connections only if the client presents a valid certificate. This certificate must successfully pass validation against the CA certificates specified in ``CACertificateRefs``. - AllowInsecureFallback: In this mode, the gateway will accept connections even if the client certificate is not presented or fails verification. This approach delegates client authorization to the backend and introduce a significant security risk. It should be used in testing environments or on a temporary basis in non-testing environments. Defaults to AllowValidOnly. Support: Core Default: AllowValidOnly.

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__90280efd1b509c0958d4db7ff02060e5a102c28bac08be79db2e73705f8971bd)
            check_type(argname="argument ca_certificate_refs", value=ca_certificate_refs, expected_type=type_hints["ca_certificate_refs"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "ca_certificate_refs": ca_certificate_refs,
        }
        if mode is not None:
            self._values["mode"] = mode

    @builtins.property
    def ca_certificate_refs(
        self,
    ) -> typing.List["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs"]:
        '''CACertificateRefs contains one or more references to Kubernetes objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a trust anchor to validate the certificates presented by the client.

        A CACertificateRef is invalid if:

        - It refers to a resource that cannot be resolved (e.g., the
          referenced resource does not exist) or is misconfigured (e.g., a
          ConfigMap does not contain a key named ``ca.crt``). In this case, the
          Reason on all matching HTTPS listeners must be set to ``InvalidCACertificateRef``
          and the Message of the Condition must indicate which reference is invalid and why.
        - It refers to an unknown or unsupported kind of resource. In this
          case, the Reason on all matching HTTPS listeners must be set to
          ``InvalidCACertificateKind`` and the Message of the Condition must explain
          which kind of resource is unknown or unsupported.
        - It refers to a resource in another namespace UNLESS there is a
          ReferenceGrant in the target namespace that allows the CA
          certificate to be attached. If a ReferenceGrant does not allow this
          reference, the ``ResolvedRefs`` on all matching HTTPS listeners condition
          MUST be set with the Reason ``RefNotPermitted``.

        Implementations MAY choose to perform further validation of the
        certificate content (e.g., checking expiry or enforcing specific formats).
        In such cases, an implementation-specific Reason and Message MUST be set.

        In all cases, the implementation MUST ensure that the ``ResolvedRefs``
        condition is set to ``status: False`` on all targeted listeners (i.e.,
        listeners serving HTTPS on a matching port). The condition MUST
        include a Reason and Message that indicate the cause of the error. If
        ALL CACertificateRefs are invalid, the implementation MUST also ensure
        the ``Accepted`` condition on the listener is set to ``status: False``, with
        the Reason ``NoValidCACertificate``.
        Implementations MAY choose to support attaching multiple CA certificates
        to a listener, but this behavior is implementation-specific.

        Support: Core - A single reference to a Kubernetes ConfigMap, with the
        CA certificate in a key named ``ca.crt``.

        Support: Implementation-specific - More than one reference, other kinds
        of resources, or a single reference that includes multiple certificates.

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation#caCertificateRefs
        '''
        result = self._values.get("ca_certificate_refs")
        assert result is not None, "Required property 'ca_certificate_refs' is missing"
        return typing.cast(typing.List["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs"], result)

    @builtins.property
    def mode(
        self,
    ) -> typing.Optional["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode"]:
        '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

        - AllowValidOnly: In this mode, the gateway will accept connections only if
          the client presents a valid certificate. This certificate must successfully
          pass validation against the CA certificates specified in ``CACertificateRefs``.
        - AllowInsecureFallback: In this mode, the gateway will accept connections
          even if the client certificate is not presented or fails verification.

        This approach delegates client authorization to the backend and introduce
        a significant security risk. It should be used in testing environments or
        on a temporary basis in non-testing environments.

        Defaults to AllowValidOnly.

        Support: Core

        :default: AllowValidOnly.

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs",
    jsii_struct_bases=[],
    name_mapping={
        "group": "group",
        "kind": "kind",
        "name": "name",
        "namespace": "namespace",
    },
)
class GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs:
    def __init__(
        self,
        *,
        group: builtins.str,
        kind: builtins.str,
        name: builtins.str,
        namespace: typing.Optional[builtins.str] = None,
    ) -> None:
        '''ObjectReference identifies an API object including its namespace.

        The API object must be valid in the cluster; the Group and Kind must
        be registered in the cluster for this reference to be valid.

        References to objects with invalid Group and Kind are not valid, and must
        be rejected by the implementation, with appropriate Conditions set
        on the containing object.

        :param group: Group is the group of the referent. For example, "gateway.networking.k8s.io". When set to the empty string, core API group is inferred.
        :param kind: Kind is kind of the referent. For example "ConfigMap" or "Service".
        :param name: Name is the name of the referent.
        :param namespace: Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred. Note that when a namespace different than the local namespace is specified, a ReferenceGrant object is required in the referent namespace to allow that namespace's owner to accept the reference. See the ReferenceGrant documentation for details. Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4959c6399169e159e4e4e26c9792ca9fa29aab384534bcb842c036aa17739e01)
            check_type(argname="argument group", value=group, expected_type=type_hints["group"])
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "group": group,
            "kind": kind,
            "name": name,
        }
        if namespace is not None:
            self._values["namespace"] = namespace

    @builtins.property
    def group(self) -> builtins.str:
        '''Group is the group of the referent.

        For example, "gateway.networking.k8s.io".
        When set to the empty string, core API group is inferred.

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs#group
        '''
        result = self._values.get("group")
        assert result is not None, "Required property 'group' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def kind(self) -> builtins.str:
        '''Kind is kind of the referent.

        For example "ConfigMap" or "Service".

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''Name is the name of the referent.

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''Namespace is the namespace of the referenced object. When unspecified, the local namespace is inferred.

        Note that when a namespace different than the local namespace is specified,
        a ReferenceGrant object is required in the referent namespace to allow that
        namespace's owner to accept the reference. See the ReferenceGrant
        documentation for details.

        Support: Core

        :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="gateways_iok8snetworkinggateway.GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode"
)
class GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode(enum.Enum):
    '''FrontendValidationMode defines the mode for validating the client certificate. There are two possible modes:.

    - AllowValidOnly: In this mode, the gateway will accept connections only if
      the client presents a valid certificate. This certificate must successfully
      pass validation against the CA certificates specified in ``CACertificateRefs``.
    - AllowInsecureFallback: In this mode, the gateway will accept connections
      even if the client certificate is not presented or fails verification.

    This approach delegates client authorization to the backend and introduce
    a significant security risk. It should be used in testing environments or
    on a temporary basis in non-testing environments.

    Defaults to AllowValidOnly.

    Support: Core

    :default: AllowValidOnly.

    :schema: GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode
    '''

    ALLOW_VALID_ONLY = "ALLOW_VALID_ONLY"
    '''AllowValidOnly.'''
    ALLOW_INSECURE_FALLBACK = "ALLOW_INSECURE_FALLBACK"
    '''AllowInsecureFallback.'''


__all__ = [
    "Gateway",
    "GatewayProps",
    "GatewaySpec",
    "GatewaySpecAddresses",
    "GatewaySpecAllowedListeners",
    "GatewaySpecAllowedListenersNamespaces",
    "GatewaySpecAllowedListenersNamespacesFrom",
    "GatewaySpecAllowedListenersNamespacesSelector",
    "GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions",
    "GatewaySpecInfrastructure",
    "GatewaySpecInfrastructureParametersRef",
    "GatewaySpecListeners",
    "GatewaySpecListenersAllowedRoutes",
    "GatewaySpecListenersAllowedRoutesKinds",
    "GatewaySpecListenersAllowedRoutesNamespaces",
    "GatewaySpecListenersAllowedRoutesNamespacesFrom",
    "GatewaySpecListenersAllowedRoutesNamespacesSelector",
    "GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions",
    "GatewaySpecListenersTls",
    "GatewaySpecListenersTlsCertificateRefs",
    "GatewaySpecListenersTlsMode",
    "GatewaySpecTls",
    "GatewaySpecTlsBackend",
    "GatewaySpecTlsBackendClientCertificateRef",
    "GatewaySpecTlsFrontend",
    "GatewaySpecTlsFrontendDefault",
    "GatewaySpecTlsFrontendDefaultValidation",
    "GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs",
    "GatewaySpecTlsFrontendDefaultValidationMode",
    "GatewaySpecTlsFrontendPerPort",
    "GatewaySpecTlsFrontendPerPortTls",
    "GatewaySpecTlsFrontendPerPortTlsValidation",
    "GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs",
    "GatewaySpecTlsFrontendPerPortTlsValidationMode",
    "GatewayV1Beta1",
    "GatewayV1Beta1Props",
    "GatewayV1Beta1Spec",
    "GatewayV1Beta1SpecAddresses",
    "GatewayV1Beta1SpecAllowedListeners",
    "GatewayV1Beta1SpecAllowedListenersNamespaces",
    "GatewayV1Beta1SpecAllowedListenersNamespacesFrom",
    "GatewayV1Beta1SpecAllowedListenersNamespacesSelector",
    "GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions",
    "GatewayV1Beta1SpecInfrastructure",
    "GatewayV1Beta1SpecInfrastructureParametersRef",
    "GatewayV1Beta1SpecListeners",
    "GatewayV1Beta1SpecListenersAllowedRoutes",
    "GatewayV1Beta1SpecListenersAllowedRoutesKinds",
    "GatewayV1Beta1SpecListenersAllowedRoutesNamespaces",
    "GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom",
    "GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector",
    "GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions",
    "GatewayV1Beta1SpecListenersTls",
    "GatewayV1Beta1SpecListenersTlsCertificateRefs",
    "GatewayV1Beta1SpecListenersTlsMode",
    "GatewayV1Beta1SpecTls",
    "GatewayV1Beta1SpecTlsBackend",
    "GatewayV1Beta1SpecTlsBackendClientCertificateRef",
    "GatewayV1Beta1SpecTlsFrontend",
    "GatewayV1Beta1SpecTlsFrontendDefault",
    "GatewayV1Beta1SpecTlsFrontendDefaultValidation",
    "GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs",
    "GatewayV1Beta1SpecTlsFrontendDefaultValidationMode",
    "GatewayV1Beta1SpecTlsFrontendPerPort",
    "GatewayV1Beta1SpecTlsFrontendPerPortTls",
    "GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation",
    "GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs",
    "GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode",
]

publication.publish()

def _typecheckingstub__7466f79324bc1e4acf8002f44858d3b796d4caa3a6c19d5bc20df0aeb35e0bd6(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    spec: typing.Union[GatewaySpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b70655c313ad55dabb10efae5c0881a1af721e210d073cd4f830335293cd998f(
    *,
    spec: typing.Union[GatewaySpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__714cee2a569068a44bd4f27e1afe1b256fc318f3934edde1eb507f981cf9d51a(
    *,
    gateway_class_name: builtins.str,
    listeners: typing.Sequence[typing.Union[GatewaySpecListeners, typing.Dict[builtins.str, typing.Any]]],
    addresses: typing.Optional[typing.Sequence[typing.Union[GatewaySpecAddresses, typing.Dict[builtins.str, typing.Any]]]] = None,
    allowed_listeners: typing.Optional[typing.Union[GatewaySpecAllowedListeners, typing.Dict[builtins.str, typing.Any]]] = None,
    infrastructure: typing.Optional[typing.Union[GatewaySpecInfrastructure, typing.Dict[builtins.str, typing.Any]]] = None,
    tls: typing.Optional[typing.Union[GatewaySpecTls, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__317b9a2201c7ab05f9434c0b740f446f86aa9e8d20e98da6b475e3c073a0501e(
    *,
    type: typing.Optional[builtins.str] = None,
    value: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4481fab3efe945e7d4d5fdceb4fb574165dde98fcf8b7bd4bbf08124802f38e9(
    *,
    namespaces: typing.Optional[typing.Union[GatewaySpecAllowedListenersNamespaces, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f6beb69b837a4b4f267d0414366069c55a66600bda0870de748b623ed79bfd81(
    *,
    from_: typing.Optional[GatewaySpecAllowedListenersNamespacesFrom] = None,
    selector: typing.Optional[typing.Union[GatewaySpecAllowedListenersNamespacesSelector, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__67591f20d6856ac21604151b4bbcb035a55283140097329495e290ff39acad31(
    *,
    match_expressions: typing.Optional[typing.Sequence[typing.Union[GatewaySpecAllowedListenersNamespacesSelectorMatchExpressions, typing.Dict[builtins.str, typing.Any]]]] = None,
    match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4d69b3b414136c9746a117799e24de53136f88d1058d4442f6538b836206430a(
    *,
    key: builtins.str,
    operator: builtins.str,
    values: typing.Optional[typing.Sequence[builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c033cf11f5732dda472e14a071833cf145f3b61542234ecd2d061951c03fc7bd(
    *,
    annotations: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    parameters_ref: typing.Optional[typing.Union[GatewaySpecInfrastructureParametersRef, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4fd6dfca5374a711a9aa5c4667bf3ed5f1d40b25d4e2080591abaf7fc2ef0738(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e109d866c129e6ae209c1411ceb12e0b10ca99911e6af667cf5a5fe1ad944ec7(
    *,
    name: builtins.str,
    port: jsii.Number,
    protocol: builtins.str,
    allowed_routes: typing.Optional[typing.Union[GatewaySpecListenersAllowedRoutes, typing.Dict[builtins.str, typing.Any]]] = None,
    hostname: typing.Optional[builtins.str] = None,
    tls: typing.Optional[typing.Union[GatewaySpecListenersTls, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__8b6e1ac847344100e592883eb0d3352823752df8e155fee7fae234aefe79e2c7(
    *,
    kinds: typing.Optional[typing.Sequence[typing.Union[GatewaySpecListenersAllowedRoutesKinds, typing.Dict[builtins.str, typing.Any]]]] = None,
    namespaces: typing.Optional[typing.Union[GatewaySpecListenersAllowedRoutesNamespaces, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__6e97dbae0636a8674a0e88bdfdd668c0fe700183e2acc46c4e9832044ffc802f(
    *,
    kind: builtins.str,
    group: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e558c90fe83479dea45929cacac4a705e83242195fe8ae48c3276b3ff0df34ee(
    *,
    from_: typing.Optional[GatewaySpecListenersAllowedRoutesNamespacesFrom] = None,
    selector: typing.Optional[typing.Union[GatewaySpecListenersAllowedRoutesNamespacesSelector, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__116d497886fa887987ccc1896503c71973285e20f891338f113693b7a287df7d(
    *,
    match_expressions: typing.Optional[typing.Sequence[typing.Union[GatewaySpecListenersAllowedRoutesNamespacesSelectorMatchExpressions, typing.Dict[builtins.str, typing.Any]]]] = None,
    match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__48387b640538c79b4f07fc62a799a35c20e3df484b7e890f52af94f6c25ca12f(
    *,
    key: builtins.str,
    operator: builtins.str,
    values: typing.Optional[typing.Sequence[builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__d8c95c90ee18a2769185ff31f9e9e550b2e9fa2be29ceb4edbed206ac09efe15(
    *,
    certificate_refs: typing.Optional[typing.Sequence[typing.Union[GatewaySpecListenersTlsCertificateRefs, typing.Dict[builtins.str, typing.Any]]]] = None,
    mode: typing.Optional[GatewaySpecListenersTlsMode] = None,
    options: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__31a749c4f73f10a7a84425f6f19da4fda28d2a5a548597ed4cdbd961cdadf703(
    *,
    name: builtins.str,
    group: typing.Optional[builtins.str] = None,
    kind: typing.Optional[builtins.str] = None,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7175be09f62f63a2f9031e4234ff3c3528530c3f414a03f07e037ca4b86ebf4b(
    *,
    backend: typing.Optional[typing.Union[GatewaySpecTlsBackend, typing.Dict[builtins.str, typing.Any]]] = None,
    frontend: typing.Optional[typing.Union[GatewaySpecTlsFrontend, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__134133169249b6397069ea8731807b814cde0bcc81e38704ea324cde6b3fa310(
    *,
    client_certificate_ref: typing.Optional[typing.Union[GatewaySpecTlsBackendClientCertificateRef, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__6bcd96ed4ffabe6f165b74d191f258bfec648596fdd96ba11c4c1ec1fd53b361(
    *,
    name: builtins.str,
    group: typing.Optional[builtins.str] = None,
    kind: typing.Optional[builtins.str] = None,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a5bec3e65184aaa709fd5680bd91221cc4ff00e2162baba1bc17d9a2059a8657(
    *,
    default: typing.Union[GatewaySpecTlsFrontendDefault, typing.Dict[builtins.str, typing.Any]],
    per_port: typing.Optional[typing.Sequence[typing.Union[GatewaySpecTlsFrontendPerPort, typing.Dict[builtins.str, typing.Any]]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f38cf120ef432fb5c4bc1983bcf5e6822b39384414f4f606d3ab9ce9e0cda8f6(
    *,
    validation: typing.Optional[typing.Union[GatewaySpecTlsFrontendDefaultValidation, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__14f87b09b58ae603203b84725f4543d680c85ab61941ddb53f6ee9293ba4374b(
    *,
    ca_certificate_refs: typing.Sequence[typing.Union[GatewaySpecTlsFrontendDefaultValidationCaCertificateRefs, typing.Dict[builtins.str, typing.Any]]],
    mode: typing.Optional[GatewaySpecTlsFrontendDefaultValidationMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4e93c8b284c33b35b6b0cfd802a31fed05f66629cf5dbd3e6dc98eb51d236956(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__aa539a51d3641846e7c82328dc17a1258e928f280628b0e57590af436782a9b8(
    *,
    port: jsii.Number,
    tls: typing.Union[GatewaySpecTlsFrontendPerPortTls, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e3a1c79f83f563c97a8c207ca0b62445f2dabcad198bc908e8d176c81da07181(
    *,
    validation: typing.Optional[typing.Union[GatewaySpecTlsFrontendPerPortTlsValidation, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b1e23f1677c29bfe3d334859e5fb83d7d00f2901b674e825f4d20018867cd62f(
    *,
    ca_certificate_refs: typing.Sequence[typing.Union[GatewaySpecTlsFrontendPerPortTlsValidationCaCertificateRefs, typing.Dict[builtins.str, typing.Any]]],
    mode: typing.Optional[GatewaySpecTlsFrontendPerPortTlsValidationMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b5f4c38c37a6a04b088dadce0e6a41f60c8e13c11b61571abaf73aed9a503181(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__3cfde1522afd260f4422ace8c558340eaf814102c53212409b27a0e36e053409(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    spec: typing.Union[GatewayV1Beta1Spec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__fa441b35b56799f925f8a79ce235c39c6059c776e617380aca449705c89974f4(
    *,
    spec: typing.Union[GatewayV1Beta1Spec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b3e750f17309e938d0b3c6eeb84677cce82514a134eddd2bac4ed0b4a0e6907c(
    *,
    gateway_class_name: builtins.str,
    listeners: typing.Sequence[typing.Union[GatewayV1Beta1SpecListeners, typing.Dict[builtins.str, typing.Any]]],
    addresses: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecAddresses, typing.Dict[builtins.str, typing.Any]]]] = None,
    allowed_listeners: typing.Optional[typing.Union[GatewayV1Beta1SpecAllowedListeners, typing.Dict[builtins.str, typing.Any]]] = None,
    infrastructure: typing.Optional[typing.Union[GatewayV1Beta1SpecInfrastructure, typing.Dict[builtins.str, typing.Any]]] = None,
    tls: typing.Optional[typing.Union[GatewayV1Beta1SpecTls, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__97cddd5304fc75f599025fdf4ad0c9ef7c2c73ab9eba424fd7af381d25f1d5f0(
    *,
    type: typing.Optional[builtins.str] = None,
    value: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__222504cc2a28529d4265a1404735e0513af5cf3ccc352daf085468c684558f76(
    *,
    namespaces: typing.Optional[typing.Union[GatewayV1Beta1SpecAllowedListenersNamespaces, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__5b0e6c8343838706620bebbf0cf6ff08a0d80741661ce1e4e987b85c8006c0ee(
    *,
    from_: typing.Optional[GatewayV1Beta1SpecAllowedListenersNamespacesFrom] = None,
    selector: typing.Optional[typing.Union[GatewayV1Beta1SpecAllowedListenersNamespacesSelector, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__d66f48b8ebbc968961f03b156e4b58d74d3ea95a30bf6ceed6e3f7bcae1fb596(
    *,
    match_expressions: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecAllowedListenersNamespacesSelectorMatchExpressions, typing.Dict[builtins.str, typing.Any]]]] = None,
    match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c0d564f58f1085605eed401959a6a8c834c88bfe1c6393448cd37ed5a26c0c54(
    *,
    key: builtins.str,
    operator: builtins.str,
    values: typing.Optional[typing.Sequence[builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__57e70252bd86d251b9b84bcb6eb631161c9054ab7708e70f61682144d9b3ffa0(
    *,
    annotations: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    parameters_ref: typing.Optional[typing.Union[GatewayV1Beta1SpecInfrastructureParametersRef, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__575a382c08de79c2e40441e5cf3e2e265d0274e1e837d896aaf6c3a38c76e047(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__6e799d61abcfd276148c17bb57c92854d4cd5cc2ea89d9d5daa52a9541c3037c(
    *,
    name: builtins.str,
    port: jsii.Number,
    protocol: builtins.str,
    allowed_routes: typing.Optional[typing.Union[GatewayV1Beta1SpecListenersAllowedRoutes, typing.Dict[builtins.str, typing.Any]]] = None,
    hostname: typing.Optional[builtins.str] = None,
    tls: typing.Optional[typing.Union[GatewayV1Beta1SpecListenersTls, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e23f36826608738aba5eaee7ebaffa2a697960ad28ae1d69820e01778921d0f9(
    *,
    kinds: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecListenersAllowedRoutesKinds, typing.Dict[builtins.str, typing.Any]]]] = None,
    namespaces: typing.Optional[typing.Union[GatewayV1Beta1SpecListenersAllowedRoutesNamespaces, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__658556b07c403ebabf2ed35124adca3cc160fa73e22e81276cfe38fab635fc6d(
    *,
    kind: builtins.str,
    group: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b895d6cd9b656790ebd1356aa6a7da01446d63c1328e2d503b6e025292bec4e9(
    *,
    from_: typing.Optional[GatewayV1Beta1SpecListenersAllowedRoutesNamespacesFrom] = None,
    selector: typing.Optional[typing.Union[GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelector, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__6e0f91a1ff2cb43ae054e7a3cc4e01f6cd9af90b9e3f87d84214d5804a768d9d(
    *,
    match_expressions: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecListenersAllowedRoutesNamespacesSelectorMatchExpressions, typing.Dict[builtins.str, typing.Any]]]] = None,
    match_labels: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__d97c653e3e32e16ff50069992ecdc265415045d460352aaf3f62a145f0db35cc(
    *,
    key: builtins.str,
    operator: builtins.str,
    values: typing.Optional[typing.Sequence[builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__8410918acda361439c5d1493aee7fa76678827b1581505c847313e84f5339dd9(
    *,
    certificate_refs: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecListenersTlsCertificateRefs, typing.Dict[builtins.str, typing.Any]]]] = None,
    mode: typing.Optional[GatewayV1Beta1SpecListenersTlsMode] = None,
    options: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__22403604599aaf8491d9037f31dc4fc76dca5369c9d9af658a0341d58ca4a55e(
    *,
    name: builtins.str,
    group: typing.Optional[builtins.str] = None,
    kind: typing.Optional[builtins.str] = None,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a174b7d9a4a8fc7169c23d0b6a9fe60e39720e95995373b2f1774c311b911aa0(
    *,
    backend: typing.Optional[typing.Union[GatewayV1Beta1SpecTlsBackend, typing.Dict[builtins.str, typing.Any]]] = None,
    frontend: typing.Optional[typing.Union[GatewayV1Beta1SpecTlsFrontend, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f969487ca82b7b87737e0411f6185bd235766adc1298ef64507acb7316c0b269(
    *,
    client_certificate_ref: typing.Optional[typing.Union[GatewayV1Beta1SpecTlsBackendClientCertificateRef, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__0f37e597374fb271e9e0631fe0359f52fc8a6ed0b69b49d310b76c0c1d47c1f7(
    *,
    name: builtins.str,
    group: typing.Optional[builtins.str] = None,
    kind: typing.Optional[builtins.str] = None,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a7d5362bdbb7b3bdefdf76facfe269bb7158845848208227c84448d52876818c(
    *,
    default: typing.Union[GatewayV1Beta1SpecTlsFrontendDefault, typing.Dict[builtins.str, typing.Any]],
    per_port: typing.Optional[typing.Sequence[typing.Union[GatewayV1Beta1SpecTlsFrontendPerPort, typing.Dict[builtins.str, typing.Any]]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__2d20bd37af8d856369f97694e3381f4a14e36ccebce3d67fdb9365d855ee68a0(
    *,
    validation: typing.Optional[typing.Union[GatewayV1Beta1SpecTlsFrontendDefaultValidation, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__9aaa68e60f2c0a30943732070b7a6f9ba99ce9bc9f2c96e6bf49fd1d73787a75(
    *,
    ca_certificate_refs: typing.Sequence[typing.Union[GatewayV1Beta1SpecTlsFrontendDefaultValidationCaCertificateRefs, typing.Dict[builtins.str, typing.Any]]],
    mode: typing.Optional[GatewayV1Beta1SpecTlsFrontendDefaultValidationMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__021034517e5fe51700c6182a881ef7729cbdea42253fa2d7e6878ff5e5f8f2a9(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b1bbef4e1b86523bd62fddf13ce75fdfcb39f8ee513c5218e05c0fcdd68c8522(
    *,
    port: jsii.Number,
    tls: typing.Union[GatewayV1Beta1SpecTlsFrontendPerPortTls, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__b8c5b947d8b8b57337c97499b943f945b0500053dfd689c3b97035fc079d4063(
    *,
    validation: typing.Optional[typing.Union[GatewayV1Beta1SpecTlsFrontendPerPortTlsValidation, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__90280efd1b509c0958d4db7ff02060e5a102c28bac08be79db2e73705f8971bd(
    *,
    ca_certificate_refs: typing.Sequence[typing.Union[GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationCaCertificateRefs, typing.Dict[builtins.str, typing.Any]]],
    mode: typing.Optional[GatewayV1Beta1SpecTlsFrontendPerPortTlsValidationMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4959c6399169e159e4e4e26c9792ca9fa29aab384534bcb842c036aa17739e01(
    *,
    group: builtins.str,
    kind: builtins.str,
    name: builtins.str,
    namespace: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass
