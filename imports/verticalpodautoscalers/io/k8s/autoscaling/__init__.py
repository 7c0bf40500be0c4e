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


class VerticalPodAutoscaler(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscaler",
):
    '''VerticalPodAutoscaler is the configuration for a vertical pod autoscaler, which automatically manages pod resources based on historical and real time resource utilization.

    :schema: VerticalPodAutoscaler
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        spec: typing.Union["VerticalPodAutoscalerSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "VerticalPodAutoscaler" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6efebf94e726f619cb2c1607cd59c985e82f40aba00f33ca4b1060c0f1011157)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = VerticalPodAutoscalerProps(spec=spec, metadata=metadata)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        spec: typing.Union["VerticalPodAutoscalerSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "VerticalPodAutoscaler".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 
        '''
        props = VerticalPodAutoscalerProps(spec=spec, metadata=metadata)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "VerticalPodAutoscaler".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


class VerticalPodAutoscalerCheckpoint(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpoint",
):
    '''VerticalPodAutoscalerCheckpoint is the checkpoint of the internal state of VPA that is used for recovery after recommender's restart.

    :schema: VerticalPodAutoscalerCheckpoint
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointSpec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "VerticalPodAutoscalerCheckpoint" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__dec853e7fca3f32071656c7e075dfbe81d7c7317b117aef29480362a3783a773)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = VerticalPodAutoscalerCheckpointProps(metadata=metadata, spec=spec)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointSpec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "VerticalPodAutoscalerCheckpoint".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        '''
        props = VerticalPodAutoscalerCheckpointProps(metadata=metadata, spec=spec)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "VerticalPodAutoscalerCheckpoint".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpointProps",
    jsii_struct_bases=[],
    name_mapping={"metadata": "metadata", "spec": "spec"},
)
class VerticalPodAutoscalerCheckpointProps:
    def __init__(
        self,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointSpec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''VerticalPodAutoscalerCheckpoint is the checkpoint of the internal state of VPA that is used for recovery after recommender's restart.

        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscalerCheckpoint
        '''
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if isinstance(spec, dict):
            spec = VerticalPodAutoscalerCheckpointSpec(**spec)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7d906b437fe691232e9ef8f28344536541243b41d6e321e5f1ef56d672f95dc3)
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if metadata is not None:
            self._values["metadata"] = metadata
        if spec is not None:
            self._values["spec"] = spec

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: VerticalPodAutoscalerCheckpoint#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    @builtins.property
    def spec(self) -> typing.Optional["VerticalPodAutoscalerCheckpointSpec"]:
        '''Specification of the checkpoint.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscalerCheckpoint#spec
        '''
        result = self._values.get("spec")
        return typing.cast(typing.Optional["VerticalPodAutoscalerCheckpointSpec"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerCheckpointProps(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpointSpec",
    jsii_struct_bases=[],
    name_mapping={
        "container_name": "containerName",
        "vpa_object_name": "vpaObjectName",
    },
)
class VerticalPodAutoscalerCheckpointSpec:
    def __init__(
        self,
        *,
        container_name: typing.Optional[builtins.str] = None,
        vpa_object_name: typing.Optional[builtins.str] = None,
    ) -> None:
        '''Specification of the checkpoint.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :param container_name: Name of the checkpointed container.
        :param vpa_object_name: Name of the VPA object that stored VerticalPodAutoscalerCheckpoint object.

        :schema: VerticalPodAutoscalerCheckpointSpec
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a54ce7676e5a9afed13baf0136b591dffdeb5acb55c7f89f01ff6463a5c4e057)
            check_type(argname="argument container_name", value=container_name, expected_type=type_hints["container_name"])
            check_type(argname="argument vpa_object_name", value=vpa_object_name, expected_type=type_hints["vpa_object_name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_name is not None:
            self._values["container_name"] = container_name
        if vpa_object_name is not None:
            self._values["vpa_object_name"] = vpa_object_name

    @builtins.property
    def container_name(self) -> typing.Optional[builtins.str]:
        '''Name of the checkpointed container.

        :schema: VerticalPodAutoscalerCheckpointSpec#containerName
        '''
        result = self._values.get("container_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def vpa_object_name(self) -> typing.Optional[builtins.str]:
        '''Name of the VPA object that stored VerticalPodAutoscalerCheckpoint object.

        :schema: VerticalPodAutoscalerCheckpointSpec#vpaObjectName
        '''
        result = self._values.get("vpa_object_name")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerCheckpointSpec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


class VerticalPodAutoscalerCheckpointV1Beta2(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpointV1Beta2",
):
    '''VerticalPodAutoscalerCheckpoint is the checkpoint of the internal state of VPA that is used for recovery after recommender's restart.

    :schema: VerticalPodAutoscalerCheckpointV1Beta2
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointV1Beta2Spec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "VerticalPodAutoscalerCheckpointV1Beta2" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__85cfa7cca5137aa915a7f152abda2dce0f9d3d1b3f0b89ebe7a885551208aba3)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = VerticalPodAutoscalerCheckpointV1Beta2Props(
            metadata=metadata, spec=spec
        )

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointV1Beta2Spec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "VerticalPodAutoscalerCheckpointV1Beta2".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        '''
        props = VerticalPodAutoscalerCheckpointV1Beta2Props(
            metadata=metadata, spec=spec
        )

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "VerticalPodAutoscalerCheckpointV1Beta2".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpointV1Beta2Props",
    jsii_struct_bases=[],
    name_mapping={"metadata": "metadata", "spec": "spec"},
)
class VerticalPodAutoscalerCheckpointV1Beta2Props:
    def __init__(
        self,
        *,
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
        spec: typing.Optional[typing.Union["VerticalPodAutoscalerCheckpointV1Beta2Spec", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''VerticalPodAutoscalerCheckpoint is the checkpoint of the internal state of VPA that is used for recovery after recommender's restart.

        :param metadata: 
        :param spec: Specification of the checkpoint. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscalerCheckpointV1Beta2
        '''
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if isinstance(spec, dict):
            spec = VerticalPodAutoscalerCheckpointV1Beta2Spec(**spec)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__654c80af3d4fb7b2b418a51e5bc39db7dbddc7ea62d7e68c221ba60bcdfdf755)
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if metadata is not None:
            self._values["metadata"] = metadata
        if spec is not None:
            self._values["spec"] = spec

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: VerticalPodAutoscalerCheckpointV1Beta2#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    @builtins.property
    def spec(self) -> typing.Optional["VerticalPodAutoscalerCheckpointV1Beta2Spec"]:
        '''Specification of the checkpoint.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscalerCheckpointV1Beta2#spec
        '''
        result = self._values.get("spec")
        return typing.cast(typing.Optional["VerticalPodAutoscalerCheckpointV1Beta2Spec"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerCheckpointV1Beta2Props(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerCheckpointV1Beta2Spec",
    jsii_struct_bases=[],
    name_mapping={
        "container_name": "containerName",
        "vpa_object_name": "vpaObjectName",
    },
)
class VerticalPodAutoscalerCheckpointV1Beta2Spec:
    def __init__(
        self,
        *,
        container_name: typing.Optional[builtins.str] = None,
        vpa_object_name: typing.Optional[builtins.str] = None,
    ) -> None:
        '''Specification of the checkpoint.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :param container_name: Name of the checkpointed container.
        :param vpa_object_name: Name of the VPA object that stored VerticalPodAutoscalerCheckpoint object.

        :schema: VerticalPodAutoscalerCheckpointV1Beta2Spec
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__137a00f97f446eb2420d47dcb518d2890597cd0dc5a7dcfd4a651268856f45e6)
            check_type(argname="argument container_name", value=container_name, expected_type=type_hints["container_name"])
            check_type(argname="argument vpa_object_name", value=vpa_object_name, expected_type=type_hints["vpa_object_name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_name is not None:
            self._values["container_name"] = container_name
        if vpa_object_name is not None:
            self._values["vpa_object_name"] = vpa_object_name

    @builtins.property
    def container_name(self) -> typing.Optional[builtins.str]:
        '''Name of the checkpointed container.

        :schema: VerticalPodAutoscalerCheckpointV1Beta2Spec#containerName
        '''
        result = self._values.get("container_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def vpa_object_name(self) -> typing.Optional[builtins.str]:
        '''Name of the VPA object that stored VerticalPodAutoscalerCheckpoint object.

        :schema: VerticalPodAutoscalerCheckpointV1Beta2Spec#vpaObjectName
        '''
        result = self._values.get("vpa_object_name")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerCheckpointV1Beta2Spec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerProps",
    jsii_struct_bases=[],
    name_mapping={"spec": "spec", "metadata": "metadata"},
)
class VerticalPodAutoscalerProps:
    def __init__(
        self,
        *,
        spec: typing.Union["VerticalPodAutoscalerSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''VerticalPodAutoscaler is the configuration for a vertical pod autoscaler, which automatically manages pod resources based on historical and real time resource utilization.

        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 

        :schema: VerticalPodAutoscaler
        '''
        if isinstance(spec, dict):
            spec = VerticalPodAutoscalerSpec(**spec)
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__6565cf5b377616e129f3a0f41db42284aede22904d306dad67249a8a9d43380c)
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "spec": spec,
        }
        if metadata is not None:
            self._values["metadata"] = metadata

    @builtins.property
    def spec(self) -> "VerticalPodAutoscalerSpec":
        '''Specification of the behavior of the autoscaler.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscaler#spec
        '''
        result = self._values.get("spec")
        assert result is not None, "Required property 'spec' is missing"
        return typing.cast("VerticalPodAutoscalerSpec", result)

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: VerticalPodAutoscaler#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerProps(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpec",
    jsii_struct_bases=[],
    name_mapping={
        "target_ref": "targetRef",
        "recommenders": "recommenders",
        "resource_policy": "resourcePolicy",
        "startup_boost": "startupBoost",
        "update_policy": "updatePolicy",
    },
)
class VerticalPodAutoscalerSpec:
    def __init__(
        self,
        *,
        target_ref: typing.Union["VerticalPodAutoscalerSpecTargetRef", typing.Dict[builtins.str, typing.Any]],
        recommenders: typing.Optional[typing.Sequence[typing.Union["VerticalPodAutoscalerSpecRecommenders", typing.Dict[builtins.str, typing.Any]]]] = None,
        resource_policy: typing.Optional[typing.Union["VerticalPodAutoscalerSpecResourcePolicy", typing.Dict[builtins.str, typing.Any]]] = None,
        startup_boost: typing.Optional[typing.Union["VerticalPodAutoscalerSpecStartupBoost", typing.Dict[builtins.str, typing.Any]]] = None,
        update_policy: typing.Optional[typing.Union["VerticalPodAutoscalerSpecUpdatePolicy", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Specification of the behavior of the autoscaler.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :param target_ref: TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.
        :param recommenders: Recommender responsible for generating recommendation for this object. List should be empty (then the default recommender will generate the recommendation) or contain exactly one recommender.
        :param resource_policy: Controls how the autoscaler computes recommended resources. The resource policy may be used to set constraints on the recommendations for individual containers. If any individual containers need to be excluded from getting the VPA recommendations, then it must be disabled explicitly by setting mode to "Off" under containerPolicies. If not specified, the autoscaler computes recommended resources for all containers in the pod, without additional constraints.
        :param startup_boost: startupBoost specifies the startup boost policy for the pod.
        :param update_policy: Describes the rules on how changes are applied to the pods. If not specified, all fields in the ``PodUpdatePolicy`` are set to their default values.

        :schema: VerticalPodAutoscalerSpec
        '''
        if isinstance(target_ref, dict):
            target_ref = VerticalPodAutoscalerSpecTargetRef(**target_ref)
        if isinstance(resource_policy, dict):
            resource_policy = VerticalPodAutoscalerSpecResourcePolicy(**resource_policy)
        if isinstance(startup_boost, dict):
            startup_boost = VerticalPodAutoscalerSpecStartupBoost(**startup_boost)
        if isinstance(update_policy, dict):
            update_policy = VerticalPodAutoscalerSpecUpdatePolicy(**update_policy)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__375eb34544304a7a6408dfc8d15bf1481d11f125c55742819a8fc965bd3616e6)
            check_type(argname="argument target_ref", value=target_ref, expected_type=type_hints["target_ref"])
            check_type(argname="argument recommenders", value=recommenders, expected_type=type_hints["recommenders"])
            check_type(argname="argument resource_policy", value=resource_policy, expected_type=type_hints["resource_policy"])
            check_type(argname="argument startup_boost", value=startup_boost, expected_type=type_hints["startup_boost"])
            check_type(argname="argument update_policy", value=update_policy, expected_type=type_hints["update_policy"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "target_ref": target_ref,
        }
        if recommenders is not None:
            self._values["recommenders"] = recommenders
        if resource_policy is not None:
            self._values["resource_policy"] = resource_policy
        if startup_boost is not None:
            self._values["startup_boost"] = startup_boost
        if update_policy is not None:
            self._values["update_policy"] = update_policy

    @builtins.property
    def target_ref(self) -> "VerticalPodAutoscalerSpecTargetRef":
        '''TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.

        :schema: VerticalPodAutoscalerSpec#targetRef
        '''
        result = self._values.get("target_ref")
        assert result is not None, "Required property 'target_ref' is missing"
        return typing.cast("VerticalPodAutoscalerSpecTargetRef", result)

    @builtins.property
    def recommenders(
        self,
    ) -> typing.Optional[typing.List["VerticalPodAutoscalerSpecRecommenders"]]:
        '''Recommender responsible for generating recommendation for this object.

        List should be empty (then the default recommender will generate the
        recommendation) or contain exactly one recommender.

        :schema: VerticalPodAutoscalerSpec#recommenders
        '''
        result = self._values.get("recommenders")
        return typing.cast(typing.Optional[typing.List["VerticalPodAutoscalerSpecRecommenders"]], result)

    @builtins.property
    def resource_policy(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicy"]:
        '''Controls how the autoscaler computes recommended resources.

        The resource policy may be used to set constraints on the recommendations
        for individual containers.
        If any individual containers need to be excluded from getting the VPA recommendations, then
        it must be disabled explicitly by setting mode to "Off" under containerPolicies.
        If not specified, the autoscaler computes recommended resources for all containers in the pod,
        without additional constraints.

        :schema: VerticalPodAutoscalerSpec#resourcePolicy
        '''
        result = self._values.get("resource_policy")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicy"], result)

    @builtins.property
    def startup_boost(self) -> typing.Optional["VerticalPodAutoscalerSpecStartupBoost"]:
        '''startupBoost specifies the startup boost policy for the pod.

        :schema: VerticalPodAutoscalerSpec#startupBoost
        '''
        result = self._values.get("startup_boost")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecStartupBoost"], result)

    @builtins.property
    def update_policy(self) -> typing.Optional["VerticalPodAutoscalerSpecUpdatePolicy"]:
        '''Describes the rules on how changes are applied to the pods.

        If not specified, all fields in the ``PodUpdatePolicy`` are set to their
        default values.

        :schema: VerticalPodAutoscalerSpec#updatePolicy
        '''
        result = self._values.get("update_policy")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecUpdatePolicy"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecRecommenders",
    jsii_struct_bases=[],
    name_mapping={"name": "name"},
)
class VerticalPodAutoscalerSpecRecommenders:
    def __init__(self, *, name: builtins.str) -> None:
        '''VerticalPodAutoscalerRecommenderSelector points to a specific Vertical Pod Autoscaler recommender.

        In the future it might pass parameters to the recommender.

        :param name: Name of the recommender responsible for generating recommendation for this object.

        :schema: VerticalPodAutoscalerSpecRecommenders
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c366f385585ca5eea14de25b9136aa73cc9996adcf8d95dab7abc0021e73d628)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
        }

    @builtins.property
    def name(self) -> builtins.str:
        '''Name of the recommender responsible for generating recommendation for this object.

        :schema: VerticalPodAutoscalerSpecRecommenders#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecRecommenders(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicy",
    jsii_struct_bases=[],
    name_mapping={"container_policies": "containerPolicies"},
)
class VerticalPodAutoscalerSpecResourcePolicy:
    def __init__(
        self,
        *,
        container_policies: typing.Optional[typing.Sequence[typing.Union["VerticalPodAutoscalerSpecResourcePolicyContainerPolicies", typing.Dict[builtins.str, typing.Any]]]] = None,
    ) -> None:
        '''Controls how the autoscaler computes recommended resources.

        The resource policy may be used to set constraints on the recommendations
        for individual containers.
        If any individual containers need to be excluded from getting the VPA recommendations, then
        it must be disabled explicitly by setting mode to "Off" under containerPolicies.
        If not specified, the autoscaler computes recommended resources for all containers in the pod,
        without additional constraints.

        :param container_policies: Per-container resource policies.

        :schema: VerticalPodAutoscalerSpecResourcePolicy
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__399698e06c371193b9395bc21ff1af70a61f6f03fc633d8ab006c96b49c4831e)
            check_type(argname="argument container_policies", value=container_policies, expected_type=type_hints["container_policies"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_policies is not None:
            self._values["container_policies"] = container_policies

    @builtins.property
    def container_policies(
        self,
    ) -> typing.Optional[typing.List["VerticalPodAutoscalerSpecResourcePolicyContainerPolicies"]]:
        '''Per-container resource policies.

        :schema: VerticalPodAutoscalerSpecResourcePolicy#containerPolicies
        '''
        result = self._values.get("container_policies")
        return typing.cast(typing.Optional[typing.List["VerticalPodAutoscalerSpecResourcePolicyContainerPolicies"]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecResourcePolicy(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPolicies",
    jsii_struct_bases=[],
    name_mapping={
        "container_name": "containerName",
        "controlled_resources": "controlledResources",
        "controlled_values": "controlledValues",
        "max_allowed": "maxAllowed",
        "memory_aggregation_interval_count": "memoryAggregationIntervalCount",
        "memory_aggregation_interval_seconds": "memoryAggregationIntervalSeconds",
        "min_allowed": "minAllowed",
        "mode": "mode",
        "oom_bump_up_ratio": "oomBumpUpRatio",
        "oom_min_bump_up": "oomMinBumpUp",
        "startup_boost": "startupBoost",
    },
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPolicies:
    def __init__(
        self,
        *,
        container_name: typing.Optional[builtins.str] = None,
        controlled_resources: typing.Optional[typing.Sequence[builtins.str]] = None,
        controlled_values: typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues"] = None,
        max_allowed: typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed"]] = None,
        memory_aggregation_interval_count: typing.Optional[jsii.Number] = None,
        memory_aggregation_interval_seconds: typing.Optional[jsii.Number] = None,
        min_allowed: typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed"]] = None,
        mode: typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode"] = None,
        oom_bump_up_ratio: typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio"] = None,
        oom_min_bump_up: typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp"] = None,
        startup_boost: typing.Optional[typing.Union["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''ContainerResourcePolicy controls how autoscaler computes the recommended resources for a specific container.

        :param container_name: Name of the container or DefaultContainerResourcePolicy, in which case the policy is used by the containers that don't have their own policy specified.
        :param controlled_resources: Specifies the type of recommendations that will be computed (and possibly applied) by VPA. If not specified, the default of [ResourceCPU, ResourceMemory] will be used.
        :param controlled_values: Specifies which resource values should be controlled. The default is "RequestsAndLimits".
        :param max_allowed: Specifies the maximum amount of resources that will be recommended for the container. The default is no maximum.
        :param memory_aggregation_interval_count: memoryAggregationIntervalCount is the number of consecutive memoryAggregationIntervals which make up the memory aggregation window. The total window length is: MemoryAggregationIntervalSeconds * MemoryAggregationIntervalCount.
        :param memory_aggregation_interval_seconds: memoryAggregationIntervalSeconds is the length of a single interval (in seconds) for which the peak memory usage is computed. Memory usage peaks are aggregated in multiples of this interval. In other words, there is one memory usage sample per interval (the maximum usage over that interval).
        :param min_allowed: Specifies the minimal amount of resources that will be recommended for the container. The default is no minimum.
        :param mode: Whether autoscaler is enabled for the container. The default is "Auto".
        :param oom_bump_up_ratio: oomBumpUpRatio is the ratio to increase memory when OOM is detected.
        :param oom_min_bump_up: oomMinBumpUp is the minimum increase in memory when OOM is detected.
        :param startup_boost: startupBoost specifies the startup boost policy for the container. This overrides any pod-level startup boost policy. The startup boost policy takes precedence over the rest of the fields in this struct, except for ContainerName and ControlledValues.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies
        '''
        if isinstance(startup_boost, dict):
            startup_boost = VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost(**startup_boost)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__32f03d3391032dfe35e6841d820d622dd0c60062fa5d3ff5e58cc2a50b8ec2f0)
            check_type(argname="argument container_name", value=container_name, expected_type=type_hints["container_name"])
            check_type(argname="argument controlled_resources", value=controlled_resources, expected_type=type_hints["controlled_resources"])
            check_type(argname="argument controlled_values", value=controlled_values, expected_type=type_hints["controlled_values"])
            check_type(argname="argument max_allowed", value=max_allowed, expected_type=type_hints["max_allowed"])
            check_type(argname="argument memory_aggregation_interval_count", value=memory_aggregation_interval_count, expected_type=type_hints["memory_aggregation_interval_count"])
            check_type(argname="argument memory_aggregation_interval_seconds", value=memory_aggregation_interval_seconds, expected_type=type_hints["memory_aggregation_interval_seconds"])
            check_type(argname="argument min_allowed", value=min_allowed, expected_type=type_hints["min_allowed"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
            check_type(argname="argument oom_bump_up_ratio", value=oom_bump_up_ratio, expected_type=type_hints["oom_bump_up_ratio"])
            check_type(argname="argument oom_min_bump_up", value=oom_min_bump_up, expected_type=type_hints["oom_min_bump_up"])
            check_type(argname="argument startup_boost", value=startup_boost, expected_type=type_hints["startup_boost"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_name is not None:
            self._values["container_name"] = container_name
        if controlled_resources is not None:
            self._values["controlled_resources"] = controlled_resources
        if controlled_values is not None:
            self._values["controlled_values"] = controlled_values
        if max_allowed is not None:
            self._values["max_allowed"] = max_allowed
        if memory_aggregation_interval_count is not None:
            self._values["memory_aggregation_interval_count"] = memory_aggregation_interval_count
        if memory_aggregation_interval_seconds is not None:
            self._values["memory_aggregation_interval_seconds"] = memory_aggregation_interval_seconds
        if min_allowed is not None:
            self._values["min_allowed"] = min_allowed
        if mode is not None:
            self._values["mode"] = mode
        if oom_bump_up_ratio is not None:
            self._values["oom_bump_up_ratio"] = oom_bump_up_ratio
        if oom_min_bump_up is not None:
            self._values["oom_min_bump_up"] = oom_min_bump_up
        if startup_boost is not None:
            self._values["startup_boost"] = startup_boost

    @builtins.property
    def container_name(self) -> typing.Optional[builtins.str]:
        '''Name of the container or DefaultContainerResourcePolicy, in which case the policy is used by the containers that don't have their own policy specified.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#containerName
        '''
        result = self._values.get("container_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def controlled_resources(self) -> typing.Optional[typing.List[builtins.str]]:
        '''Specifies the type of recommendations that will be computed (and possibly applied) by VPA.

        If not specified, the default of [ResourceCPU, ResourceMemory] will be used.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#controlledResources
        '''
        result = self._values.get("controlled_resources")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    @builtins.property
    def controlled_values(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues"]:
        '''Specifies which resource values should be controlled.

        The default is "RequestsAndLimits".

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#controlledValues
        '''
        result = self._values.get("controlled_values")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues"], result)

    @builtins.property
    def max_allowed(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed"]]:
        '''Specifies the maximum amount of resources that will be recommended for the container.

        The default is no maximum.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#maxAllowed
        '''
        result = self._values.get("max_allowed")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed"]], result)

    @builtins.property
    def memory_aggregation_interval_count(self) -> typing.Optional[jsii.Number]:
        '''memoryAggregationIntervalCount is the number of consecutive memoryAggregationIntervals which make up the memory aggregation window.

        The total window length is:
        MemoryAggregationIntervalSeconds * MemoryAggregationIntervalCount.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#memoryAggregationIntervalCount
        '''
        result = self._values.get("memory_aggregation_interval_count")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def memory_aggregation_interval_seconds(self) -> typing.Optional[jsii.Number]:
        '''memoryAggregationIntervalSeconds is the length of a single interval (in seconds) for which the peak memory usage is computed.

        Memory usage peaks are aggregated in multiples of this interval.
        In other words, there is one memory usage sample per interval
        (the maximum usage over that interval).

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#memoryAggregationIntervalSeconds
        '''
        result = self._values.get("memory_aggregation_interval_seconds")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def min_allowed(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed"]]:
        '''Specifies the minimal amount of resources that will be recommended for the container.

        The default is no minimum.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#minAllowed
        '''
        result = self._values.get("min_allowed")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed"]], result)

    @builtins.property
    def mode(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode"]:
        '''Whether autoscaler is enabled for the container.

        The default is "Auto".

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode"], result)

    @builtins.property
    def oom_bump_up_ratio(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio"]:
        '''oomBumpUpRatio is the ratio to increase memory when OOM is detected.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#oomBumpUpRatio
        '''
        result = self._values.get("oom_bump_up_ratio")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio"], result)

    @builtins.property
    def oom_min_bump_up(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp"]:
        '''oomMinBumpUp is the minimum increase in memory when OOM is detected.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#oomMinBumpUp
        '''
        result = self._values.get("oom_min_bump_up")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp"], result)

    @builtins.property
    def startup_boost(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost"]:
        '''startupBoost specifies the startup boost policy for the container.

        This overrides any pod-level startup boost policy.
        The startup boost policy takes precedence over the rest of the fields in
        this struct, except for ContainerName and ControlledValues.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPolicies#startupBoost
        '''
        result = self._values.get("startup_boost")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecResourcePolicyContainerPolicies(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues"
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues(
    enum.Enum,
):
    '''Specifies which resource values should be controlled.

    The default is "RequestsAndLimits".

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues
    '''

    REQUESTS_AND_LIMITS = "REQUESTS_AND_LIMITS"
    '''RequestsAndLimits.'''
    REQUESTS_ONLY = "REQUESTS_ONLY"
    '''RequestsOnly.'''


class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed",
):
    '''
    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__34eb2ecd6bc00d51ee28ba6cb13bc3783762e818db784aab573089dc656bbfca)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__39c3ffecd2f52dbc1c588300e778ed47d25cf99e61fd5ab19f28d5d5f5c3a247)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed",
):
    '''
    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__8cfdd632938ab583b40276dd108c1ff4f0933dc1ca952b26b4f3f465355ae785)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__56480ad6ba90ad646f125f059feb69c5a08c54fffef7dcc358a5f7e0ef1700b2)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode"
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode(enum.Enum):
    '''Whether autoscaler is enabled for the container.

    The default is "Auto".

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode
    '''

    AUTO = "AUTO"
    '''Auto.'''
    OFF = "OFF"
    '''Off.'''


class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio",
):
    '''oomBumpUpRatio is the ratio to increase memory when OOM is detected.

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c704bbba1e43a0e17f311e14066d31b11715f6d754c1e911df66537e5d3315bf)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e2c4d67e688efbbea10f30b16fe7e77fa99a7a624cb1a81e67509bf31c462fcc)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp",
):
    '''oomMinBumpUp is the minimum increase in memory when OOM is detected.

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e48c9e5affcf1e14ed42d20c598db6636f4b3e41cda95b09c59d25dcb1960020)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f33a0d01516a5719c0cbca6d3b6263393a08f09bcd95a169887e2b88c8ed7353)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost",
    jsii_struct_bases=[],
    name_mapping={"cpu": "cpu"},
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost:
    def __init__(
        self,
        *,
        cpu: typing.Optional[typing.Union["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''startupBoost specifies the startup boost policy for the container.

        This overrides any pod-level startup boost policy.
        The startup boost policy takes precedence over the rest of the fields in
        this struct, except for ContainerName and ControlledValues.

        :param cpu: cpu specifies the CPU startup boost policy. If this field is not set, no startup boost is applied.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost
        '''
        if isinstance(cpu, dict):
            cpu = VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu(**cpu)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__1d5bc83c4929d38968d0e807002945b4bcc40d47998c841a4ee96a0088375750)
            check_type(argname="argument cpu", value=cpu, expected_type=type_hints["cpu"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if cpu is not None:
            self._values["cpu"] = cpu

    @builtins.property
    def cpu(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu"]:
        '''cpu specifies the CPU startup boost policy.

        If this field is not set, no startup boost is applied.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost#cpu
        '''
        result = self._values.get("cpu")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu",
    jsii_struct_bases=[],
    name_mapping={
        "type": "type",
        "duration_seconds": "durationSeconds",
        "factor": "factor",
        "quantity": "quantity",
    },
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu:
    def __init__(
        self,
        *,
        type: "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType",
        duration_seconds: typing.Optional[jsii.Number] = None,
        factor: typing.Optional[jsii.Number] = None,
        quantity: typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity"] = None,
    ) -> None:
        '''cpu specifies the CPU startup boost policy.

        If this field is not set, no startup boost is applied.

        :param type: type specifies the kind of boost to apply. Supported values are: "Factor", "Quantity". No startupboost will be applied for unrecognized values.
        :param duration_seconds: durationSeconds indicates for how long to keep the pod boosted after it goes to Ready. Defaults to 0. Default: 0.
        :param factor: factor specifies the factor to apply to the resource request. This field is required when Type is "Factor".
        :param quantity: quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase. This field is required when Type is "Quantity".

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__75f7ccf8862cfcd8f43fc8635657651c5950ad40b919e36ae65bb359a1c48a8c)
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument duration_seconds", value=duration_seconds, expected_type=type_hints["duration_seconds"])
            check_type(argname="argument factor", value=factor, expected_type=type_hints["factor"])
            check_type(argname="argument quantity", value=quantity, expected_type=type_hints["quantity"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "type": type,
        }
        if duration_seconds is not None:
            self._values["duration_seconds"] = duration_seconds
        if factor is not None:
            self._values["factor"] = factor
        if quantity is not None:
            self._values["quantity"] = quantity

    @builtins.property
    def type(
        self,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType":
        '''type specifies the kind of boost to apply.

        Supported values are: "Factor", "Quantity".
        No startupboost will be applied for unrecognized values.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu#type
        '''
        result = self._values.get("type")
        assert result is not None, "Required property 'type' is missing"
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType", result)

    @builtins.property
    def duration_seconds(self) -> typing.Optional[jsii.Number]:
        '''durationSeconds indicates for how long to keep the pod boosted after it goes to Ready.

        Defaults to 0.

        :default: 0.

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu#durationSeconds
        '''
        result = self._values.get("duration_seconds")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def factor(self) -> typing.Optional[jsii.Number]:
        '''factor specifies the factor to apply to the resource request.

        This field is required when Type is "Factor".

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu#factor
        '''
        result = self._values.get("factor")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def quantity(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity"]:
        '''quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase.

        This field is required when Type is "Quantity".

        :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu#quantity
        '''
        result = self._values.get("quantity")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity",
):
    '''quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase.

    This field is required when Type is "Quantity".

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__9fd7a2b6bef3c4d305002c13238025cd1c74dfd93957e874da5718ad4c4278bf)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__9044bdb3c0d6c6a744c576381b6ed1084915fd0c37861ce9470992d338147738)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType"
)
class VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType(
    enum.Enum,
):
    '''type specifies the kind of boost to apply.

    Supported values are: "Factor", "Quantity".
    No startupboost will be applied for unrecognized values.

    :schema: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType
    '''

    FACTOR = "FACTOR"
    '''Factor.'''
    QUANTITY = "QUANTITY"
    '''Quantity.'''


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecStartupBoost",
    jsii_struct_bases=[],
    name_mapping={"cpu": "cpu"},
)
class VerticalPodAutoscalerSpecStartupBoost:
    def __init__(
        self,
        *,
        cpu: typing.Optional[typing.Union["VerticalPodAutoscalerSpecStartupBoostCpu", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''startupBoost specifies the startup boost policy for the pod.

        :param cpu: cpu specifies the CPU startup boost policy. If this field is not set, no startup boost is applied.

        :schema: VerticalPodAutoscalerSpecStartupBoost
        '''
        if isinstance(cpu, dict):
            cpu = VerticalPodAutoscalerSpecStartupBoostCpu(**cpu)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__dd21a5fbb09d8b8b2b546295af5dca8b3b6510808863b0f7d709596554a0b055)
            check_type(argname="argument cpu", value=cpu, expected_type=type_hints["cpu"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if cpu is not None:
            self._values["cpu"] = cpu

    @builtins.property
    def cpu(self) -> typing.Optional["VerticalPodAutoscalerSpecStartupBoostCpu"]:
        '''cpu specifies the CPU startup boost policy.

        If this field is not set, no startup boost is applied.

        :schema: VerticalPodAutoscalerSpecStartupBoost#cpu
        '''
        result = self._values.get("cpu")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecStartupBoostCpu"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecStartupBoost(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecStartupBoostCpu",
    jsii_struct_bases=[],
    name_mapping={
        "type": "type",
        "duration_seconds": "durationSeconds",
        "factor": "factor",
        "quantity": "quantity",
    },
)
class VerticalPodAutoscalerSpecStartupBoostCpu:
    def __init__(
        self,
        *,
        type: "VerticalPodAutoscalerSpecStartupBoostCpuType",
        duration_seconds: typing.Optional[jsii.Number] = None,
        factor: typing.Optional[jsii.Number] = None,
        quantity: typing.Optional["VerticalPodAutoscalerSpecStartupBoostCpuQuantity"] = None,
    ) -> None:
        '''cpu specifies the CPU startup boost policy.

        If this field is not set, no startup boost is applied.

        :param type: type specifies the kind of boost to apply. Supported values are: "Factor", "Quantity". No startupboost will be applied for unrecognized values.
        :param duration_seconds: durationSeconds indicates for how long to keep the pod boosted after it goes to Ready. Defaults to 0. Default: 0.
        :param factor: factor specifies the factor to apply to the resource request. This field is required when Type is "Factor".
        :param quantity: quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase. This field is required when Type is "Quantity".

        :schema: VerticalPodAutoscalerSpecStartupBoostCpu
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7d51345ee5125c1960a7f4f41f6b1d0776817659711c8b4dd5a7da7e64eb6478)
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument duration_seconds", value=duration_seconds, expected_type=type_hints["duration_seconds"])
            check_type(argname="argument factor", value=factor, expected_type=type_hints["factor"])
            check_type(argname="argument quantity", value=quantity, expected_type=type_hints["quantity"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "type": type,
        }
        if duration_seconds is not None:
            self._values["duration_seconds"] = duration_seconds
        if factor is not None:
            self._values["factor"] = factor
        if quantity is not None:
            self._values["quantity"] = quantity

    @builtins.property
    def type(self) -> "VerticalPodAutoscalerSpecStartupBoostCpuType":
        '''type specifies the kind of boost to apply.

        Supported values are: "Factor", "Quantity".
        No startupboost will be applied for unrecognized values.

        :schema: VerticalPodAutoscalerSpecStartupBoostCpu#type
        '''
        result = self._values.get("type")
        assert result is not None, "Required property 'type' is missing"
        return typing.cast("VerticalPodAutoscalerSpecStartupBoostCpuType", result)

    @builtins.property
    def duration_seconds(self) -> typing.Optional[jsii.Number]:
        '''durationSeconds indicates for how long to keep the pod boosted after it goes to Ready.

        Defaults to 0.

        :default: 0.

        :schema: VerticalPodAutoscalerSpecStartupBoostCpu#durationSeconds
        '''
        result = self._values.get("duration_seconds")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def factor(self) -> typing.Optional[jsii.Number]:
        '''factor specifies the factor to apply to the resource request.

        This field is required when Type is "Factor".

        :schema: VerticalPodAutoscalerSpecStartupBoostCpu#factor
        '''
        result = self._values.get("factor")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def quantity(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecStartupBoostCpuQuantity"]:
        '''quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase.

        This field is required when Type is "Quantity".

        :schema: VerticalPodAutoscalerSpecStartupBoostCpu#quantity
        '''
        result = self._values.get("quantity")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecStartupBoostCpuQuantity"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecStartupBoostCpu(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


class VerticalPodAutoscalerSpecStartupBoostCpuQuantity(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecStartupBoostCpuQuantity",
):
    '''quantity specifies the absolute resource quantity to be used as the resource request and limit during the boost phase.

    This field is required when Type is "Quantity".

    :schema: VerticalPodAutoscalerSpecStartupBoostCpuQuantity
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerSpecStartupBoostCpuQuantity":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4ed66572df20d577ee078cee8323aad80f5903783cd2da82f2ce8b4af9b1e7e2)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecStartupBoostCpuQuantity", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerSpecStartupBoostCpuQuantity":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__aa00f0e7004a5b1217bac3f0c7a9a785394977fe9872a7258bac446d2860a527)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerSpecStartupBoostCpuQuantity", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecStartupBoostCpuType"
)
class VerticalPodAutoscalerSpecStartupBoostCpuType(enum.Enum):
    '''type specifies the kind of boost to apply.

    Supported values are: "Factor", "Quantity".
    No startupboost will be applied for unrecognized values.

    :schema: VerticalPodAutoscalerSpecStartupBoostCpuType
    '''

    FACTOR = "FACTOR"
    '''Factor.'''
    QUANTITY = "QUANTITY"
    '''Quantity.'''


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecTargetRef",
    jsii_struct_bases=[],
    name_mapping={"kind": "kind", "name": "name", "api_version": "apiVersion"},
)
class VerticalPodAutoscalerSpecTargetRef:
    def __init__(
        self,
        *,
        kind: builtins.str,
        name: builtins.str,
        api_version: typing.Optional[builtins.str] = None,
    ) -> None:
        '''TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.

        :param kind: kind is the kind of the referent; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds
        :param name: name is the name of the referent; More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names
        :param api_version: apiVersion is the API version of the referent.

        :schema: VerticalPodAutoscalerSpecTargetRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__bd7fab4ee552e8ccf8addbe3244d2398c85adfde9c34ba73d19cbf57909a9ff7)
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument api_version", value=api_version, expected_type=type_hints["api_version"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "kind": kind,
            "name": name,
        }
        if api_version is not None:
            self._values["api_version"] = api_version

    @builtins.property
    def kind(self) -> builtins.str:
        '''kind is the kind of the referent;

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds

        :schema: VerticalPodAutoscalerSpecTargetRef#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''name is the name of the referent;

        More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names

        :schema: VerticalPodAutoscalerSpecTargetRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def api_version(self) -> typing.Optional[builtins.str]:
        '''apiVersion is the API version of the referent.

        :schema: VerticalPodAutoscalerSpecTargetRef#apiVersion
        '''
        result = self._values.get("api_version")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecTargetRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecUpdatePolicy",
    jsii_struct_bases=[],
    name_mapping={
        "evict_after_oom_seconds": "evictAfterOomSeconds",
        "eviction_requirements": "evictionRequirements",
        "min_replicas": "minReplicas",
        "update_mode": "updateMode",
    },
)
class VerticalPodAutoscalerSpecUpdatePolicy:
    def __init__(
        self,
        *,
        evict_after_oom_seconds: typing.Optional[jsii.Number] = None,
        eviction_requirements: typing.Optional[typing.Sequence[typing.Union["VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements", typing.Dict[builtins.str, typing.Any]]]] = None,
        min_replicas: typing.Optional[jsii.Number] = None,
        update_mode: typing.Optional["VerticalPodAutoscalerSpecUpdatePolicyUpdateMode"] = None,
    ) -> None:
        '''Describes the rules on how changes are applied to the pods.

        If not specified, all fields in the ``PodUpdatePolicy`` are set to their
        default values.

        :param evict_after_oom_seconds: evictAfterOOMSeconds specifies the time in seconds to wait after an OOM event before considering the pod for eviction. Pods that have OOMed in less than this time since start will be evicted.
        :param eviction_requirements: EvictionRequirements is a list of EvictionRequirements that need to evaluate to true in order for a Pod to be evicted. If more than one EvictionRequirement is specified, all of them need to be fulfilled to allow eviction.
        :param min_replicas: Minimal number of replicas which need to be alive for Updater to attempt pod eviction (pending other checks like PDB). Only positive values are allowed. Overrides global '--min-replicas' flag.
        :param update_mode: Controls when autoscaler applies changes to the pod resources. The default is 'Recreate'.

        :schema: VerticalPodAutoscalerSpecUpdatePolicy
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__1271432bb46c0018749114a29f15ba3ce82cc8120e6871ed1f3f18b8df0ac4db)
            check_type(argname="argument evict_after_oom_seconds", value=evict_after_oom_seconds, expected_type=type_hints["evict_after_oom_seconds"])
            check_type(argname="argument eviction_requirements", value=eviction_requirements, expected_type=type_hints["eviction_requirements"])
            check_type(argname="argument min_replicas", value=min_replicas, expected_type=type_hints["min_replicas"])
            check_type(argname="argument update_mode", value=update_mode, expected_type=type_hints["update_mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if evict_after_oom_seconds is not None:
            self._values["evict_after_oom_seconds"] = evict_after_oom_seconds
        if eviction_requirements is not None:
            self._values["eviction_requirements"] = eviction_requirements
        if min_replicas is not None:
            self._values["min_replicas"] = min_replicas
        if update_mode is not None:
            self._values["update_mode"] = update_mode

    @builtins.property
    def evict_after_oom_seconds(self) -> typing.Optional[jsii.Number]:
        '''evictAfterOOMSeconds specifies the time in seconds to wait after an OOM event before considering the pod for eviction.

        Pods that have OOMed in less than this time
        since start will be evicted.

        :schema: VerticalPodAutoscalerSpecUpdatePolicy#evictAfterOOMSeconds
        '''
        result = self._values.get("evict_after_oom_seconds")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def eviction_requirements(
        self,
    ) -> typing.Optional[typing.List["VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements"]]:
        '''EvictionRequirements is a list of EvictionRequirements that need to evaluate to true in order for a Pod to be evicted.

        If more than one
        EvictionRequirement is specified, all of them need to be fulfilled to allow eviction.

        :schema: VerticalPodAutoscalerSpecUpdatePolicy#evictionRequirements
        '''
        result = self._values.get("eviction_requirements")
        return typing.cast(typing.Optional[typing.List["VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements"]], result)

    @builtins.property
    def min_replicas(self) -> typing.Optional[jsii.Number]:
        '''Minimal number of replicas which need to be alive for Updater to attempt pod eviction (pending other checks like PDB).

        Only positive values are
        allowed. Overrides global '--min-replicas' flag.

        :schema: VerticalPodAutoscalerSpecUpdatePolicy#minReplicas
        '''
        result = self._values.get("min_replicas")
        return typing.cast(typing.Optional[jsii.Number], result)

    @builtins.property
    def update_mode(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerSpecUpdatePolicyUpdateMode"]:
        '''Controls when autoscaler applies changes to the pod resources.

        The default is 'Recreate'.

        :schema: VerticalPodAutoscalerSpecUpdatePolicy#updateMode
        '''
        result = self._values.get("update_mode")
        return typing.cast(typing.Optional["VerticalPodAutoscalerSpecUpdatePolicyUpdateMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecUpdatePolicy(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements",
    jsii_struct_bases=[],
    name_mapping={"change_requirement": "changeRequirement", "resources": "resources"},
)
class VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements:
    def __init__(
        self,
        *,
        change_requirement: "VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement",
        resources: typing.Sequence[builtins.str],
    ) -> None:
        '''EvictionRequirement defines a single condition which needs to be true in order to evict a Pod.

        :param change_requirement: EvictionChangeRequirement refers to the relationship between the new target recommendation for a Pod and its current requests, what kind of change is necessary for the Pod to be evicted.
        :param resources: Resources is a list of one or more resources that the condition applies to. If more than one resource is given, the EvictionRequirement is fulfilled if at least one resource meets ``changeRequirement``.

        :schema: VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__482e8e0062a660a322010ad646811f01846bdc0dfd650137c39ac149fe7514f8)
            check_type(argname="argument change_requirement", value=change_requirement, expected_type=type_hints["change_requirement"])
            check_type(argname="argument resources", value=resources, expected_type=type_hints["resources"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "change_requirement": change_requirement,
            "resources": resources,
        }

    @builtins.property
    def change_requirement(
        self,
    ) -> "VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement":
        '''EvictionChangeRequirement refers to the relationship between the new target recommendation for a Pod and its current requests, what kind of change is necessary for the Pod to be evicted.

        :schema: VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements#changeRequirement
        '''
        result = self._values.get("change_requirement")
        assert result is not None, "Required property 'change_requirement' is missing"
        return typing.cast("VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement", result)

    @builtins.property
    def resources(self) -> typing.List[builtins.str]:
        '''Resources is a list of one or more resources that the condition applies to.

        If more than one resource is given, the EvictionRequirement is fulfilled
        if at least one resource meets ``changeRequirement``.

        :schema: VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements#resources
        '''
        result = self._values.get("resources")
        assert result is not None, "Required property 'resources' is missing"
        return typing.cast(typing.List[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement"
)
class VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement(
    enum.Enum,
):
    '''EvictionChangeRequirement refers to the relationship between the new target recommendation for a Pod and its current requests, what kind of change is necessary for the Pod to be evicted.

    :schema: VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement
    '''

    TARGET_HIGHER_THAN_REQUESTS = "TARGET_HIGHER_THAN_REQUESTS"
    '''TargetHigherThanRequests.'''
    TARGET_LOWER_THAN_REQUESTS = "TARGET_LOWER_THAN_REQUESTS"
    '''TargetLowerThanRequests.'''


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerSpecUpdatePolicyUpdateMode"
)
class VerticalPodAutoscalerSpecUpdatePolicyUpdateMode(enum.Enum):
    '''Controls when autoscaler applies changes to the pod resources.

    The default is 'Recreate'.

    :schema: VerticalPodAutoscalerSpecUpdatePolicyUpdateMode
    '''

    OFF = "OFF"
    '''Off.'''
    INITIAL = "INITIAL"
    '''Initial.'''
    RECREATE = "RECREATE"
    '''Recreate.'''
    IN_PLACE_OR_RECREATE = "IN_PLACE_OR_RECREATE"
    '''InPlaceOrRecreate.'''
    IN_PLACE = "IN_PLACE"
    '''InPlace.'''
    AUTO = "AUTO"
    '''Auto.'''


class VerticalPodAutoscalerV1Beta2(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2",
):
    '''VerticalPodAutoscaler is the configuration for a vertical pod autoscaler, which automatically manages pod resources based on historical and real time resource utilization.

    :schema: VerticalPodAutoscalerV1Beta2
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        spec: typing.Union["VerticalPodAutoscalerV1Beta2Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "VerticalPodAutoscalerV1Beta2" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__73389e85f8c1505023487cabb565a22cc3a03c08874eff3e90c909cb397c38c5)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = VerticalPodAutoscalerV1Beta2Props(spec=spec, metadata=metadata)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        spec: typing.Union["VerticalPodAutoscalerV1Beta2Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "VerticalPodAutoscalerV1Beta2".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 
        '''
        props = VerticalPodAutoscalerV1Beta2Props(spec=spec, metadata=metadata)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "VerticalPodAutoscalerV1Beta2".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2Props",
    jsii_struct_bases=[],
    name_mapping={"spec": "spec", "metadata": "metadata"},
)
class VerticalPodAutoscalerV1Beta2Props:
    def __init__(
        self,
        *,
        spec: typing.Union["VerticalPodAutoscalerV1Beta2Spec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''VerticalPodAutoscaler is the configuration for a vertical pod autoscaler, which automatically manages pod resources based on historical and real time resource utilization.

        :param spec: Specification of the behavior of the autoscaler. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.
        :param metadata: 

        :schema: VerticalPodAutoscalerV1Beta2
        '''
        if isinstance(spec, dict):
            spec = VerticalPodAutoscalerV1Beta2Spec(**spec)
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__5d2edc53d344c17bfa962b5f06d83e33425749222e80a3242cf20024141aea2e)
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "spec": spec,
        }
        if metadata is not None:
            self._values["metadata"] = metadata

    @builtins.property
    def spec(self) -> "VerticalPodAutoscalerV1Beta2Spec":
        '''Specification of the behavior of the autoscaler.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :schema: VerticalPodAutoscalerV1Beta2#spec
        '''
        result = self._values.get("spec")
        assert result is not None, "Required property 'spec' is missing"
        return typing.cast("VerticalPodAutoscalerV1Beta2Spec", result)

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: VerticalPodAutoscalerV1Beta2#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2Props(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2Spec",
    jsii_struct_bases=[],
    name_mapping={
        "target_ref": "targetRef",
        "resource_policy": "resourcePolicy",
        "update_policy": "updatePolicy",
    },
)
class VerticalPodAutoscalerV1Beta2Spec:
    def __init__(
        self,
        *,
        target_ref: typing.Union["VerticalPodAutoscalerV1Beta2SpecTargetRef", typing.Dict[builtins.str, typing.Any]],
        resource_policy: typing.Optional[typing.Union["VerticalPodAutoscalerV1Beta2SpecResourcePolicy", typing.Dict[builtins.str, typing.Any]]] = None,
        update_policy: typing.Optional[typing.Union["VerticalPodAutoscalerV1Beta2SpecUpdatePolicy", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Specification of the behavior of the autoscaler.

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status.

        :param target_ref: TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.
        :param resource_policy: Controls how the autoscaler computes recommended resources. The resource policy may be used to set constraints on the recommendations for individual containers. If not specified, the autoscaler computes recommended resources for all containers in the pod, without additional constraints.
        :param update_policy: Describes the rules on how changes are applied to the pods. If not specified, all fields in the ``PodUpdatePolicy`` are set to their default values.

        :schema: VerticalPodAutoscalerV1Beta2Spec
        '''
        if isinstance(target_ref, dict):
            target_ref = VerticalPodAutoscalerV1Beta2SpecTargetRef(**target_ref)
        if isinstance(resource_policy, dict):
            resource_policy = VerticalPodAutoscalerV1Beta2SpecResourcePolicy(**resource_policy)
        if isinstance(update_policy, dict):
            update_policy = VerticalPodAutoscalerV1Beta2SpecUpdatePolicy(**update_policy)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a8b286233842b45d556d03c21b3f3f8d73b84eaf9aa953d2eb43f9f08fe6900f)
            check_type(argname="argument target_ref", value=target_ref, expected_type=type_hints["target_ref"])
            check_type(argname="argument resource_policy", value=resource_policy, expected_type=type_hints["resource_policy"])
            check_type(argname="argument update_policy", value=update_policy, expected_type=type_hints["update_policy"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "target_ref": target_ref,
        }
        if resource_policy is not None:
            self._values["resource_policy"] = resource_policy
        if update_policy is not None:
            self._values["update_policy"] = update_policy

    @builtins.property
    def target_ref(self) -> "VerticalPodAutoscalerV1Beta2SpecTargetRef":
        '''TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.

        :schema: VerticalPodAutoscalerV1Beta2Spec#targetRef
        '''
        result = self._values.get("target_ref")
        assert result is not None, "Required property 'target_ref' is missing"
        return typing.cast("VerticalPodAutoscalerV1Beta2SpecTargetRef", result)

    @builtins.property
    def resource_policy(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerV1Beta2SpecResourcePolicy"]:
        '''Controls how the autoscaler computes recommended resources.

        The resource policy may be used to set constraints on the recommendations
        for individual containers. If not specified, the autoscaler computes recommended
        resources for all containers in the pod, without additional constraints.

        :schema: VerticalPodAutoscalerV1Beta2Spec#resourcePolicy
        '''
        result = self._values.get("resource_policy")
        return typing.cast(typing.Optional["VerticalPodAutoscalerV1Beta2SpecResourcePolicy"], result)

    @builtins.property
    def update_policy(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerV1Beta2SpecUpdatePolicy"]:
        '''Describes the rules on how changes are applied to the pods.

        If not specified, all fields in the ``PodUpdatePolicy`` are set to their
        default values.

        :schema: VerticalPodAutoscalerV1Beta2Spec#updatePolicy
        '''
        result = self._values.get("update_policy")
        return typing.cast(typing.Optional["VerticalPodAutoscalerV1Beta2SpecUpdatePolicy"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2Spec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecResourcePolicy",
    jsii_struct_bases=[],
    name_mapping={"container_policies": "containerPolicies"},
)
class VerticalPodAutoscalerV1Beta2SpecResourcePolicy:
    def __init__(
        self,
        *,
        container_policies: typing.Optional[typing.Sequence[typing.Union["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies", typing.Dict[builtins.str, typing.Any]]]] = None,
    ) -> None:
        '''Controls how the autoscaler computes recommended resources.

        The resource policy may be used to set constraints on the recommendations
        for individual containers. If not specified, the autoscaler computes recommended
        resources for all containers in the pod, without additional constraints.

        :param container_policies: Per-container resource policies.

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicy
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__3d81ef0bae51bca9b63b3bb8381bbe9629557d2d2eec34cfee4e13dfc1a15250)
            check_type(argname="argument container_policies", value=container_policies, expected_type=type_hints["container_policies"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_policies is not None:
            self._values["container_policies"] = container_policies

    @builtins.property
    def container_policies(
        self,
    ) -> typing.Optional[typing.List["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies"]]:
        '''Per-container resource policies.

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicy#containerPolicies
        '''
        result = self._values.get("container_policies")
        return typing.cast(typing.Optional[typing.List["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies"]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2SpecResourcePolicy(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies",
    jsii_struct_bases=[],
    name_mapping={
        "container_name": "containerName",
        "max_allowed": "maxAllowed",
        "min_allowed": "minAllowed",
        "mode": "mode",
    },
)
class VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies:
    def __init__(
        self,
        *,
        container_name: typing.Optional[builtins.str] = None,
        max_allowed: typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed"]] = None,
        min_allowed: typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed"]] = None,
        mode: typing.Optional["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode"] = None,
    ) -> None:
        '''ContainerResourcePolicy controls how autoscaler computes the recommended resources for a specific container.

        :param container_name: Name of the container or DefaultContainerResourcePolicy, in which case the policy is used by the containers that don't have their own policy specified.
        :param max_allowed: Specifies the maximum amount of resources that will be recommended for the container. The default is no maximum.
        :param min_allowed: Specifies the minimal amount of resources that will be recommended for the container. The default is no minimum.
        :param mode: Whether autoscaler is enabled for the container. The default is "Auto".

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__5670f4b050519b28f1988e9e6700491e47ff7fa2ac0e9567161cbeda32e8b483)
            check_type(argname="argument container_name", value=container_name, expected_type=type_hints["container_name"])
            check_type(argname="argument max_allowed", value=max_allowed, expected_type=type_hints["max_allowed"])
            check_type(argname="argument min_allowed", value=min_allowed, expected_type=type_hints["min_allowed"])
            check_type(argname="argument mode", value=mode, expected_type=type_hints["mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if container_name is not None:
            self._values["container_name"] = container_name
        if max_allowed is not None:
            self._values["max_allowed"] = max_allowed
        if min_allowed is not None:
            self._values["min_allowed"] = min_allowed
        if mode is not None:
            self._values["mode"] = mode

    @builtins.property
    def container_name(self) -> typing.Optional[builtins.str]:
        '''Name of the container or DefaultContainerResourcePolicy, in which case the policy is used by the containers that don't have their own policy specified.

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies#containerName
        '''
        result = self._values.get("container_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def max_allowed(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed"]]:
        '''Specifies the maximum amount of resources that will be recommended for the container.

        The default is no maximum.

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies#maxAllowed
        '''
        result = self._values.get("max_allowed")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed"]], result)

    @builtins.property
    def min_allowed(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed"]]:
        '''Specifies the minimal amount of resources that will be recommended for the container.

        The default is no minimum.

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies#minAllowed
        '''
        result = self._values.get("min_allowed")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed"]], result)

    @builtins.property
    def mode(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode"]:
        '''Whether autoscaler is enabled for the container.

        The default is "Auto".

        :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies#mode
        '''
        result = self._values.get("mode")
        return typing.cast(typing.Optional["VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


class VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed",
):
    '''
    :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f754994d482831fae0f6316771e64f5fb7da5f537ca0490666144798af06f488)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__8d4f31c7931fb4de6f14b745b3f265f96fd62991db8ba04ab2009006afa5c23a)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


class VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed(
    metaclass=jsii.JSIIMeta,
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed",
):
    '''
    :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed
    '''

    @jsii.member(jsii_name="fromNumber")
    @builtins.classmethod
    def from_number(
        cls,
        value: jsii.Number,
    ) -> "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__3bd40c677fc4392f5ff80bac47b783da222c5a74368da02ca373f48d768afe23)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed", jsii.sinvoke(cls, "fromNumber", [value]))

    @jsii.member(jsii_name="fromString")
    @builtins.classmethod
    def from_string(
        cls,
        value: builtins.str,
    ) -> "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed":
        '''
        :param value: -
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__97917ec83b7995bb2b00c4f722aacf803820430a421e28ab2faf97bc429d3175)
            check_type(argname="argument value", value=value, expected_type=type_hints["value"])
        return typing.cast("VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed", jsii.sinvoke(cls, "fromString", [value]))

    @builtins.property
    @jsii.member(jsii_name="value")
    def value(self) -> typing.Union[builtins.str, jsii.Number]:
        return typing.cast(typing.Union[builtins.str, jsii.Number], jsii.get(self, "value"))


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode"
)
class VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode(enum.Enum):
    '''Whether autoscaler is enabled for the container.

    The default is "Auto".

    :schema: VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode
    '''

    AUTO = "AUTO"
    '''Auto.'''
    OFF = "OFF"
    '''Off.'''


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecTargetRef",
    jsii_struct_bases=[],
    name_mapping={"kind": "kind", "name": "name", "api_version": "apiVersion"},
)
class VerticalPodAutoscalerV1Beta2SpecTargetRef:
    def __init__(
        self,
        *,
        kind: builtins.str,
        name: builtins.str,
        api_version: typing.Optional[builtins.str] = None,
    ) -> None:
        '''TargetRef points to the controller managing the set of pods for the autoscaler to control - e.g. Deployment, StatefulSet. VerticalPodAutoscaler can be targeted at controller implementing scale subresource (the pod set is retrieved from the controller's ScaleStatus) or some well known controllers (e.g. for DaemonSet the pod set is read from the controller's spec). If VerticalPodAutoscaler cannot use specified target it will report ConfigUnsupported condition. Note that VerticalPodAutoscaler does not require full implementation of scale subresource - it will not use it to modify the replica count. The only thing retrieved is a label selector matching pods grouped by the target resource.

        :param kind: kind is the kind of the referent; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds
        :param name: name is the name of the referent; More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names
        :param api_version: apiVersion is the API version of the referent.

        :schema: VerticalPodAutoscalerV1Beta2SpecTargetRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__66bcaa724f33588e4a23bedbf785d43e44ec32ffcc5be3460ea64b584e09bd79)
            check_type(argname="argument kind", value=kind, expected_type=type_hints["kind"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument api_version", value=api_version, expected_type=type_hints["api_version"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "kind": kind,
            "name": name,
        }
        if api_version is not None:
            self._values["api_version"] = api_version

    @builtins.property
    def kind(self) -> builtins.str:
        '''kind is the kind of the referent;

        More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds

        :schema: VerticalPodAutoscalerV1Beta2SpecTargetRef#kind
        '''
        result = self._values.get("kind")
        assert result is not None, "Required property 'kind' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''name is the name of the referent;

        More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names

        :schema: VerticalPodAutoscalerV1Beta2SpecTargetRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def api_version(self) -> typing.Optional[builtins.str]:
        '''apiVersion is the API version of the referent.

        :schema: VerticalPodAutoscalerV1Beta2SpecTargetRef#apiVersion
        '''
        result = self._values.get("api_version")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2SpecTargetRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecUpdatePolicy",
    jsii_struct_bases=[],
    name_mapping={"update_mode": "updateMode"},
)
class VerticalPodAutoscalerV1Beta2SpecUpdatePolicy:
    def __init__(
        self,
        *,
        update_mode: typing.Optional["VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode"] = None,
    ) -> None:
        '''Describes the rules on how changes are applied to the pods.

        If not specified, all fields in the ``PodUpdatePolicy`` are set to their
        default values.

        :param update_mode: Controls when autoscaler applies changes to the pod resources. The default is 'Auto'.

        :schema: VerticalPodAutoscalerV1Beta2SpecUpdatePolicy
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a7a4d7a745357eea3b2bc58bf789acfc154e23450dd75b33dbe8858003c94f1e)
            check_type(argname="argument update_mode", value=update_mode, expected_type=type_hints["update_mode"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if update_mode is not None:
            self._values["update_mode"] = update_mode

    @builtins.property
    def update_mode(
        self,
    ) -> typing.Optional["VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode"]:
        '''Controls when autoscaler applies changes to the pod resources.

        The default is 'Auto'.

        :schema: VerticalPodAutoscalerV1Beta2SpecUpdatePolicy#updateMode
        '''
        result = self._values.get("update_mode")
        return typing.cast(typing.Optional["VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "VerticalPodAutoscalerV1Beta2SpecUpdatePolicy(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="verticalpodautoscalers_iok8sautoscaling.VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode"
)
class VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode(enum.Enum):
    '''Controls when autoscaler applies changes to the pod resources.

    The default is 'Auto'.

    :schema: VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode
    '''

    OFF = "OFF"
    '''Off.'''
    INITIAL = "INITIAL"
    '''Initial.'''
    RECREATE = "RECREATE"
    '''Recreate.'''
    AUTO = "AUTO"
    '''Auto.'''


__all__ = [
    "VerticalPodAutoscaler",
    "VerticalPodAutoscalerCheckpoint",
    "VerticalPodAutoscalerCheckpointProps",
    "VerticalPodAutoscalerCheckpointSpec",
    "VerticalPodAutoscalerCheckpointV1Beta2",
    "VerticalPodAutoscalerCheckpointV1Beta2Props",
    "VerticalPodAutoscalerCheckpointV1Beta2Spec",
    "VerticalPodAutoscalerProps",
    "VerticalPodAutoscalerSpec",
    "VerticalPodAutoscalerSpecRecommenders",
    "VerticalPodAutoscalerSpecResourcePolicy",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPolicies",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity",
    "VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType",
    "VerticalPodAutoscalerSpecStartupBoost",
    "VerticalPodAutoscalerSpecStartupBoostCpu",
    "VerticalPodAutoscalerSpecStartupBoostCpuQuantity",
    "VerticalPodAutoscalerSpecStartupBoostCpuType",
    "VerticalPodAutoscalerSpecTargetRef",
    "VerticalPodAutoscalerSpecUpdatePolicy",
    "VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements",
    "VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement",
    "VerticalPodAutoscalerSpecUpdatePolicyUpdateMode",
    "VerticalPodAutoscalerV1Beta2",
    "VerticalPodAutoscalerV1Beta2Props",
    "VerticalPodAutoscalerV1Beta2Spec",
    "VerticalPodAutoscalerV1Beta2SpecResourcePolicy",
    "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies",
    "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed",
    "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed",
    "VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode",
    "VerticalPodAutoscalerV1Beta2SpecTargetRef",
    "VerticalPodAutoscalerV1Beta2SpecUpdatePolicy",
    "VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode",
]

publication.publish()

def _typecheckingstub__6efebf94e726f619cb2c1607cd59c985e82f40aba00f33ca4b1060c0f1011157(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    spec: typing.Union[VerticalPodAutoscalerSpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__dec853e7fca3f32071656c7e075dfbe81d7c7317b117aef29480362a3783a773(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
    spec: typing.Optional[typing.Union[VerticalPodAutoscalerCheckpointSpec, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7d906b437fe691232e9ef8f28344536541243b41d6e321e5f1ef56d672f95dc3(
    *,
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
    spec: typing.Optional[typing.Union[VerticalPodAutoscalerCheckpointSpec, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a54ce7676e5a9afed13baf0136b591dffdeb5acb55c7f89f01ff6463a5c4e057(
    *,
    container_name: typing.Optional[builtins.str] = None,
    vpa_object_name: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__85cfa7cca5137aa915a7f152abda2dce0f9d3d1b3f0b89ebe7a885551208aba3(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
    spec: typing.Optional[typing.Union[VerticalPodAutoscalerCheckpointV1Beta2Spec, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__654c80af3d4fb7b2b418a51e5bc39db7dbddc7ea62d7e68c221ba60bcdfdf755(
    *,
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
    spec: typing.Optional[typing.Union[VerticalPodAutoscalerCheckpointV1Beta2Spec, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__137a00f97f446eb2420d47dcb518d2890597cd0dc5a7dcfd4a651268856f45e6(
    *,
    container_name: typing.Optional[builtins.str] = None,
    vpa_object_name: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__6565cf5b377616e129f3a0f41db42284aede22904d306dad67249a8a9d43380c(
    *,
    spec: typing.Union[VerticalPodAutoscalerSpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__375eb34544304a7a6408dfc8d15bf1481d11f125c55742819a8fc965bd3616e6(
    *,
    target_ref: typing.Union[VerticalPodAutoscalerSpecTargetRef, typing.Dict[builtins.str, typing.Any]],
    recommenders: typing.Optional[typing.Sequence[typing.Union[VerticalPodAutoscalerSpecRecommenders, typing.Dict[builtins.str, typing.Any]]]] = None,
    resource_policy: typing.Optional[typing.Union[VerticalPodAutoscalerSpecResourcePolicy, typing.Dict[builtins.str, typing.Any]]] = None,
    startup_boost: typing.Optional[typing.Union[VerticalPodAutoscalerSpecStartupBoost, typing.Dict[builtins.str, typing.Any]]] = None,
    update_policy: typing.Optional[typing.Union[VerticalPodAutoscalerSpecUpdatePolicy, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c366f385585ca5eea14de25b9136aa73cc9996adcf8d95dab7abc0021e73d628(
    *,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__399698e06c371193b9395bc21ff1af70a61f6f03fc633d8ab006c96b49c4831e(
    *,
    container_policies: typing.Optional[typing.Sequence[typing.Union[VerticalPodAutoscalerSpecResourcePolicyContainerPolicies, typing.Dict[builtins.str, typing.Any]]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__32f03d3391032dfe35e6841d820d622dd0c60062fa5d3ff5e58cc2a50b8ec2f0(
    *,
    container_name: typing.Optional[builtins.str] = None,
    controlled_resources: typing.Optional[typing.Sequence[builtins.str]] = None,
    controlled_values: typing.Optional[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesControlledValues] = None,
    max_allowed: typing.Optional[typing.Mapping[builtins.str, VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMaxAllowed]] = None,
    memory_aggregation_interval_count: typing.Optional[jsii.Number] = None,
    memory_aggregation_interval_seconds: typing.Optional[jsii.Number] = None,
    min_allowed: typing.Optional[typing.Mapping[builtins.str, VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMinAllowed]] = None,
    mode: typing.Optional[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesMode] = None,
    oom_bump_up_ratio: typing.Optional[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomBumpUpRatio] = None,
    oom_min_bump_up: typing.Optional[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesOomMinBumpUp] = None,
    startup_boost: typing.Optional[typing.Union[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoost, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__34eb2ecd6bc00d51ee28ba6cb13bc3783762e818db784aab573089dc656bbfca(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__39c3ffecd2f52dbc1c588300e778ed47d25cf99e61fd5ab19f28d5d5f5c3a247(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__8cfdd632938ab583b40276dd108c1ff4f0933dc1ca952b26b4f3f465355ae785(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__56480ad6ba90ad646f125f059feb69c5a08c54fffef7dcc358a5f7e0ef1700b2(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c704bbba1e43a0e17f311e14066d31b11715f6d754c1e911df66537e5d3315bf(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e2c4d67e688efbbea10f30b16fe7e77fa99a7a624cb1a81e67509bf31c462fcc(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e48c9e5affcf1e14ed42d20c598db6636f4b3e41cda95b09c59d25dcb1960020(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f33a0d01516a5719c0cbca6d3b6263393a08f09bcd95a169887e2b88c8ed7353(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__1d5bc83c4929d38968d0e807002945b4bcc40d47998c841a4ee96a0088375750(
    *,
    cpu: typing.Optional[typing.Union[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpu, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__75f7ccf8862cfcd8f43fc8635657651c5950ad40b919e36ae65bb359a1c48a8c(
    *,
    type: VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuType,
    duration_seconds: typing.Optional[jsii.Number] = None,
    factor: typing.Optional[jsii.Number] = None,
    quantity: typing.Optional[VerticalPodAutoscalerSpecResourcePolicyContainerPoliciesStartupBoostCpuQuantity] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__9fd7a2b6bef3c4d305002c13238025cd1c74dfd93957e874da5718ad4c4278bf(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__9044bdb3c0d6c6a744c576381b6ed1084915fd0c37861ce9470992d338147738(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__dd21a5fbb09d8b8b2b546295af5dca8b3b6510808863b0f7d709596554a0b055(
    *,
    cpu: typing.Optional[typing.Union[VerticalPodAutoscalerSpecStartupBoostCpu, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7d51345ee5125c1960a7f4f41f6b1d0776817659711c8b4dd5a7da7e64eb6478(
    *,
    type: VerticalPodAutoscalerSpecStartupBoostCpuType,
    duration_seconds: typing.Optional[jsii.Number] = None,
    factor: typing.Optional[jsii.Number] = None,
    quantity: typing.Optional[VerticalPodAutoscalerSpecStartupBoostCpuQuantity] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4ed66572df20d577ee078cee8323aad80f5903783cd2da82f2ce8b4af9b1e7e2(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__aa00f0e7004a5b1217bac3f0c7a9a785394977fe9872a7258bac446d2860a527(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__bd7fab4ee552e8ccf8addbe3244d2398c85adfde9c34ba73d19cbf57909a9ff7(
    *,
    kind: builtins.str,
    name: builtins.str,
    api_version: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__1271432bb46c0018749114a29f15ba3ce82cc8120e6871ed1f3f18b8df0ac4db(
    *,
    evict_after_oom_seconds: typing.Optional[jsii.Number] = None,
    eviction_requirements: typing.Optional[typing.Sequence[typing.Union[VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirements, typing.Dict[builtins.str, typing.Any]]]] = None,
    min_replicas: typing.Optional[jsii.Number] = None,
    update_mode: typing.Optional[VerticalPodAutoscalerSpecUpdatePolicyUpdateMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__482e8e0062a660a322010ad646811f01846bdc0dfd650137c39ac149fe7514f8(
    *,
    change_requirement: VerticalPodAutoscalerSpecUpdatePolicyEvictionRequirementsChangeRequirement,
    resources: typing.Sequence[builtins.str],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__73389e85f8c1505023487cabb565a22cc3a03c08874eff3e90c909cb397c38c5(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    spec: typing.Union[VerticalPodAutoscalerV1Beta2Spec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__5d2edc53d344c17bfa962b5f06d83e33425749222e80a3242cf20024141aea2e(
    *,
    spec: typing.Union[VerticalPodAutoscalerV1Beta2Spec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a8b286233842b45d556d03c21b3f3f8d73b84eaf9aa953d2eb43f9f08fe6900f(
    *,
    target_ref: typing.Union[VerticalPodAutoscalerV1Beta2SpecTargetRef, typing.Dict[builtins.str, typing.Any]],
    resource_policy: typing.Optional[typing.Union[VerticalPodAutoscalerV1Beta2SpecResourcePolicy, typing.Dict[builtins.str, typing.Any]]] = None,
    update_policy: typing.Optional[typing.Union[VerticalPodAutoscalerV1Beta2SpecUpdatePolicy, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__3d81ef0bae51bca9b63b3bb8381bbe9629557d2d2eec34cfee4e13dfc1a15250(
    *,
    container_policies: typing.Optional[typing.Sequence[typing.Union[VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPolicies, typing.Dict[builtins.str, typing.Any]]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__5670f4b050519b28f1988e9e6700491e47ff7fa2ac0e9567161cbeda32e8b483(
    *,
    container_name: typing.Optional[builtins.str] = None,
    max_allowed: typing.Optional[typing.Mapping[builtins.str, VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMaxAllowed]] = None,
    min_allowed: typing.Optional[typing.Mapping[builtins.str, VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMinAllowed]] = None,
    mode: typing.Optional[VerticalPodAutoscalerV1Beta2SpecResourcePolicyContainerPoliciesMode] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f754994d482831fae0f6316771e64f5fb7da5f537ca0490666144798af06f488(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__8d4f31c7931fb4de6f14b745b3f265f96fd62991db8ba04ab2009006afa5c23a(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__3bd40c677fc4392f5ff80bac47b783da222c5a74368da02ca373f48d768afe23(
    value: jsii.Number,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__97917ec83b7995bb2b00c4f722aacf803820430a421e28ab2faf97bc429d3175(
    value: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__66bcaa724f33588e4a23bedbf785d43e44ec32ffcc5be3460ea64b584e09bd79(
    *,
    kind: builtins.str,
    name: builtins.str,
    api_version: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a7a4d7a745357eea3b2bc58bf789acfc154e23450dd75b33dbe8858003c94f1e(
    *,
    update_mode: typing.Optional[VerticalPodAutoscalerV1Beta2SpecUpdatePolicyUpdateMode] = None,
) -> None:
    """Type checking stubs"""
    pass
