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


class TriggerAuthentication(
    _cdk8s_d3d9af27.ApiObject,
    metaclass=jsii.JSIIMeta,
    jsii_type="triggerauthentications_shkeda.TriggerAuthentication",
):
    '''TriggerAuthentication defines how a trigger can authenticate.

    :schema: TriggerAuthentication
    '''

    def __init__(
        self,
        scope: "_constructs_77d1e7e8.Construct",
        id: builtins.str,
        *,
        spec: typing.Union["TriggerAuthenticationSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''Defines a "TriggerAuthentication" API object.

        :param scope: the scope in which to define this object.
        :param id: a scope-local name for the object.
        :param spec: TriggerAuthenticationSpec defines the various ways to authenticate.
        :param metadata: 
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__46d873b8b28a18d9f089d6d69fdd910afbf844fcda59c4f2b32099f8795c14d8)
            check_type(argname="argument scope", value=scope, expected_type=type_hints["scope"])
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
        props = TriggerAuthenticationProps(spec=spec, metadata=metadata)

        jsii.create(self.__class__, self, [scope, id, props])

    @jsii.member(jsii_name="manifest")
    @builtins.classmethod
    def manifest(
        cls,
        *,
        spec: typing.Union["TriggerAuthenticationSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> typing.Any:
        '''Renders a Kubernetes manifest for "TriggerAuthentication".

        This can be used to inline resource manifests inside other objects (e.g. as templates).

        :param spec: TriggerAuthenticationSpec defines the various ways to authenticate.
        :param metadata: 
        '''
        props = TriggerAuthenticationProps(spec=spec, metadata=metadata)

        return typing.cast(typing.Any, jsii.sinvoke(cls, "manifest", [props]))

    @jsii.member(jsii_name="toJson")
    def to_json(self) -> typing.Any:
        '''Renders the object to Kubernetes JSON.'''
        return typing.cast(typing.Any, jsii.invoke(self, "toJson", []))

    @jsii.python.classproperty
    @jsii.member(jsii_name="GVK")
    def GVK(cls) -> "_cdk8s_d3d9af27.GroupVersionKind":
        '''Returns the apiVersion and kind for "TriggerAuthentication".'''
        return typing.cast("_cdk8s_d3d9af27.GroupVersionKind", jsii.sget(cls, "GVK"))


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationProps",
    jsii_struct_bases=[],
    name_mapping={"spec": "spec", "metadata": "metadata"},
)
class TriggerAuthenticationProps:
    def __init__(
        self,
        *,
        spec: typing.Union["TriggerAuthenticationSpec", typing.Dict[builtins.str, typing.Any]],
        metadata: typing.Optional[typing.Union["_cdk8s_d3d9af27.ApiObjectMetadata", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''TriggerAuthentication defines how a trigger can authenticate.

        :param spec: TriggerAuthenticationSpec defines the various ways to authenticate.
        :param metadata: 

        :schema: TriggerAuthentication
        '''
        if isinstance(spec, dict):
            spec = TriggerAuthenticationSpec(**spec)
        if isinstance(metadata, dict):
            metadata = _cdk8s_d3d9af27.ApiObjectMetadata(**metadata)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c72fb4b19538e51f6171f95c6aa83fb15d90db848fe22b9f31c329a58eb158dc)
            check_type(argname="argument spec", value=spec, expected_type=type_hints["spec"])
            check_type(argname="argument metadata", value=metadata, expected_type=type_hints["metadata"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "spec": spec,
        }
        if metadata is not None:
            self._values["metadata"] = metadata

    @builtins.property
    def spec(self) -> "TriggerAuthenticationSpec":
        '''TriggerAuthenticationSpec defines the various ways to authenticate.

        :schema: TriggerAuthentication#spec
        '''
        result = self._values.get("spec")
        assert result is not None, "Required property 'spec' is missing"
        return typing.cast("TriggerAuthenticationSpec", result)

    @builtins.property
    def metadata(self) -> typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"]:
        '''
        :schema: TriggerAuthentication#metadata
        '''
        result = self._values.get("metadata")
        return typing.cast(typing.Optional["_cdk8s_d3d9af27.ApiObjectMetadata"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationProps(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpec",
    jsii_struct_bases=[],
    name_mapping={
        "aws_secret_manager": "awsSecretManager",
        "azure_key_vault": "azureKeyVault",
        "bound_service_account_token": "boundServiceAccountToken",
        "config_map_target_ref": "configMapTargetRef",
        "env": "env",
        "file_path": "filePath",
        "gcp_secret_manager": "gcpSecretManager",
        "hashi_corp_vault": "hashiCorpVault",
        "oauth2": "oauth2",
        "pod_identity": "podIdentity",
        "secret_target_ref": "secretTargetRef",
    },
)
class TriggerAuthenticationSpec:
    def __init__(
        self,
        *,
        aws_secret_manager: typing.Optional[typing.Union["TriggerAuthenticationSpecAwsSecretManager", typing.Dict[builtins.str, typing.Any]]] = None,
        azure_key_vault: typing.Optional[typing.Union["TriggerAuthenticationSpecAzureKeyVault", typing.Dict[builtins.str, typing.Any]]] = None,
        bound_service_account_token: typing.Optional[typing.Sequence[typing.Union["TriggerAuthenticationSpecBoundServiceAccountToken", typing.Dict[builtins.str, typing.Any]]]] = None,
        config_map_target_ref: typing.Optional[typing.Sequence[typing.Union["TriggerAuthenticationSpecConfigMapTargetRef", typing.Dict[builtins.str, typing.Any]]]] = None,
        env: typing.Optional[typing.Sequence[typing.Union["TriggerAuthenticationSpecEnv", typing.Dict[builtins.str, typing.Any]]]] = None,
        file_path: typing.Optional[builtins.str] = None,
        gcp_secret_manager: typing.Optional[typing.Union["TriggerAuthenticationSpecGcpSecretManager", typing.Dict[builtins.str, typing.Any]]] = None,
        hashi_corp_vault: typing.Optional[typing.Union["TriggerAuthenticationSpecHashiCorpVault", typing.Dict[builtins.str, typing.Any]]] = None,
        oauth2: typing.Optional[typing.Union["TriggerAuthenticationSpecOauth2", typing.Dict[builtins.str, typing.Any]]] = None,
        pod_identity: typing.Optional[typing.Union["TriggerAuthenticationSpecPodIdentity", typing.Dict[builtins.str, typing.Any]]] = None,
        secret_target_ref: typing.Optional[typing.Sequence[typing.Union["TriggerAuthenticationSpecSecretTargetRef", typing.Dict[builtins.str, typing.Any]]]] = None,
    ) -> None:
        '''TriggerAuthenticationSpec defines the various ways to authenticate.

        :param aws_secret_manager: AwsSecretManager is used to authenticate using AwsSecretManager.
        :param azure_key_vault: AzureKeyVault is used to authenticate using Azure Key Vault.
        :param bound_service_account_token: 
        :param config_map_target_ref: 
        :param env: 
        :param file_path: FilePath specifies a file containing auth parameters as JSON map[string]string. When set, auth params are read directly from this file instead.
        :param gcp_secret_manager: 
        :param hashi_corp_vault: HashiCorpVault is used to authenticate using Hashicorp Vault.
        :param oauth2: 
        :param pod_identity: AuthPodIdentity allows users to select the platform native identity mechanism.
        :param secret_target_ref: 

        :schema: TriggerAuthenticationSpec
        '''
        if isinstance(aws_secret_manager, dict):
            aws_secret_manager = TriggerAuthenticationSpecAwsSecretManager(**aws_secret_manager)
        if isinstance(azure_key_vault, dict):
            azure_key_vault = TriggerAuthenticationSpecAzureKeyVault(**azure_key_vault)
        if isinstance(gcp_secret_manager, dict):
            gcp_secret_manager = TriggerAuthenticationSpecGcpSecretManager(**gcp_secret_manager)
        if isinstance(hashi_corp_vault, dict):
            hashi_corp_vault = TriggerAuthenticationSpecHashiCorpVault(**hashi_corp_vault)
        if isinstance(oauth2, dict):
            oauth2 = TriggerAuthenticationSpecOauth2(**oauth2)
        if isinstance(pod_identity, dict):
            pod_identity = TriggerAuthenticationSpecPodIdentity(**pod_identity)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__af37ebe71e188403d4de5ffb5998c3179b19e19d5bedd0d1662d476f3147710e)
            check_type(argname="argument aws_secret_manager", value=aws_secret_manager, expected_type=type_hints["aws_secret_manager"])
            check_type(argname="argument azure_key_vault", value=azure_key_vault, expected_type=type_hints["azure_key_vault"])
            check_type(argname="argument bound_service_account_token", value=bound_service_account_token, expected_type=type_hints["bound_service_account_token"])
            check_type(argname="argument config_map_target_ref", value=config_map_target_ref, expected_type=type_hints["config_map_target_ref"])
            check_type(argname="argument env", value=env, expected_type=type_hints["env"])
            check_type(argname="argument file_path", value=file_path, expected_type=type_hints["file_path"])
            check_type(argname="argument gcp_secret_manager", value=gcp_secret_manager, expected_type=type_hints["gcp_secret_manager"])
            check_type(argname="argument hashi_corp_vault", value=hashi_corp_vault, expected_type=type_hints["hashi_corp_vault"])
            check_type(argname="argument oauth2", value=oauth2, expected_type=type_hints["oauth2"])
            check_type(argname="argument pod_identity", value=pod_identity, expected_type=type_hints["pod_identity"])
            check_type(argname="argument secret_target_ref", value=secret_target_ref, expected_type=type_hints["secret_target_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if aws_secret_manager is not None:
            self._values["aws_secret_manager"] = aws_secret_manager
        if azure_key_vault is not None:
            self._values["azure_key_vault"] = azure_key_vault
        if bound_service_account_token is not None:
            self._values["bound_service_account_token"] = bound_service_account_token
        if config_map_target_ref is not None:
            self._values["config_map_target_ref"] = config_map_target_ref
        if env is not None:
            self._values["env"] = env
        if file_path is not None:
            self._values["file_path"] = file_path
        if gcp_secret_manager is not None:
            self._values["gcp_secret_manager"] = gcp_secret_manager
        if hashi_corp_vault is not None:
            self._values["hashi_corp_vault"] = hashi_corp_vault
        if oauth2 is not None:
            self._values["oauth2"] = oauth2
        if pod_identity is not None:
            self._values["pod_identity"] = pod_identity
        if secret_target_ref is not None:
            self._values["secret_target_ref"] = secret_target_ref

    @builtins.property
    def aws_secret_manager(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAwsSecretManager"]:
        '''AwsSecretManager is used to authenticate using AwsSecretManager.

        :schema: TriggerAuthenticationSpec#awsSecretManager
        '''
        result = self._values.get("aws_secret_manager")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAwsSecretManager"], result)

    @builtins.property
    def azure_key_vault(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAzureKeyVault"]:
        '''AzureKeyVault is used to authenticate using Azure Key Vault.

        :schema: TriggerAuthenticationSpec#azureKeyVault
        '''
        result = self._values.get("azure_key_vault")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAzureKeyVault"], result)

    @builtins.property
    def bound_service_account_token(
        self,
    ) -> typing.Optional[typing.List["TriggerAuthenticationSpecBoundServiceAccountToken"]]:
        '''
        :schema: TriggerAuthenticationSpec#boundServiceAccountToken
        '''
        result = self._values.get("bound_service_account_token")
        return typing.cast(typing.Optional[typing.List["TriggerAuthenticationSpecBoundServiceAccountToken"]], result)

    @builtins.property
    def config_map_target_ref(
        self,
    ) -> typing.Optional[typing.List["TriggerAuthenticationSpecConfigMapTargetRef"]]:
        '''
        :schema: TriggerAuthenticationSpec#configMapTargetRef
        '''
        result = self._values.get("config_map_target_ref")
        return typing.cast(typing.Optional[typing.List["TriggerAuthenticationSpecConfigMapTargetRef"]], result)

    @builtins.property
    def env(self) -> typing.Optional[typing.List["TriggerAuthenticationSpecEnv"]]:
        '''
        :schema: TriggerAuthenticationSpec#env
        '''
        result = self._values.get("env")
        return typing.cast(typing.Optional[typing.List["TriggerAuthenticationSpecEnv"]], result)

    @builtins.property
    def file_path(self) -> typing.Optional[builtins.str]:
        '''FilePath specifies a file containing auth parameters as JSON map[string]string.

        When set, auth params are read directly from this file instead.

        :schema: TriggerAuthenticationSpec#filePath
        '''
        result = self._values.get("file_path")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def gcp_secret_manager(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecGcpSecretManager"]:
        '''
        :schema: TriggerAuthenticationSpec#gcpSecretManager
        '''
        result = self._values.get("gcp_secret_manager")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecGcpSecretManager"], result)

    @builtins.property
    def hashi_corp_vault(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecHashiCorpVault"]:
        '''HashiCorpVault is used to authenticate using Hashicorp Vault.

        :schema: TriggerAuthenticationSpec#hashiCorpVault
        '''
        result = self._values.get("hashi_corp_vault")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecHashiCorpVault"], result)

    @builtins.property
    def oauth2(self) -> typing.Optional["TriggerAuthenticationSpecOauth2"]:
        '''
        :schema: TriggerAuthenticationSpec#oauth2
        '''
        result = self._values.get("oauth2")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecOauth2"], result)

    @builtins.property
    def pod_identity(self) -> typing.Optional["TriggerAuthenticationSpecPodIdentity"]:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpec#podIdentity
        '''
        result = self._values.get("pod_identity")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecPodIdentity"], result)

    @builtins.property
    def secret_target_ref(
        self,
    ) -> typing.Optional[typing.List["TriggerAuthenticationSpecSecretTargetRef"]]:
        '''
        :schema: TriggerAuthenticationSpec#secretTargetRef
        '''
        result = self._values.get("secret_target_ref")
        return typing.cast(typing.Optional[typing.List["TriggerAuthenticationSpecSecretTargetRef"]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpec(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManager",
    jsii_struct_bases=[],
    name_mapping={
        "secrets": "secrets",
        "credentials": "credentials",
        "pod_identity": "podIdentity",
        "region": "region",
    },
)
class TriggerAuthenticationSpecAwsSecretManager:
    def __init__(
        self,
        *,
        secrets: typing.Sequence[typing.Union["TriggerAuthenticationSpecAwsSecretManagerSecrets", typing.Dict[builtins.str, typing.Any]]],
        credentials: typing.Optional[typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentials", typing.Dict[builtins.str, typing.Any]]] = None,
        pod_identity: typing.Optional[typing.Union["TriggerAuthenticationSpecAwsSecretManagerPodIdentity", typing.Dict[builtins.str, typing.Any]]] = None,
        region: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AwsSecretManager is used to authenticate using AwsSecretManager.

        :param secrets: 
        :param credentials: 
        :param pod_identity: AuthPodIdentity allows users to select the platform native identity mechanism.
        :param region: 

        :schema: TriggerAuthenticationSpecAwsSecretManager
        '''
        if isinstance(credentials, dict):
            credentials = TriggerAuthenticationSpecAwsSecretManagerCredentials(**credentials)
        if isinstance(pod_identity, dict):
            pod_identity = TriggerAuthenticationSpecAwsSecretManagerPodIdentity(**pod_identity)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__01448da7bdaf752df6a2d17a1bf6a6828963979599d049ff0d9011d5733c4c44)
            check_type(argname="argument secrets", value=secrets, expected_type=type_hints["secrets"])
            check_type(argname="argument credentials", value=credentials, expected_type=type_hints["credentials"])
            check_type(argname="argument pod_identity", value=pod_identity, expected_type=type_hints["pod_identity"])
            check_type(argname="argument region", value=region, expected_type=type_hints["region"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secrets": secrets,
        }
        if credentials is not None:
            self._values["credentials"] = credentials
        if pod_identity is not None:
            self._values["pod_identity"] = pod_identity
        if region is not None:
            self._values["region"] = region

    @builtins.property
    def secrets(
        self,
    ) -> typing.List["TriggerAuthenticationSpecAwsSecretManagerSecrets"]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManager#secrets
        '''
        result = self._values.get("secrets")
        assert result is not None, "Required property 'secrets' is missing"
        return typing.cast(typing.List["TriggerAuthenticationSpecAwsSecretManagerSecrets"], result)

    @builtins.property
    def credentials(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAwsSecretManagerCredentials"]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManager#credentials
        '''
        result = self._values.get("credentials")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAwsSecretManagerCredentials"], result)

    @builtins.property
    def pod_identity(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAwsSecretManagerPodIdentity"]:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpecAwsSecretManager#podIdentity
        '''
        result = self._values.get("pod_identity")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAwsSecretManagerPodIdentity"], result)

    @builtins.property
    def region(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManager#region
        '''
        result = self._values.get("region")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManager(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentials",
    jsii_struct_bases=[],
    name_mapping={
        "access_key": "accessKey",
        "access_secret_key": "accessSecretKey",
        "access_token": "accessToken",
    },
)
class TriggerAuthenticationSpecAwsSecretManagerCredentials:
    def __init__(
        self,
        *,
        access_key: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey", typing.Dict[builtins.str, typing.Any]],
        access_secret_key: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey", typing.Dict[builtins.str, typing.Any]],
        access_token: typing.Optional[typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''
        :param access_key: 
        :param access_secret_key: 
        :param access_token: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentials
        '''
        if isinstance(access_key, dict):
            access_key = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey(**access_key)
        if isinstance(access_secret_key, dict):
            access_secret_key = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey(**access_secret_key)
        if isinstance(access_token, dict):
            access_token = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken(**access_token)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__bc00db15605af225b06b38e3751d57ef09aa1c3f138ebcbe3b35f072e5145235)
            check_type(argname="argument access_key", value=access_key, expected_type=type_hints["access_key"])
            check_type(argname="argument access_secret_key", value=access_secret_key, expected_type=type_hints["access_secret_key"])
            check_type(argname="argument access_token", value=access_token, expected_type=type_hints["access_token"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "access_key": access_key,
            "access_secret_key": access_secret_key,
        }
        if access_token is not None:
            self._values["access_token"] = access_token

    @builtins.property
    def access_key(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentials#accessKey
        '''
        result = self._values.get("access_key")
        assert result is not None, "Required property 'access_key' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey", result)

    @builtins.property
    def access_secret_key(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentials#accessSecretKey
        '''
        result = self._values.get("access_secret_key")
        assert result is not None, "Required property 'access_secret_key' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey", result)

    @builtins.property
    def access_token(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken"]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentials#accessToken
        '''
        result = self._values.get("access_token")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentials(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__742af550e01a2f4d74771012c56f665e98b98a90c5c89ce2a706d4f61ee6380b)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__8aba95fbda74e927d12201b38eb998e109d870d7ff5d658dea91ff46b3d9ea3c)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c84439988f3aa9d20f2623e0d798997f798ef6a6fc688a1b6e7201b1ccacc476)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__93ef30c9d92eb4aa444a7045719f4f0c9d2b5a381b6585b3bd49da1b695eedf7)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__d08f72a13f9d60e1d743687f8969b2fac741e5ff57b89625bbca15ea6dcf1cee)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__19d4a71af6740dd6dfa96ecd9917562f556097dee3bd2273d7f10539254acd60)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__3825d5e63f23ab10b63e33450883de029f3b2590f9fc1df61f3973f03702f292)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__bf45e58a1444797342490c52256bdc17394ef56cb5291deb0c90ce0de7aa592b)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e37b7451d4feab588de98d4d7a3c4f07b9b6fde0408e64819846fa4bf18c2c65)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerPodIdentity",
    jsii_struct_bases=[],
    name_mapping={
        "provider": "provider",
        "external_id": "externalId",
        "identity_authority_host": "identityAuthorityHost",
        "identity_id": "identityId",
        "identity_owner": "identityOwner",
        "identity_tenant_id": "identityTenantId",
        "role_arn": "roleArn",
    },
)
class TriggerAuthenticationSpecAwsSecretManagerPodIdentity:
    def __init__(
        self,
        *,
        provider: "TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider",
        external_id: typing.Optional[builtins.str] = None,
        identity_authority_host: typing.Optional[builtins.str] = None,
        identity_id: typing.Optional[builtins.str] = None,
        identity_owner: typing.Optional["TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner"] = None,
        identity_tenant_id: typing.Optional[builtins.str] = None,
        role_arn: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :param provider: PodIdentityProvider contains the list of providers.
        :param external_id: ExternalID sets the External ID to be used when assuming an identity. This is only applicable when using AWS pod identity with a RoleArn.
        :param identity_authority_host: Set identityAuthorityHost to override the default Azure authority host. If this is set, then the IdentityTenantID must also be set
        :param identity_id: 
        :param identity_owner: IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload. Mutually exclusive with roleArn
        :param identity_tenant_id: Set identityTenantId to override the default Azure tenant id. If this is set, then the IdentityID must also be set
        :param role_arn: RoleArn sets the AWS RoleArn to be used. Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e2bbb41f754ea01afb2106e26cac8057732fb665f9a629869278efc182f86613)
            check_type(argname="argument provider", value=provider, expected_type=type_hints["provider"])
            check_type(argname="argument external_id", value=external_id, expected_type=type_hints["external_id"])
            check_type(argname="argument identity_authority_host", value=identity_authority_host, expected_type=type_hints["identity_authority_host"])
            check_type(argname="argument identity_id", value=identity_id, expected_type=type_hints["identity_id"])
            check_type(argname="argument identity_owner", value=identity_owner, expected_type=type_hints["identity_owner"])
            check_type(argname="argument identity_tenant_id", value=identity_tenant_id, expected_type=type_hints["identity_tenant_id"])
            check_type(argname="argument role_arn", value=role_arn, expected_type=type_hints["role_arn"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "provider": provider,
        }
        if external_id is not None:
            self._values["external_id"] = external_id
        if identity_authority_host is not None:
            self._values["identity_authority_host"] = identity_authority_host
        if identity_id is not None:
            self._values["identity_id"] = identity_id
        if identity_owner is not None:
            self._values["identity_owner"] = identity_owner
        if identity_tenant_id is not None:
            self._values["identity_tenant_id"] = identity_tenant_id
        if role_arn is not None:
            self._values["role_arn"] = role_arn

    @builtins.property
    def provider(
        self,
    ) -> "TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider":
        '''PodIdentityProvider contains the list of providers.

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#provider
        '''
        result = self._values.get("provider")
        assert result is not None, "Required property 'provider' is missing"
        return typing.cast("TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider", result)

    @builtins.property
    def external_id(self) -> typing.Optional[builtins.str]:
        '''ExternalID sets the External ID to be used when assuming an identity.

        This is only applicable when using AWS pod identity with a RoleArn.

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#externalID
        '''
        result = self._values.get("external_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_authority_host(self) -> typing.Optional[builtins.str]:
        '''Set identityAuthorityHost to override the default Azure authority host.

        If this is set, then the IdentityTenantID must also be set

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#identityAuthorityHost
        '''
        result = self._values.get("identity_authority_host")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_id(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#identityId
        '''
        result = self._values.get("identity_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_owner(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner"]:
        '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

        Mutually exclusive with roleArn

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#identityOwner
        '''
        result = self._values.get("identity_owner")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner"], result)

    @builtins.property
    def identity_tenant_id(self) -> typing.Optional[builtins.str]:
        '''Set identityTenantId to override the default Azure tenant id.

        If this is set, then the IdentityID must also be set

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#identityTenantId
        '''
        result = self._values.get("identity_tenant_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def role_arn(self) -> typing.Optional[builtins.str]:
        '''RoleArn sets the AWS RoleArn to be used.

        Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentity#roleArn
        '''
        result = self._values.get("role_arn")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerPodIdentity(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner"
)
class TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner(enum.Enum):
    '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

    Mutually exclusive with roleArn

    :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner
    '''

    KEDA = "KEDA"
    '''keda.'''
    WORKLOAD = "WORKLOAD"
    '''workload.'''


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider"
)
class TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider(enum.Enum):
    '''PodIdentityProvider contains the list of providers.

    :schema: TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider
    '''

    AZURE_HYPHEN_WORKLOAD = "AZURE_HYPHEN_WORKLOAD"
    '''azure-workload.'''
    GCP = "GCP"
    '''gcp.'''
    AWS = "AWS"
    '''aws.'''
    AWS_HYPHEN_EKS = "AWS_HYPHEN_EKS"
    '''aws-eks.'''
    NONE = "NONE"
    '''none.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAwsSecretManagerSecrets",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "parameter": "parameter",
        "secret_key": "secretKey",
        "version_id": "versionId",
        "version_stage": "versionStage",
    },
)
class TriggerAuthenticationSpecAwsSecretManagerSecrets:
    def __init__(
        self,
        *,
        name: builtins.str,
        parameter: builtins.str,
        secret_key: typing.Optional[builtins.str] = None,
        version_id: typing.Optional[builtins.str] = None,
        version_stage: typing.Optional[builtins.str] = None,
    ) -> None:
        '''
        :param name: 
        :param parameter: 
        :param secret_key: 
        :param version_id: 
        :param version_stage: 

        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__e67c6504777f3aeb79ca5f5eb1e3c8db967eafb364ea456536efb116a6593081)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument secret_key", value=secret_key, expected_type=type_hints["secret_key"])
            check_type(argname="argument version_id", value=version_id, expected_type=type_hints["version_id"])
            check_type(argname="argument version_stage", value=version_stage, expected_type=type_hints["version_stage"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
            "parameter": parameter,
        }
        if secret_key is not None:
            self._values["secret_key"] = secret_key
        if version_id is not None:
            self._values["version_id"] = version_id
        if version_stage is not None:
            self._values["version_stage"] = version_stage

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def secret_key(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets#secretKey
        '''
        result = self._values.get("secret_key")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def version_id(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets#versionId
        '''
        result = self._values.get("version_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def version_stage(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAwsSecretManagerSecrets#versionStage
        '''
        result = self._values.get("version_stage")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAwsSecretManagerSecrets(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVault",
    jsii_struct_bases=[],
    name_mapping={
        "secrets": "secrets",
        "vault_uri": "vaultUri",
        "cloud": "cloud",
        "credentials": "credentials",
        "pod_identity": "podIdentity",
    },
)
class TriggerAuthenticationSpecAzureKeyVault:
    def __init__(
        self,
        *,
        secrets: typing.Sequence[typing.Union["TriggerAuthenticationSpecAzureKeyVaultSecrets", typing.Dict[builtins.str, typing.Any]]],
        vault_uri: builtins.str,
        cloud: typing.Optional[typing.Union["TriggerAuthenticationSpecAzureKeyVaultCloud", typing.Dict[builtins.str, typing.Any]]] = None,
        credentials: typing.Optional[typing.Union["TriggerAuthenticationSpecAzureKeyVaultCredentials", typing.Dict[builtins.str, typing.Any]]] = None,
        pod_identity: typing.Optional[typing.Union["TriggerAuthenticationSpecAzureKeyVaultPodIdentity", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''AzureKeyVault is used to authenticate using Azure Key Vault.

        :param secrets: 
        :param vault_uri: 
        :param cloud: 
        :param credentials: 
        :param pod_identity: AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpecAzureKeyVault
        '''
        if isinstance(cloud, dict):
            cloud = TriggerAuthenticationSpecAzureKeyVaultCloud(**cloud)
        if isinstance(credentials, dict):
            credentials = TriggerAuthenticationSpecAzureKeyVaultCredentials(**credentials)
        if isinstance(pod_identity, dict):
            pod_identity = TriggerAuthenticationSpecAzureKeyVaultPodIdentity(**pod_identity)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c62a8728bac85f1ad615223014aefd77be128c2c9dea0f547d6e03d553670692)
            check_type(argname="argument secrets", value=secrets, expected_type=type_hints["secrets"])
            check_type(argname="argument vault_uri", value=vault_uri, expected_type=type_hints["vault_uri"])
            check_type(argname="argument cloud", value=cloud, expected_type=type_hints["cloud"])
            check_type(argname="argument credentials", value=credentials, expected_type=type_hints["credentials"])
            check_type(argname="argument pod_identity", value=pod_identity, expected_type=type_hints["pod_identity"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secrets": secrets,
            "vault_uri": vault_uri,
        }
        if cloud is not None:
            self._values["cloud"] = cloud
        if credentials is not None:
            self._values["credentials"] = credentials
        if pod_identity is not None:
            self._values["pod_identity"] = pod_identity

    @builtins.property
    def secrets(self) -> typing.List["TriggerAuthenticationSpecAzureKeyVaultSecrets"]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVault#secrets
        '''
        result = self._values.get("secrets")
        assert result is not None, "Required property 'secrets' is missing"
        return typing.cast(typing.List["TriggerAuthenticationSpecAzureKeyVaultSecrets"], result)

    @builtins.property
    def vault_uri(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVault#vaultUri
        '''
        result = self._values.get("vault_uri")
        assert result is not None, "Required property 'vault_uri' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def cloud(self) -> typing.Optional["TriggerAuthenticationSpecAzureKeyVaultCloud"]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVault#cloud
        '''
        result = self._values.get("cloud")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAzureKeyVaultCloud"], result)

    @builtins.property
    def credentials(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAzureKeyVaultCredentials"]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVault#credentials
        '''
        result = self._values.get("credentials")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAzureKeyVaultCredentials"], result)

    @builtins.property
    def pod_identity(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAzureKeyVaultPodIdentity"]:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpecAzureKeyVault#podIdentity
        '''
        result = self._values.get("pod_identity")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAzureKeyVaultPodIdentity"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVault(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultCloud",
    jsii_struct_bases=[],
    name_mapping={
        "type": "type",
        "active_directory_endpoint": "activeDirectoryEndpoint",
        "key_vault_resource_url": "keyVaultResourceUrl",
    },
)
class TriggerAuthenticationSpecAzureKeyVaultCloud:
    def __init__(
        self,
        *,
        type: builtins.str,
        active_directory_endpoint: typing.Optional[builtins.str] = None,
        key_vault_resource_url: typing.Optional[builtins.str] = None,
    ) -> None:
        '''
        :param type: 
        :param active_directory_endpoint: 
        :param key_vault_resource_url: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultCloud
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__12a35d46881fd27d8ea35ccd742a6aa0357ff5804308ac256d32970d898d3549)
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument active_directory_endpoint", value=active_directory_endpoint, expected_type=type_hints["active_directory_endpoint"])
            check_type(argname="argument key_vault_resource_url", value=key_vault_resource_url, expected_type=type_hints["key_vault_resource_url"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "type": type,
        }
        if active_directory_endpoint is not None:
            self._values["active_directory_endpoint"] = active_directory_endpoint
        if key_vault_resource_url is not None:
            self._values["key_vault_resource_url"] = key_vault_resource_url

    @builtins.property
    def type(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCloud#type
        '''
        result = self._values.get("type")
        assert result is not None, "Required property 'type' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def active_directory_endpoint(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCloud#activeDirectoryEndpoint
        '''
        result = self._values.get("active_directory_endpoint")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def key_vault_resource_url(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCloud#keyVaultResourceURL
        '''
        result = self._values.get("key_vault_resource_url")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultCloud(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultCredentials",
    jsii_struct_bases=[],
    name_mapping={
        "client_id": "clientId",
        "client_secret": "clientSecret",
        "tenant_id": "tenantId",
    },
)
class TriggerAuthenticationSpecAzureKeyVaultCredentials:
    def __init__(
        self,
        *,
        client_id: builtins.str,
        client_secret: typing.Union["TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret", typing.Dict[builtins.str, typing.Any]],
        tenant_id: builtins.str,
    ) -> None:
        '''
        :param client_id: 
        :param client_secret: 
        :param tenant_id: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentials
        '''
        if isinstance(client_secret, dict):
            client_secret = TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret(**client_secret)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__db07bdb5ae0909c328cfcc3af1316b7fb171d60216f21dc19afe8cd5bd188ff4)
            check_type(argname="argument client_id", value=client_id, expected_type=type_hints["client_id"])
            check_type(argname="argument client_secret", value=client_secret, expected_type=type_hints["client_secret"])
            check_type(argname="argument tenant_id", value=tenant_id, expected_type=type_hints["tenant_id"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "tenant_id": tenant_id,
        }

    @builtins.property
    def client_id(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentials#clientId
        '''
        result = self._values.get("client_id")
        assert result is not None, "Required property 'client_id' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def client_secret(
        self,
    ) -> "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret":
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentials#clientSecret
        '''
        result = self._values.get("client_secret")
        assert result is not None, "Required property 'client_secret' is missing"
        return typing.cast("TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret", result)

    @builtins.property
    def tenant_id(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentials#tenantId
        '''
        result = self._values.get("tenant_id")
        assert result is not None, "Required property 'tenant_id' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultCredentials(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f137645fde7731b31876f84bdf4f6d99062a0f8391006fe1d76c3f149e4e2a6f)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(
        self,
    ) -> "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom":
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c1dc5cb27148265857c1279ac892033f665ee76fa592b5f2383876e3e9f8185f)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7e273d8b4bfe8cd474a4a947db5f64ea588a93c732b6723e5e3a00f217eb2f72)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultPodIdentity",
    jsii_struct_bases=[],
    name_mapping={
        "provider": "provider",
        "external_id": "externalId",
        "identity_authority_host": "identityAuthorityHost",
        "identity_id": "identityId",
        "identity_owner": "identityOwner",
        "identity_tenant_id": "identityTenantId",
        "role_arn": "roleArn",
    },
)
class TriggerAuthenticationSpecAzureKeyVaultPodIdentity:
    def __init__(
        self,
        *,
        provider: "TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider",
        external_id: typing.Optional[builtins.str] = None,
        identity_authority_host: typing.Optional[builtins.str] = None,
        identity_id: typing.Optional[builtins.str] = None,
        identity_owner: typing.Optional["TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner"] = None,
        identity_tenant_id: typing.Optional[builtins.str] = None,
        role_arn: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :param provider: PodIdentityProvider contains the list of providers.
        :param external_id: ExternalID sets the External ID to be used when assuming an identity. This is only applicable when using AWS pod identity with a RoleArn.
        :param identity_authority_host: Set identityAuthorityHost to override the default Azure authority host. If this is set, then the IdentityTenantID must also be set
        :param identity_id: 
        :param identity_owner: IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload. Mutually exclusive with roleArn
        :param identity_tenant_id: Set identityTenantId to override the default Azure tenant id. If this is set, then the IdentityID must also be set
        :param role_arn: RoleArn sets the AWS RoleArn to be used. Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__db8326bd2567138e18f48e3950fbd40a13488ec0dab648d4a445647dab4487d2)
            check_type(argname="argument provider", value=provider, expected_type=type_hints["provider"])
            check_type(argname="argument external_id", value=external_id, expected_type=type_hints["external_id"])
            check_type(argname="argument identity_authority_host", value=identity_authority_host, expected_type=type_hints["identity_authority_host"])
            check_type(argname="argument identity_id", value=identity_id, expected_type=type_hints["identity_id"])
            check_type(argname="argument identity_owner", value=identity_owner, expected_type=type_hints["identity_owner"])
            check_type(argname="argument identity_tenant_id", value=identity_tenant_id, expected_type=type_hints["identity_tenant_id"])
            check_type(argname="argument role_arn", value=role_arn, expected_type=type_hints["role_arn"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "provider": provider,
        }
        if external_id is not None:
            self._values["external_id"] = external_id
        if identity_authority_host is not None:
            self._values["identity_authority_host"] = identity_authority_host
        if identity_id is not None:
            self._values["identity_id"] = identity_id
        if identity_owner is not None:
            self._values["identity_owner"] = identity_owner
        if identity_tenant_id is not None:
            self._values["identity_tenant_id"] = identity_tenant_id
        if role_arn is not None:
            self._values["role_arn"] = role_arn

    @builtins.property
    def provider(self) -> "TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider":
        '''PodIdentityProvider contains the list of providers.

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#provider
        '''
        result = self._values.get("provider")
        assert result is not None, "Required property 'provider' is missing"
        return typing.cast("TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider", result)

    @builtins.property
    def external_id(self) -> typing.Optional[builtins.str]:
        '''ExternalID sets the External ID to be used when assuming an identity.

        This is only applicable when using AWS pod identity with a RoleArn.

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#externalID
        '''
        result = self._values.get("external_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_authority_host(self) -> typing.Optional[builtins.str]:
        '''Set identityAuthorityHost to override the default Azure authority host.

        If this is set, then the IdentityTenantID must also be set

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#identityAuthorityHost
        '''
        result = self._values.get("identity_authority_host")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_id(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#identityId
        '''
        result = self._values.get("identity_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_owner(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner"]:
        '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

        Mutually exclusive with roleArn

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#identityOwner
        '''
        result = self._values.get("identity_owner")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner"], result)

    @builtins.property
    def identity_tenant_id(self) -> typing.Optional[builtins.str]:
        '''Set identityTenantId to override the default Azure tenant id.

        If this is set, then the IdentityID must also be set

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#identityTenantId
        '''
        result = self._values.get("identity_tenant_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def role_arn(self) -> typing.Optional[builtins.str]:
        '''RoleArn sets the AWS RoleArn to be used.

        Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentity#roleArn
        '''
        result = self._values.get("role_arn")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultPodIdentity(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner"
)
class TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner(enum.Enum):
    '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

    Mutually exclusive with roleArn

    :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner
    '''

    KEDA = "KEDA"
    '''keda.'''
    WORKLOAD = "WORKLOAD"
    '''workload.'''


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider"
)
class TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider(enum.Enum):
    '''PodIdentityProvider contains the list of providers.

    :schema: TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider
    '''

    AZURE_HYPHEN_WORKLOAD = "AZURE_HYPHEN_WORKLOAD"
    '''azure-workload.'''
    GCP = "GCP"
    '''gcp.'''
    AWS = "AWS"
    '''aws.'''
    AWS_HYPHEN_EKS = "AWS_HYPHEN_EKS"
    '''aws-eks.'''
    NONE = "NONE"
    '''none.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecAzureKeyVaultSecrets",
    jsii_struct_bases=[],
    name_mapping={"name": "name", "parameter": "parameter", "version": "version"},
)
class TriggerAuthenticationSpecAzureKeyVaultSecrets:
    def __init__(
        self,
        *,
        name: builtins.str,
        parameter: builtins.str,
        version: typing.Optional[builtins.str] = None,
    ) -> None:
        '''
        :param name: 
        :param parameter: 
        :param version: 

        :schema: TriggerAuthenticationSpecAzureKeyVaultSecrets
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__f65ebe66ee588a12ce902f80047bbca84c23c9913f7eea785cdcc8dc074fab59)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument version", value=version, expected_type=type_hints["version"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
            "parameter": parameter,
        }
        if version is not None:
            self._values["version"] = version

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultSecrets#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultSecrets#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def version(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecAzureKeyVaultSecrets#version
        '''
        result = self._values.get("version")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecAzureKeyVaultSecrets(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecBoundServiceAccountToken",
    jsii_struct_bases=[],
    name_mapping={
        "parameter": "parameter",
        "service_account_name": "serviceAccountName",
    },
)
class TriggerAuthenticationSpecBoundServiceAccountToken:
    def __init__(
        self,
        *,
        parameter: builtins.str,
        service_account_name: builtins.str,
    ) -> None:
        '''
        :param parameter: 
        :param service_account_name: 

        :schema: TriggerAuthenticationSpecBoundServiceAccountToken
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__58eb7e2cc17da9628339b1e9723ec98f861b9839e711de6486597686c7bfa6b5)
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument service_account_name", value=service_account_name, expected_type=type_hints["service_account_name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "parameter": parameter,
            "service_account_name": service_account_name,
        }

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecBoundServiceAccountToken#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def service_account_name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecBoundServiceAccountToken#serviceAccountName
        '''
        result = self._values.get("service_account_name")
        assert result is not None, "Required property 'service_account_name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecBoundServiceAccountToken(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecConfigMapTargetRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name", "parameter": "parameter"},
)
class TriggerAuthenticationSpecConfigMapTargetRef:
    def __init__(
        self,
        *,
        key: builtins.str,
        name: builtins.str,
        parameter: builtins.str,
    ) -> None:
        '''AuthConfigMapTargetRef is used to authenticate using a reference to a config map.

        :param key: 
        :param name: 
        :param parameter: 

        :schema: TriggerAuthenticationSpecConfigMapTargetRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__d9dfd10a53525826caa54516ea8909471c680f63ff8cbcd49615ce1529d0f6b2)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
            "parameter": parameter,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecConfigMapTargetRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecConfigMapTargetRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecConfigMapTargetRef#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecConfigMapTargetRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecEnv",
    jsii_struct_bases=[],
    name_mapping={
        "name": "name",
        "parameter": "parameter",
        "container_name": "containerName",
    },
)
class TriggerAuthenticationSpecEnv:
    def __init__(
        self,
        *,
        name: builtins.str,
        parameter: builtins.str,
        container_name: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AuthEnvironment is used to authenticate using environment variables in the destination ScaleTarget spec.

        :param name: 
        :param parameter: 
        :param container_name: 

        :schema: TriggerAuthenticationSpecEnv
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__20bdf1246923adabf68f530b1e5ea4da3950df8b3d4b9b09b153563408710ad7)
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument container_name", value=container_name, expected_type=type_hints["container_name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "name": name,
            "parameter": parameter,
        }
        if container_name is not None:
            self._values["container_name"] = container_name

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecEnv#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecEnv#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def container_name(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecEnv#containerName
        '''
        result = self._values.get("container_name")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecEnv(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManager",
    jsii_struct_bases=[],
    name_mapping={
        "secrets": "secrets",
        "credentials": "credentials",
        "pod_identity": "podIdentity",
    },
)
class TriggerAuthenticationSpecGcpSecretManager:
    def __init__(
        self,
        *,
        secrets: typing.Sequence[typing.Union["TriggerAuthenticationSpecGcpSecretManagerSecrets", typing.Dict[builtins.str, typing.Any]]],
        credentials: typing.Optional[typing.Union["TriggerAuthenticationSpecGcpSecretManagerCredentials", typing.Dict[builtins.str, typing.Any]]] = None,
        pod_identity: typing.Optional[typing.Union["TriggerAuthenticationSpecGcpSecretManagerPodIdentity", typing.Dict[builtins.str, typing.Any]]] = None,
    ) -> None:
        '''
        :param secrets: 
        :param credentials: 
        :param pod_identity: AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpecGcpSecretManager
        '''
        if isinstance(credentials, dict):
            credentials = TriggerAuthenticationSpecGcpSecretManagerCredentials(**credentials)
        if isinstance(pod_identity, dict):
            pod_identity = TriggerAuthenticationSpecGcpSecretManagerPodIdentity(**pod_identity)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__fbe6cd79b7f2da3acd41e0ba59f9ebcc18bb2800df4791011eb0895403c23bed)
            check_type(argname="argument secrets", value=secrets, expected_type=type_hints["secrets"])
            check_type(argname="argument credentials", value=credentials, expected_type=type_hints["credentials"])
            check_type(argname="argument pod_identity", value=pod_identity, expected_type=type_hints["pod_identity"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secrets": secrets,
        }
        if credentials is not None:
            self._values["credentials"] = credentials
        if pod_identity is not None:
            self._values["pod_identity"] = pod_identity

    @builtins.property
    def secrets(
        self,
    ) -> typing.List["TriggerAuthenticationSpecGcpSecretManagerSecrets"]:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManager#secrets
        '''
        result = self._values.get("secrets")
        assert result is not None, "Required property 'secrets' is missing"
        return typing.cast(typing.List["TriggerAuthenticationSpecGcpSecretManagerSecrets"], result)

    @builtins.property
    def credentials(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecGcpSecretManagerCredentials"]:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManager#credentials
        '''
        result = self._values.get("credentials")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecGcpSecretManagerCredentials"], result)

    @builtins.property
    def pod_identity(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecGcpSecretManagerPodIdentity"]:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :schema: TriggerAuthenticationSpecGcpSecretManager#podIdentity
        '''
        result = self._values.get("pod_identity")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecGcpSecretManagerPodIdentity"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManager(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerCredentials",
    jsii_struct_bases=[],
    name_mapping={"client_secret": "clientSecret"},
)
class TriggerAuthenticationSpecGcpSecretManagerCredentials:
    def __init__(
        self,
        *,
        client_secret: typing.Union["TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param client_secret: 

        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentials
        '''
        if isinstance(client_secret, dict):
            client_secret = TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret(**client_secret)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__2ea3dbd980ec6fc6883f470985817227649cd4abfe7a0d4dba3f0f197ef3bbac)
            check_type(argname="argument client_secret", value=client_secret, expected_type=type_hints["client_secret"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "client_secret": client_secret,
        }

    @builtins.property
    def client_secret(
        self,
    ) -> "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret":
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentials#clientSecret
        '''
        result = self._values.get("client_secret")
        assert result is not None, "Required property 'client_secret' is missing"
        return typing.cast("TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerCredentials(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c339ab495e3db2981b51b9d2cd92f1f2b8a043dde83059d1b700822b1fecb501)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(
        self,
    ) -> "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom":
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__2c1180b5b45c9f80407d33c70cb4bc46e8609013cc242a2c745aa1de0e320dd5)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__83943509f6081fbd37630f52dc2cf1c9a97ef9da9a29395d481e7a1e54713190)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerPodIdentity",
    jsii_struct_bases=[],
    name_mapping={
        "provider": "provider",
        "external_id": "externalId",
        "identity_authority_host": "identityAuthorityHost",
        "identity_id": "identityId",
        "identity_owner": "identityOwner",
        "identity_tenant_id": "identityTenantId",
        "role_arn": "roleArn",
    },
)
class TriggerAuthenticationSpecGcpSecretManagerPodIdentity:
    def __init__(
        self,
        *,
        provider: "TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider",
        external_id: typing.Optional[builtins.str] = None,
        identity_authority_host: typing.Optional[builtins.str] = None,
        identity_id: typing.Optional[builtins.str] = None,
        identity_owner: typing.Optional["TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner"] = None,
        identity_tenant_id: typing.Optional[builtins.str] = None,
        role_arn: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :param provider: PodIdentityProvider contains the list of providers.
        :param external_id: ExternalID sets the External ID to be used when assuming an identity. This is only applicable when using AWS pod identity with a RoleArn.
        :param identity_authority_host: Set identityAuthorityHost to override the default Azure authority host. If this is set, then the IdentityTenantID must also be set
        :param identity_id: 
        :param identity_owner: IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload. Mutually exclusive with roleArn
        :param identity_tenant_id: Set identityTenantId to override the default Azure tenant id. If this is set, then the IdentityID must also be set
        :param role_arn: RoleArn sets the AWS RoleArn to be used. Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__744c1377a2271a55b0612e0a0fe1b7061f67069dd54a2a42da9d330daf616ac7)
            check_type(argname="argument provider", value=provider, expected_type=type_hints["provider"])
            check_type(argname="argument external_id", value=external_id, expected_type=type_hints["external_id"])
            check_type(argname="argument identity_authority_host", value=identity_authority_host, expected_type=type_hints["identity_authority_host"])
            check_type(argname="argument identity_id", value=identity_id, expected_type=type_hints["identity_id"])
            check_type(argname="argument identity_owner", value=identity_owner, expected_type=type_hints["identity_owner"])
            check_type(argname="argument identity_tenant_id", value=identity_tenant_id, expected_type=type_hints["identity_tenant_id"])
            check_type(argname="argument role_arn", value=role_arn, expected_type=type_hints["role_arn"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "provider": provider,
        }
        if external_id is not None:
            self._values["external_id"] = external_id
        if identity_authority_host is not None:
            self._values["identity_authority_host"] = identity_authority_host
        if identity_id is not None:
            self._values["identity_id"] = identity_id
        if identity_owner is not None:
            self._values["identity_owner"] = identity_owner
        if identity_tenant_id is not None:
            self._values["identity_tenant_id"] = identity_tenant_id
        if role_arn is not None:
            self._values["role_arn"] = role_arn

    @builtins.property
    def provider(
        self,
    ) -> "TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider":
        '''PodIdentityProvider contains the list of providers.

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#provider
        '''
        result = self._values.get("provider")
        assert result is not None, "Required property 'provider' is missing"
        return typing.cast("TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider", result)

    @builtins.property
    def external_id(self) -> typing.Optional[builtins.str]:
        '''ExternalID sets the External ID to be used when assuming an identity.

        This is only applicable when using AWS pod identity with a RoleArn.

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#externalID
        '''
        result = self._values.get("external_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_authority_host(self) -> typing.Optional[builtins.str]:
        '''Set identityAuthorityHost to override the default Azure authority host.

        If this is set, then the IdentityTenantID must also be set

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#identityAuthorityHost
        '''
        result = self._values.get("identity_authority_host")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_id(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#identityId
        '''
        result = self._values.get("identity_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_owner(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner"]:
        '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

        Mutually exclusive with roleArn

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#identityOwner
        '''
        result = self._values.get("identity_owner")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner"], result)

    @builtins.property
    def identity_tenant_id(self) -> typing.Optional[builtins.str]:
        '''Set identityTenantId to override the default Azure tenant id.

        If this is set, then the IdentityID must also be set

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#identityTenantId
        '''
        result = self._values.get("identity_tenant_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def role_arn(self) -> typing.Optional[builtins.str]:
        '''RoleArn sets the AWS RoleArn to be used.

        Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentity#roleArn
        '''
        result = self._values.get("role_arn")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerPodIdentity(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner"
)
class TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner(enum.Enum):
    '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

    Mutually exclusive with roleArn

    :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner
    '''

    KEDA = "KEDA"
    '''keda.'''
    WORKLOAD = "WORKLOAD"
    '''workload.'''


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider"
)
class TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider(enum.Enum):
    '''PodIdentityProvider contains the list of providers.

    :schema: TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider
    '''

    AZURE_HYPHEN_WORKLOAD = "AZURE_HYPHEN_WORKLOAD"
    '''azure-workload.'''
    GCP = "GCP"
    '''gcp.'''
    AWS = "AWS"
    '''aws.'''
    AWS_HYPHEN_EKS = "AWS_HYPHEN_EKS"
    '''aws-eks.'''
    NONE = "NONE"
    '''none.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecGcpSecretManagerSecrets",
    jsii_struct_bases=[],
    name_mapping={"id": "id", "parameter": "parameter", "version": "version"},
)
class TriggerAuthenticationSpecGcpSecretManagerSecrets:
    def __init__(
        self,
        *,
        id: builtins.str,
        parameter: builtins.str,
        version: typing.Optional[builtins.str] = None,
    ) -> None:
        '''
        :param id: 
        :param parameter: 
        :param version: 

        :schema: TriggerAuthenticationSpecGcpSecretManagerSecrets
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__a39d36621542ec502eb901b9626a05cfd3c65d86c92879aa0a6284f9ad4884e9)
            check_type(argname="argument id", value=id, expected_type=type_hints["id"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument version", value=version, expected_type=type_hints["version"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "id": id,
            "parameter": parameter,
        }
        if version is not None:
            self._values["version"] = version

    @builtins.property
    def id(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerSecrets#id
        '''
        result = self._values.get("id")
        assert result is not None, "Required property 'id' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerSecrets#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def version(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecGcpSecretManagerSecrets#version
        '''
        result = self._values.get("version")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecGcpSecretManagerSecrets(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVault",
    jsii_struct_bases=[],
    name_mapping={
        "address": "address",
        "authentication": "authentication",
        "secrets": "secrets",
        "credential": "credential",
        "mount": "mount",
        "namespace": "namespace",
        "role": "role",
    },
)
class TriggerAuthenticationSpecHashiCorpVault:
    def __init__(
        self,
        *,
        address: builtins.str,
        authentication: "TriggerAuthenticationSpecHashiCorpVaultAuthentication",
        secrets: typing.Sequence[typing.Union["TriggerAuthenticationSpecHashiCorpVaultSecrets", typing.Dict[builtins.str, typing.Any]]],
        credential: typing.Optional[typing.Union["TriggerAuthenticationSpecHashiCorpVaultCredential", typing.Dict[builtins.str, typing.Any]]] = None,
        mount: typing.Optional[builtins.str] = None,
        namespace: typing.Optional[builtins.str] = None,
        role: typing.Optional[builtins.str] = None,
    ) -> None:
        '''HashiCorpVault is used to authenticate using Hashicorp Vault.

        :param address: 
        :param authentication: VaultAuthentication contains the list of Hashicorp Vault authentication methods.
        :param secrets: 
        :param credential: Credential defines the Hashicorp Vault credentials depending on the authentication method.
        :param mount: 
        :param namespace: 
        :param role: 

        :schema: TriggerAuthenticationSpecHashiCorpVault
        '''
        if isinstance(credential, dict):
            credential = TriggerAuthenticationSpecHashiCorpVaultCredential(**credential)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__48943fcc8ea998c2c76f98962ddaf4ef2ab903ccf23576e4b77402130a691c2e)
            check_type(argname="argument address", value=address, expected_type=type_hints["address"])
            check_type(argname="argument authentication", value=authentication, expected_type=type_hints["authentication"])
            check_type(argname="argument secrets", value=secrets, expected_type=type_hints["secrets"])
            check_type(argname="argument credential", value=credential, expected_type=type_hints["credential"])
            check_type(argname="argument mount", value=mount, expected_type=type_hints["mount"])
            check_type(argname="argument namespace", value=namespace, expected_type=type_hints["namespace"])
            check_type(argname="argument role", value=role, expected_type=type_hints["role"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "address": address,
            "authentication": authentication,
            "secrets": secrets,
        }
        if credential is not None:
            self._values["credential"] = credential
        if mount is not None:
            self._values["mount"] = mount
        if namespace is not None:
            self._values["namespace"] = namespace
        if role is not None:
            self._values["role"] = role

    @builtins.property
    def address(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVault#address
        '''
        result = self._values.get("address")
        assert result is not None, "Required property 'address' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def authentication(self) -> "TriggerAuthenticationSpecHashiCorpVaultAuthentication":
        '''VaultAuthentication contains the list of Hashicorp Vault authentication methods.

        :schema: TriggerAuthenticationSpecHashiCorpVault#authentication
        '''
        result = self._values.get("authentication")
        assert result is not None, "Required property 'authentication' is missing"
        return typing.cast("TriggerAuthenticationSpecHashiCorpVaultAuthentication", result)

    @builtins.property
    def secrets(self) -> typing.List["TriggerAuthenticationSpecHashiCorpVaultSecrets"]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVault#secrets
        '''
        result = self._values.get("secrets")
        assert result is not None, "Required property 'secrets' is missing"
        return typing.cast(typing.List["TriggerAuthenticationSpecHashiCorpVaultSecrets"], result)

    @builtins.property
    def credential(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecHashiCorpVaultCredential"]:
        '''Credential defines the Hashicorp Vault credentials depending on the authentication method.

        :schema: TriggerAuthenticationSpecHashiCorpVault#credential
        '''
        result = self._values.get("credential")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecHashiCorpVaultCredential"], result)

    @builtins.property
    def mount(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVault#mount
        '''
        result = self._values.get("mount")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def namespace(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVault#namespace
        '''
        result = self._values.get("namespace")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def role(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVault#role
        '''
        result = self._values.get("role")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecHashiCorpVault(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVaultAuthentication"
)
class TriggerAuthenticationSpecHashiCorpVaultAuthentication(enum.Enum):
    '''VaultAuthentication contains the list of Hashicorp Vault authentication methods.

    :schema: TriggerAuthenticationSpecHashiCorpVaultAuthentication
    '''

    TOKEN = "TOKEN"
    '''token.'''
    KUBERNETES = "KUBERNETES"
    '''kubernetes.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVaultCredential",
    jsii_struct_bases=[],
    name_mapping={
        "service_account": "serviceAccount",
        "service_account_name": "serviceAccountName",
        "token": "token",
    },
)
class TriggerAuthenticationSpecHashiCorpVaultCredential:
    def __init__(
        self,
        *,
        service_account: typing.Optional[builtins.str] = None,
        service_account_name: typing.Optional[builtins.str] = None,
        token: typing.Optional[builtins.str] = None,
    ) -> None:
        '''Credential defines the Hashicorp Vault credentials depending on the authentication method.

        :param service_account: 
        :param service_account_name: 
        :param token: 

        :schema: TriggerAuthenticationSpecHashiCorpVaultCredential
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7c795461cce568a30c3a675e5868bde5bdee98e1124f007acd51705e449f73eb)
            check_type(argname="argument service_account", value=service_account, expected_type=type_hints["service_account"])
            check_type(argname="argument service_account_name", value=service_account_name, expected_type=type_hints["service_account_name"])
            check_type(argname="argument token", value=token, expected_type=type_hints["token"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if service_account is not None:
            self._values["service_account"] = service_account
        if service_account_name is not None:
            self._values["service_account_name"] = service_account_name
        if token is not None:
            self._values["token"] = token

    @builtins.property
    def service_account(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultCredential#serviceAccount
        '''
        result = self._values.get("service_account")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def service_account_name(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultCredential#serviceAccountName
        '''
        result = self._values.get("service_account_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def token(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultCredential#token
        '''
        result = self._values.get("token")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecHashiCorpVaultCredential(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVaultSecrets",
    jsii_struct_bases=[],
    name_mapping={
        "key": "key",
        "parameter": "parameter",
        "path": "path",
        "pki_data": "pkiData",
        "type": "type",
    },
)
class TriggerAuthenticationSpecHashiCorpVaultSecrets:
    def __init__(
        self,
        *,
        key: builtins.str,
        parameter: builtins.str,
        path: builtins.str,
        pki_data: typing.Optional[typing.Union["TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData", typing.Dict[builtins.str, typing.Any]]] = None,
        type: typing.Optional["TriggerAuthenticationSpecHashiCorpVaultSecretsType"] = None,
    ) -> None:
        '''VaultSecret defines the mapping between the path of the secret in Vault to the parameter.

        :param key: 
        :param parameter: 
        :param path: 
        :param pki_data: 
        :param type: VaultSecretType defines the type of vault secret.

        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets
        '''
        if isinstance(pki_data, dict):
            pki_data = TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData(**pki_data)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7f81d22b8145910f4f9e22acc7f912d3eea5625a8207454b29068bd7d8c80224)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
            check_type(argname="argument path", value=path, expected_type=type_hints["path"])
            check_type(argname="argument pki_data", value=pki_data, expected_type=type_hints["pki_data"])
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "parameter": parameter,
            "path": path,
        }
        if pki_data is not None:
            self._values["pki_data"] = pki_data
        if type is not None:
            self._values["type"] = type

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def path(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets#path
        '''
        result = self._values.get("path")
        assert result is not None, "Required property 'path' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def pki_data(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData"]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets#pkiData
        '''
        result = self._values.get("pki_data")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData"], result)

    @builtins.property
    def type(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecHashiCorpVaultSecretsType"]:
        '''VaultSecretType defines the type of vault secret.

        :schema: TriggerAuthenticationSpecHashiCorpVaultSecrets#type
        '''
        result = self._values.get("type")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecHashiCorpVaultSecretsType"], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecHashiCorpVaultSecrets(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData",
    jsii_struct_bases=[],
    name_mapping={
        "alt_names": "altNames",
        "common_name": "commonName",
        "format": "format",
        "ip_sans": "ipSans",
        "other_sans": "otherSans",
        "ttl": "ttl",
        "uri_sans": "uriSans",
    },
)
class TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData:
    def __init__(
        self,
        *,
        alt_names: typing.Optional[builtins.str] = None,
        common_name: typing.Optional[builtins.str] = None,
        format: typing.Optional[builtins.str] = None,
        ip_sans: typing.Optional[builtins.str] = None,
        other_sans: typing.Optional[builtins.str] = None,
        ttl: typing.Optional[builtins.str] = None,
        uri_sans: typing.Optional[builtins.str] = None,
    ) -> None:
        '''
        :param alt_names: 
        :param common_name: 
        :param format: 
        :param ip_sans: 
        :param other_sans: 
        :param ttl: 
        :param uri_sans: 

        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__0d998fe340a4eaa9de15d6ee8bfbfbeab7766c579bb9e2c68d5ffab85e4fd55f)
            check_type(argname="argument alt_names", value=alt_names, expected_type=type_hints["alt_names"])
            check_type(argname="argument common_name", value=common_name, expected_type=type_hints["common_name"])
            check_type(argname="argument format", value=format, expected_type=type_hints["format"])
            check_type(argname="argument ip_sans", value=ip_sans, expected_type=type_hints["ip_sans"])
            check_type(argname="argument other_sans", value=other_sans, expected_type=type_hints["other_sans"])
            check_type(argname="argument ttl", value=ttl, expected_type=type_hints["ttl"])
            check_type(argname="argument uri_sans", value=uri_sans, expected_type=type_hints["uri_sans"])
        self._values: typing.Dict[builtins.str, typing.Any] = {}
        if alt_names is not None:
            self._values["alt_names"] = alt_names
        if common_name is not None:
            self._values["common_name"] = common_name
        if format is not None:
            self._values["format"] = format
        if ip_sans is not None:
            self._values["ip_sans"] = ip_sans
        if other_sans is not None:
            self._values["other_sans"] = other_sans
        if ttl is not None:
            self._values["ttl"] = ttl
        if uri_sans is not None:
            self._values["uri_sans"] = uri_sans

    @builtins.property
    def alt_names(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#altNames
        '''
        result = self._values.get("alt_names")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def common_name(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#commonName
        '''
        result = self._values.get("common_name")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def format(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#format
        '''
        result = self._values.get("format")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def ip_sans(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#ipSans
        '''
        result = self._values.get("ip_sans")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def other_sans(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#otherSans
        '''
        result = self._values.get("other_sans")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def ttl(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#ttl
        '''
        result = self._values.get("ttl")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def uri_sans(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData#uriSans
        '''
        result = self._values.get("uri_sans")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecHashiCorpVaultSecretsType"
)
class TriggerAuthenticationSpecHashiCorpVaultSecretsType(enum.Enum):
    '''VaultSecretType defines the type of vault secret.

    :schema: TriggerAuthenticationSpecHashiCorpVaultSecretsType
    '''

    SECRET_V2 = "SECRET_V2"
    '''secretV2.'''
    SECRET = "SECRET"
    '''secret.'''
    PKI = "PKI"
    '''pki.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecOauth2",
    jsii_struct_bases=[],
    name_mapping={
        "client_id": "clientId",
        "token_url": "tokenUrl",
        "type": "type",
        "client_secret": "clientSecret",
        "scopes": "scopes",
        "token_url_params": "tokenUrlParams",
    },
)
class TriggerAuthenticationSpecOauth2:
    def __init__(
        self,
        *,
        client_id: builtins.str,
        token_url: builtins.str,
        type: "TriggerAuthenticationSpecOauth2Type",
        client_secret: typing.Optional[typing.Union["TriggerAuthenticationSpecOauth2ClientSecret", typing.Dict[builtins.str, typing.Any]]] = None,
        scopes: typing.Optional[typing.Sequence[builtins.str]] = None,
        token_url_params: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
    ) -> None:
        '''
        :param client_id: 
        :param token_url: 
        :param type: 
        :param client_secret: 
        :param scopes: 
        :param token_url_params: 

        :schema: TriggerAuthenticationSpecOauth2
        '''
        if isinstance(client_secret, dict):
            client_secret = TriggerAuthenticationSpecOauth2ClientSecret(**client_secret)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__4c06e3e8d22a0f09bd1da1a4b4289a6a851718bf279a2dbdf1332c1f9815a7b6)
            check_type(argname="argument client_id", value=client_id, expected_type=type_hints["client_id"])
            check_type(argname="argument token_url", value=token_url, expected_type=type_hints["token_url"])
            check_type(argname="argument type", value=type, expected_type=type_hints["type"])
            check_type(argname="argument client_secret", value=client_secret, expected_type=type_hints["client_secret"])
            check_type(argname="argument scopes", value=scopes, expected_type=type_hints["scopes"])
            check_type(argname="argument token_url_params", value=token_url_params, expected_type=type_hints["token_url_params"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "client_id": client_id,
            "token_url": token_url,
            "type": type,
        }
        if client_secret is not None:
            self._values["client_secret"] = client_secret
        if scopes is not None:
            self._values["scopes"] = scopes
        if token_url_params is not None:
            self._values["token_url_params"] = token_url_params

    @builtins.property
    def client_id(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecOauth2#clientId
        '''
        result = self._values.get("client_id")
        assert result is not None, "Required property 'client_id' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def token_url(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecOauth2#tokenUrl
        '''
        result = self._values.get("token_url")
        assert result is not None, "Required property 'token_url' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def type(self) -> "TriggerAuthenticationSpecOauth2Type":
        '''
        :schema: TriggerAuthenticationSpecOauth2#type
        '''
        result = self._values.get("type")
        assert result is not None, "Required property 'type' is missing"
        return typing.cast("TriggerAuthenticationSpecOauth2Type", result)

    @builtins.property
    def client_secret(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecOauth2ClientSecret"]:
        '''
        :schema: TriggerAuthenticationSpecOauth2#clientSecret
        '''
        result = self._values.get("client_secret")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecOauth2ClientSecret"], result)

    @builtins.property
    def scopes(self) -> typing.Optional[typing.List[builtins.str]]:
        '''
        :schema: TriggerAuthenticationSpecOauth2#scopes
        '''
        result = self._values.get("scopes")
        return typing.cast(typing.Optional[typing.List[builtins.str]], result)

    @builtins.property
    def token_url_params(
        self,
    ) -> typing.Optional[typing.Mapping[builtins.str, builtins.str]]:
        '''
        :schema: TriggerAuthenticationSpecOauth2#tokenUrlParams
        '''
        result = self._values.get("token_url_params")
        return typing.cast(typing.Optional[typing.Mapping[builtins.str, builtins.str]], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecOauth2(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecOauth2ClientSecret",
    jsii_struct_bases=[],
    name_mapping={"value_from": "valueFrom"},
)
class TriggerAuthenticationSpecOauth2ClientSecret:
    def __init__(
        self,
        *,
        value_from: typing.Union["TriggerAuthenticationSpecOauth2ClientSecretValueFrom", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param value_from: 

        :schema: TriggerAuthenticationSpecOauth2ClientSecret
        '''
        if isinstance(value_from, dict):
            value_from = TriggerAuthenticationSpecOauth2ClientSecretValueFrom(**value_from)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__738d9896c51a310c76f6f2c515389b56f500aa33794a793b189cffed42353a1d)
            check_type(argname="argument value_from", value=value_from, expected_type=type_hints["value_from"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "value_from": value_from,
        }

    @builtins.property
    def value_from(self) -> "TriggerAuthenticationSpecOauth2ClientSecretValueFrom":
        '''
        :schema: TriggerAuthenticationSpecOauth2ClientSecret#valueFrom
        '''
        result = self._values.get("value_from")
        assert result is not None, "Required property 'value_from' is missing"
        return typing.cast("TriggerAuthenticationSpecOauth2ClientSecretValueFrom", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecOauth2ClientSecret(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecOauth2ClientSecretValueFrom",
    jsii_struct_bases=[],
    name_mapping={"secret_key_ref": "secretKeyRef"},
)
class TriggerAuthenticationSpecOauth2ClientSecretValueFrom:
    def __init__(
        self,
        *,
        secret_key_ref: typing.Union["TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef", typing.Dict[builtins.str, typing.Any]],
    ) -> None:
        '''
        :param secret_key_ref: 

        :schema: TriggerAuthenticationSpecOauth2ClientSecretValueFrom
        '''
        if isinstance(secret_key_ref, dict):
            secret_key_ref = TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef(**secret_key_ref)
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__62485af40dc3579f784f60d543e9aeb52ba4b57a4da623bf9b90c9fdc8f7882b)
            check_type(argname="argument secret_key_ref", value=secret_key_ref, expected_type=type_hints["secret_key_ref"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "secret_key_ref": secret_key_ref,
        }

    @builtins.property
    def secret_key_ref(
        self,
    ) -> "TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef":
        '''
        :schema: TriggerAuthenticationSpecOauth2ClientSecretValueFrom#secretKeyRef
        '''
        result = self._values.get("secret_key_ref")
        assert result is not None, "Required property 'secret_key_ref' is missing"
        return typing.cast("TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef", result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecOauth2ClientSecretValueFrom(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name"},
)
class TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef:
    def __init__(self, *, key: builtins.str, name: builtins.str) -> None:
        '''
        :param key: 
        :param name: 

        :schema: TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__7383a8c8d398edba37680fb603f85341ea2f75284ad6778be5af3b286c74806c)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecOauth2Type"
)
class TriggerAuthenticationSpecOauth2Type(enum.Enum):
    '''
    :schema: TriggerAuthenticationSpecOauth2Type
    '''

    CLIENT_CREDENTIALS = "CLIENT_CREDENTIALS"
    '''clientCredentials.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecPodIdentity",
    jsii_struct_bases=[],
    name_mapping={
        "provider": "provider",
        "external_id": "externalId",
        "identity_authority_host": "identityAuthorityHost",
        "identity_id": "identityId",
        "identity_owner": "identityOwner",
        "identity_tenant_id": "identityTenantId",
        "role_arn": "roleArn",
    },
)
class TriggerAuthenticationSpecPodIdentity:
    def __init__(
        self,
        *,
        provider: "TriggerAuthenticationSpecPodIdentityProvider",
        external_id: typing.Optional[builtins.str] = None,
        identity_authority_host: typing.Optional[builtins.str] = None,
        identity_id: typing.Optional[builtins.str] = None,
        identity_owner: typing.Optional["TriggerAuthenticationSpecPodIdentityIdentityOwner"] = None,
        identity_tenant_id: typing.Optional[builtins.str] = None,
        role_arn: typing.Optional[builtins.str] = None,
    ) -> None:
        '''AuthPodIdentity allows users to select the platform native identity mechanism.

        :param provider: PodIdentityProvider contains the list of providers.
        :param external_id: ExternalID sets the External ID to be used when assuming an identity. This is only applicable when using AWS pod identity with a RoleArn.
        :param identity_authority_host: Set identityAuthorityHost to override the default Azure authority host. If this is set, then the IdentityTenantID must also be set
        :param identity_id: 
        :param identity_owner: IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload. Mutually exclusive with roleArn
        :param identity_tenant_id: Set identityTenantId to override the default Azure tenant id. If this is set, then the IdentityID must also be set
        :param role_arn: RoleArn sets the AWS RoleArn to be used. Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecPodIdentity
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__ad84c275fccf1eff3fd59fcc28813920518d91d28e28511d36df29f24c0c7676)
            check_type(argname="argument provider", value=provider, expected_type=type_hints["provider"])
            check_type(argname="argument external_id", value=external_id, expected_type=type_hints["external_id"])
            check_type(argname="argument identity_authority_host", value=identity_authority_host, expected_type=type_hints["identity_authority_host"])
            check_type(argname="argument identity_id", value=identity_id, expected_type=type_hints["identity_id"])
            check_type(argname="argument identity_owner", value=identity_owner, expected_type=type_hints["identity_owner"])
            check_type(argname="argument identity_tenant_id", value=identity_tenant_id, expected_type=type_hints["identity_tenant_id"])
            check_type(argname="argument role_arn", value=role_arn, expected_type=type_hints["role_arn"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "provider": provider,
        }
        if external_id is not None:
            self._values["external_id"] = external_id
        if identity_authority_host is not None:
            self._values["identity_authority_host"] = identity_authority_host
        if identity_id is not None:
            self._values["identity_id"] = identity_id
        if identity_owner is not None:
            self._values["identity_owner"] = identity_owner
        if identity_tenant_id is not None:
            self._values["identity_tenant_id"] = identity_tenant_id
        if role_arn is not None:
            self._values["role_arn"] = role_arn

    @builtins.property
    def provider(self) -> "TriggerAuthenticationSpecPodIdentityProvider":
        '''PodIdentityProvider contains the list of providers.

        :schema: TriggerAuthenticationSpecPodIdentity#provider
        '''
        result = self._values.get("provider")
        assert result is not None, "Required property 'provider' is missing"
        return typing.cast("TriggerAuthenticationSpecPodIdentityProvider", result)

    @builtins.property
    def external_id(self) -> typing.Optional[builtins.str]:
        '''ExternalID sets the External ID to be used when assuming an identity.

        This is only applicable when using AWS pod identity with a RoleArn.

        :schema: TriggerAuthenticationSpecPodIdentity#externalID
        '''
        result = self._values.get("external_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_authority_host(self) -> typing.Optional[builtins.str]:
        '''Set identityAuthorityHost to override the default Azure authority host.

        If this is set, then the IdentityTenantID must also be set

        :schema: TriggerAuthenticationSpecPodIdentity#identityAuthorityHost
        '''
        result = self._values.get("identity_authority_host")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_id(self) -> typing.Optional[builtins.str]:
        '''
        :schema: TriggerAuthenticationSpecPodIdentity#identityId
        '''
        result = self._values.get("identity_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def identity_owner(
        self,
    ) -> typing.Optional["TriggerAuthenticationSpecPodIdentityIdentityOwner"]:
        '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

        Mutually exclusive with roleArn

        :schema: TriggerAuthenticationSpecPodIdentity#identityOwner
        '''
        result = self._values.get("identity_owner")
        return typing.cast(typing.Optional["TriggerAuthenticationSpecPodIdentityIdentityOwner"], result)

    @builtins.property
    def identity_tenant_id(self) -> typing.Optional[builtins.str]:
        '''Set identityTenantId to override the default Azure tenant id.

        If this is set, then the IdentityID must also be set

        :schema: TriggerAuthenticationSpecPodIdentity#identityTenantId
        '''
        result = self._values.get("identity_tenant_id")
        return typing.cast(typing.Optional[builtins.str], result)

    @builtins.property
    def role_arn(self) -> typing.Optional[builtins.str]:
        '''RoleArn sets the AWS RoleArn to be used.

        Mutually exclusive with IdentityOwner

        :schema: TriggerAuthenticationSpecPodIdentity#roleArn
        '''
        result = self._values.get("role_arn")
        return typing.cast(typing.Optional[builtins.str], result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecPodIdentity(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecPodIdentityIdentityOwner"
)
class TriggerAuthenticationSpecPodIdentityIdentityOwner(enum.Enum):
    '''IdentityOwner configures which identity has to be used during auto discovery, keda or the scaled workload.

    Mutually exclusive with roleArn

    :schema: TriggerAuthenticationSpecPodIdentityIdentityOwner
    '''

    KEDA = "KEDA"
    '''keda.'''
    WORKLOAD = "WORKLOAD"
    '''workload.'''


@jsii.enum(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecPodIdentityProvider"
)
class TriggerAuthenticationSpecPodIdentityProvider(enum.Enum):
    '''PodIdentityProvider contains the list of providers.

    :schema: TriggerAuthenticationSpecPodIdentityProvider
    '''

    AZURE_HYPHEN_WORKLOAD = "AZURE_HYPHEN_WORKLOAD"
    '''azure-workload.'''
    GCP = "GCP"
    '''gcp.'''
    AWS = "AWS"
    '''aws.'''
    AWS_HYPHEN_EKS = "AWS_HYPHEN_EKS"
    '''aws-eks.'''
    NONE = "NONE"
    '''none.'''


@jsii.data_type(
    jsii_type="triggerauthentications_shkeda.TriggerAuthenticationSpecSecretTargetRef",
    jsii_struct_bases=[],
    name_mapping={"key": "key", "name": "name", "parameter": "parameter"},
)
class TriggerAuthenticationSpecSecretTargetRef:
    def __init__(
        self,
        *,
        key: builtins.str,
        name: builtins.str,
        parameter: builtins.str,
    ) -> None:
        '''AuthSecretTargetRef is used to authenticate using a reference to a secret.

        :param key: 
        :param name: 
        :param parameter: 

        :schema: TriggerAuthenticationSpecSecretTargetRef
        '''
        if __debug__:
            type_hints = cached_type_hints(_typecheckingstub__c46dc3b1442a7d3601cf4b02bb9c2e723b44f9127273d8d5235ca6150f9232d3)
            check_type(argname="argument key", value=key, expected_type=type_hints["key"])
            check_type(argname="argument name", value=name, expected_type=type_hints["name"])
            check_type(argname="argument parameter", value=parameter, expected_type=type_hints["parameter"])
        self._values: typing.Dict[builtins.str, typing.Any] = {
            "key": key,
            "name": name,
            "parameter": parameter,
        }

    @builtins.property
    def key(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecSecretTargetRef#key
        '''
        result = self._values.get("key")
        assert result is not None, "Required property 'key' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def name(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecSecretTargetRef#name
        '''
        result = self._values.get("name")
        assert result is not None, "Required property 'name' is missing"
        return typing.cast(builtins.str, result)

    @builtins.property
    def parameter(self) -> builtins.str:
        '''
        :schema: TriggerAuthenticationSpecSecretTargetRef#parameter
        '''
        result = self._values.get("parameter")
        assert result is not None, "Required property 'parameter' is missing"
        return typing.cast(builtins.str, result)

    def __eq__(self, rhs: typing.Any) -> builtins.bool:
        return isinstance(rhs, self.__class__) and rhs._values == self._values

    def __ne__(self, rhs: typing.Any) -> builtins.bool:
        return not (rhs == self)

    def __repr__(self) -> str:
        return "TriggerAuthenticationSpecSecretTargetRef(%s)" % ", ".join(
            k + "=" + repr(v) for k, v in self._values.items()
        )


__all__ = [
    "TriggerAuthentication",
    "TriggerAuthenticationProps",
    "TriggerAuthenticationSpec",
    "TriggerAuthenticationSpecAwsSecretManager",
    "TriggerAuthenticationSpecAwsSecretManagerCredentials",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom",
    "TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef",
    "TriggerAuthenticationSpecAwsSecretManagerPodIdentity",
    "TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner",
    "TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider",
    "TriggerAuthenticationSpecAwsSecretManagerSecrets",
    "TriggerAuthenticationSpecAzureKeyVault",
    "TriggerAuthenticationSpecAzureKeyVaultCloud",
    "TriggerAuthenticationSpecAzureKeyVaultCredentials",
    "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret",
    "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom",
    "TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef",
    "TriggerAuthenticationSpecAzureKeyVaultPodIdentity",
    "TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner",
    "TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider",
    "TriggerAuthenticationSpecAzureKeyVaultSecrets",
    "TriggerAuthenticationSpecBoundServiceAccountToken",
    "TriggerAuthenticationSpecConfigMapTargetRef",
    "TriggerAuthenticationSpecEnv",
    "TriggerAuthenticationSpecGcpSecretManager",
    "TriggerAuthenticationSpecGcpSecretManagerCredentials",
    "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret",
    "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom",
    "TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef",
    "TriggerAuthenticationSpecGcpSecretManagerPodIdentity",
    "TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner",
    "TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider",
    "TriggerAuthenticationSpecGcpSecretManagerSecrets",
    "TriggerAuthenticationSpecHashiCorpVault",
    "TriggerAuthenticationSpecHashiCorpVaultAuthentication",
    "TriggerAuthenticationSpecHashiCorpVaultCredential",
    "TriggerAuthenticationSpecHashiCorpVaultSecrets",
    "TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData",
    "TriggerAuthenticationSpecHashiCorpVaultSecretsType",
    "TriggerAuthenticationSpecOauth2",
    "TriggerAuthenticationSpecOauth2ClientSecret",
    "TriggerAuthenticationSpecOauth2ClientSecretValueFrom",
    "TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef",
    "TriggerAuthenticationSpecOauth2Type",
    "TriggerAuthenticationSpecPodIdentity",
    "TriggerAuthenticationSpecPodIdentityIdentityOwner",
    "TriggerAuthenticationSpecPodIdentityProvider",
    "TriggerAuthenticationSpecSecretTargetRef",
]

publication.publish()

def _typecheckingstub__46d873b8b28a18d9f089d6d69fdd910afbf844fcda59c4f2b32099f8795c14d8(
    scope: _constructs_77d1e7e8.Construct,
    id: builtins.str,
    *,
    spec: typing.Union[TriggerAuthenticationSpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c72fb4b19538e51f6171f95c6aa83fb15d90db848fe22b9f31c329a58eb158dc(
    *,
    spec: typing.Union[TriggerAuthenticationSpec, typing.Dict[builtins.str, typing.Any]],
    metadata: typing.Optional[typing.Union[_cdk8s_d3d9af27.ApiObjectMetadata, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__af37ebe71e188403d4de5ffb5998c3179b19e19d5bedd0d1662d476f3147710e(
    *,
    aws_secret_manager: typing.Optional[typing.Union[TriggerAuthenticationSpecAwsSecretManager, typing.Dict[builtins.str, typing.Any]]] = None,
    azure_key_vault: typing.Optional[typing.Union[TriggerAuthenticationSpecAzureKeyVault, typing.Dict[builtins.str, typing.Any]]] = None,
    bound_service_account_token: typing.Optional[typing.Sequence[typing.Union[TriggerAuthenticationSpecBoundServiceAccountToken, typing.Dict[builtins.str, typing.Any]]]] = None,
    config_map_target_ref: typing.Optional[typing.Sequence[typing.Union[TriggerAuthenticationSpecConfigMapTargetRef, typing.Dict[builtins.str, typing.Any]]]] = None,
    env: typing.Optional[typing.Sequence[typing.Union[TriggerAuthenticationSpecEnv, typing.Dict[builtins.str, typing.Any]]]] = None,
    file_path: typing.Optional[builtins.str] = None,
    gcp_secret_manager: typing.Optional[typing.Union[TriggerAuthenticationSpecGcpSecretManager, typing.Dict[builtins.str, typing.Any]]] = None,
    hashi_corp_vault: typing.Optional[typing.Union[TriggerAuthenticationSpecHashiCorpVault, typing.Dict[builtins.str, typing.Any]]] = None,
    oauth2: typing.Optional[typing.Union[TriggerAuthenticationSpecOauth2, typing.Dict[builtins.str, typing.Any]]] = None,
    pod_identity: typing.Optional[typing.Union[TriggerAuthenticationSpecPodIdentity, typing.Dict[builtins.str, typing.Any]]] = None,
    secret_target_ref: typing.Optional[typing.Sequence[typing.Union[TriggerAuthenticationSpecSecretTargetRef, typing.Dict[builtins.str, typing.Any]]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__01448da7bdaf752df6a2d17a1bf6a6828963979599d049ff0d9011d5733c4c44(
    *,
    secrets: typing.Sequence[typing.Union[TriggerAuthenticationSpecAwsSecretManagerSecrets, typing.Dict[builtins.str, typing.Any]]],
    credentials: typing.Optional[typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentials, typing.Dict[builtins.str, typing.Any]]] = None,
    pod_identity: typing.Optional[typing.Union[TriggerAuthenticationSpecAwsSecretManagerPodIdentity, typing.Dict[builtins.str, typing.Any]]] = None,
    region: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__bc00db15605af225b06b38e3751d57ef09aa1c3f138ebcbe3b35f072e5145235(
    *,
    access_key: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKey, typing.Dict[builtins.str, typing.Any]],
    access_secret_key: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKey, typing.Dict[builtins.str, typing.Any]],
    access_token: typing.Optional[typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessToken, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__742af550e01a2f4d74771012c56f665e98b98a90c5c89ce2a706d4f61ee6380b(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__8aba95fbda74e927d12201b38eb998e109d870d7ff5d658dea91ff46b3d9ea3c(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessKeyValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c84439988f3aa9d20f2623e0d798997f798ef6a6fc688a1b6e7201b1ccacc476(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__93ef30c9d92eb4aa444a7045719f4f0c9d2b5a381b6585b3bd49da1b695eedf7(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__d08f72a13f9d60e1d743687f8969b2fac741e5ff57b89625bbca15ea6dcf1cee(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessSecretKeyValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__19d4a71af6740dd6dfa96ecd9917562f556097dee3bd2273d7f10539254acd60(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__3825d5e63f23ab10b63e33450883de029f3b2590f9fc1df61f3973f03702f292(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__bf45e58a1444797342490c52256bdc17394ef56cb5291deb0c90ce0de7aa592b(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecAwsSecretManagerCredentialsAccessTokenValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e37b7451d4feab588de98d4d7a3c4f07b9b6fde0408e64819846fa4bf18c2c65(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e2bbb41f754ea01afb2106e26cac8057732fb665f9a629869278efc182f86613(
    *,
    provider: TriggerAuthenticationSpecAwsSecretManagerPodIdentityProvider,
    external_id: typing.Optional[builtins.str] = None,
    identity_authority_host: typing.Optional[builtins.str] = None,
    identity_id: typing.Optional[builtins.str] = None,
    identity_owner: typing.Optional[TriggerAuthenticationSpecAwsSecretManagerPodIdentityIdentityOwner] = None,
    identity_tenant_id: typing.Optional[builtins.str] = None,
    role_arn: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__e67c6504777f3aeb79ca5f5eb1e3c8db967eafb364ea456536efb116a6593081(
    *,
    name: builtins.str,
    parameter: builtins.str,
    secret_key: typing.Optional[builtins.str] = None,
    version_id: typing.Optional[builtins.str] = None,
    version_stage: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c62a8728bac85f1ad615223014aefd77be128c2c9dea0f547d6e03d553670692(
    *,
    secrets: typing.Sequence[typing.Union[TriggerAuthenticationSpecAzureKeyVaultSecrets, typing.Dict[builtins.str, typing.Any]]],
    vault_uri: builtins.str,
    cloud: typing.Optional[typing.Union[TriggerAuthenticationSpecAzureKeyVaultCloud, typing.Dict[builtins.str, typing.Any]]] = None,
    credentials: typing.Optional[typing.Union[TriggerAuthenticationSpecAzureKeyVaultCredentials, typing.Dict[builtins.str, typing.Any]]] = None,
    pod_identity: typing.Optional[typing.Union[TriggerAuthenticationSpecAzureKeyVaultPodIdentity, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__12a35d46881fd27d8ea35ccd742a6aa0357ff5804308ac256d32970d898d3549(
    *,
    type: builtins.str,
    active_directory_endpoint: typing.Optional[builtins.str] = None,
    key_vault_resource_url: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__db07bdb5ae0909c328cfcc3af1316b7fb171d60216f21dc19afe8cd5bd188ff4(
    *,
    client_id: builtins.str,
    client_secret: typing.Union[TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecret, typing.Dict[builtins.str, typing.Any]],
    tenant_id: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f137645fde7731b31876f84bdf4f6d99062a0f8391006fe1d76c3f149e4e2a6f(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c1dc5cb27148265857c1279ac892033f665ee76fa592b5f2383876e3e9f8185f(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecAzureKeyVaultCredentialsClientSecretValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7e273d8b4bfe8cd474a4a947db5f64ea588a93c732b6723e5e3a00f217eb2f72(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__db8326bd2567138e18f48e3950fbd40a13488ec0dab648d4a445647dab4487d2(
    *,
    provider: TriggerAuthenticationSpecAzureKeyVaultPodIdentityProvider,
    external_id: typing.Optional[builtins.str] = None,
    identity_authority_host: typing.Optional[builtins.str] = None,
    identity_id: typing.Optional[builtins.str] = None,
    identity_owner: typing.Optional[TriggerAuthenticationSpecAzureKeyVaultPodIdentityIdentityOwner] = None,
    identity_tenant_id: typing.Optional[builtins.str] = None,
    role_arn: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__f65ebe66ee588a12ce902f80047bbca84c23c9913f7eea785cdcc8dc074fab59(
    *,
    name: builtins.str,
    parameter: builtins.str,
    version: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__58eb7e2cc17da9628339b1e9723ec98f861b9839e711de6486597686c7bfa6b5(
    *,
    parameter: builtins.str,
    service_account_name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__d9dfd10a53525826caa54516ea8909471c680f63ff8cbcd49615ce1529d0f6b2(
    *,
    key: builtins.str,
    name: builtins.str,
    parameter: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__20bdf1246923adabf68f530b1e5ea4da3950df8b3d4b9b09b153563408710ad7(
    *,
    name: builtins.str,
    parameter: builtins.str,
    container_name: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__fbe6cd79b7f2da3acd41e0ba59f9ebcc18bb2800df4791011eb0895403c23bed(
    *,
    secrets: typing.Sequence[typing.Union[TriggerAuthenticationSpecGcpSecretManagerSecrets, typing.Dict[builtins.str, typing.Any]]],
    credentials: typing.Optional[typing.Union[TriggerAuthenticationSpecGcpSecretManagerCredentials, typing.Dict[builtins.str, typing.Any]]] = None,
    pod_identity: typing.Optional[typing.Union[TriggerAuthenticationSpecGcpSecretManagerPodIdentity, typing.Dict[builtins.str, typing.Any]]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__2ea3dbd980ec6fc6883f470985817227649cd4abfe7a0d4dba3f0f197ef3bbac(
    *,
    client_secret: typing.Union[TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecret, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c339ab495e3db2981b51b9d2cd92f1f2b8a043dde83059d1b700822b1fecb501(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__2c1180b5b45c9f80407d33c70cb4bc46e8609013cc242a2c745aa1de0e320dd5(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecGcpSecretManagerCredentialsClientSecretValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__83943509f6081fbd37630f52dc2cf1c9a97ef9da9a29395d481e7a1e54713190(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__744c1377a2271a55b0612e0a0fe1b7061f67069dd54a2a42da9d330daf616ac7(
    *,
    provider: TriggerAuthenticationSpecGcpSecretManagerPodIdentityProvider,
    external_id: typing.Optional[builtins.str] = None,
    identity_authority_host: typing.Optional[builtins.str] = None,
    identity_id: typing.Optional[builtins.str] = None,
    identity_owner: typing.Optional[TriggerAuthenticationSpecGcpSecretManagerPodIdentityIdentityOwner] = None,
    identity_tenant_id: typing.Optional[builtins.str] = None,
    role_arn: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__a39d36621542ec502eb901b9626a05cfd3c65d86c92879aa0a6284f9ad4884e9(
    *,
    id: builtins.str,
    parameter: builtins.str,
    version: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__48943fcc8ea998c2c76f98962ddaf4ef2ab903ccf23576e4b77402130a691c2e(
    *,
    address: builtins.str,
    authentication: TriggerAuthenticationSpecHashiCorpVaultAuthentication,
    secrets: typing.Sequence[typing.Union[TriggerAuthenticationSpecHashiCorpVaultSecrets, typing.Dict[builtins.str, typing.Any]]],
    credential: typing.Optional[typing.Union[TriggerAuthenticationSpecHashiCorpVaultCredential, typing.Dict[builtins.str, typing.Any]]] = None,
    mount: typing.Optional[builtins.str] = None,
    namespace: typing.Optional[builtins.str] = None,
    role: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7c795461cce568a30c3a675e5868bde5bdee98e1124f007acd51705e449f73eb(
    *,
    service_account: typing.Optional[builtins.str] = None,
    service_account_name: typing.Optional[builtins.str] = None,
    token: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7f81d22b8145910f4f9e22acc7f912d3eea5625a8207454b29068bd7d8c80224(
    *,
    key: builtins.str,
    parameter: builtins.str,
    path: builtins.str,
    pki_data: typing.Optional[typing.Union[TriggerAuthenticationSpecHashiCorpVaultSecretsPkiData, typing.Dict[builtins.str, typing.Any]]] = None,
    type: typing.Optional[TriggerAuthenticationSpecHashiCorpVaultSecretsType] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__0d998fe340a4eaa9de15d6ee8bfbfbeab7766c579bb9e2c68d5ffab85e4fd55f(
    *,
    alt_names: typing.Optional[builtins.str] = None,
    common_name: typing.Optional[builtins.str] = None,
    format: typing.Optional[builtins.str] = None,
    ip_sans: typing.Optional[builtins.str] = None,
    other_sans: typing.Optional[builtins.str] = None,
    ttl: typing.Optional[builtins.str] = None,
    uri_sans: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__4c06e3e8d22a0f09bd1da1a4b4289a6a851718bf279a2dbdf1332c1f9815a7b6(
    *,
    client_id: builtins.str,
    token_url: builtins.str,
    type: TriggerAuthenticationSpecOauth2Type,
    client_secret: typing.Optional[typing.Union[TriggerAuthenticationSpecOauth2ClientSecret, typing.Dict[builtins.str, typing.Any]]] = None,
    scopes: typing.Optional[typing.Sequence[builtins.str]] = None,
    token_url_params: typing.Optional[typing.Mapping[builtins.str, builtins.str]] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__738d9896c51a310c76f6f2c515389b56f500aa33794a793b189cffed42353a1d(
    *,
    value_from: typing.Union[TriggerAuthenticationSpecOauth2ClientSecretValueFrom, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__62485af40dc3579f784f60d543e9aeb52ba4b57a4da623bf9b90c9fdc8f7882b(
    *,
    secret_key_ref: typing.Union[TriggerAuthenticationSpecOauth2ClientSecretValueFromSecretKeyRef, typing.Dict[builtins.str, typing.Any]],
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__7383a8c8d398edba37680fb603f85341ea2f75284ad6778be5af3b286c74806c(
    *,
    key: builtins.str,
    name: builtins.str,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__ad84c275fccf1eff3fd59fcc28813920518d91d28e28511d36df29f24c0c7676(
    *,
    provider: TriggerAuthenticationSpecPodIdentityProvider,
    external_id: typing.Optional[builtins.str] = None,
    identity_authority_host: typing.Optional[builtins.str] = None,
    identity_id: typing.Optional[builtins.str] = None,
    identity_owner: typing.Optional[TriggerAuthenticationSpecPodIdentityIdentityOwner] = None,
    identity_tenant_id: typing.Optional[builtins.str] = None,
    role_arn: typing.Optional[builtins.str] = None,
) -> None:
    """Type checking stubs"""
    pass

def _typecheckingstub__c46dc3b1442a7d3601cf4b02bb9c2e723b44f9127273d8d5235ca6150f9232d3(
    *,
    key: builtins.str,
    name: builtins.str,
    parameter: builtins.str,
) -> None:
    """Type checking stubs"""
    pass
