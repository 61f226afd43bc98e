from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PersonalChatSent(_message.Message):
    __slots__ = ("message_id", "sender_id", "target_id", "payload", "target_type", "target_members")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sender_id: str
    target_id: str
    payload: str
    target_type: str
    target_members: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, message_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., target_id: _Optional[str] = ..., payload: _Optional[str] = ..., target_type: _Optional[str] = ..., target_members: _Optional[_Iterable[str]] = ...) -> None: ...

class UserConnected(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UserPayloadDisconnected(_message.Message):
    __slots__ = ("reason", "code", "forced")
    REASON_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FORCED_FIELD_NUMBER: _ClassVar[int]
    reason: str
    code: int
    forced: bool
    def __init__(self, reason: _Optional[str] = ..., code: _Optional[int] = ..., forced: _Optional[bool] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ("personalChatSent", "userConnected", "userDisconnected")
    PERSONALCHATSENT_FIELD_NUMBER: _ClassVar[int]
    USERCONNECTED_FIELD_NUMBER: _ClassVar[int]
    USERDISCONNECTED_FIELD_NUMBER: _ClassVar[int]
    personalChatSent: PersonalChatSent
    userConnected: UserConnected
    userDisconnected: UserPayloadDisconnected
    def __init__(self, personalChatSent: _Optional[_Union[PersonalChatSent, _Mapping]] = ..., userConnected: _Optional[_Union[UserConnected, _Mapping]] = ..., userDisconnected: _Optional[_Union[UserPayloadDisconnected, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "version", "name", "namespace", "parentNamespace", "timestamp", "clientId", "userId", "traceId", "sessionId", "spanContext", "payload")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    PARENTNAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CLIENTID_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    TRACEID_FIELD_NUMBER: _ClassVar[int]
    SESSIONID_FIELD_NUMBER: _ClassVar[int]
    SPANCONTEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: int
    name: str
    namespace: str
    parentNamespace: str
    timestamp: str
    clientId: str
    userId: str
    traceId: str
    sessionId: str
    spanContext: str
    payload: Payload
    def __init__(self, id: _Optional[str] = ..., version: _Optional[int] = ..., name: _Optional[str] = ..., namespace: _Optional[str] = ..., parentNamespace: _Optional[str] = ..., timestamp: _Optional[str] = ..., clientId: _Optional[str] = ..., userId: _Optional[str] = ..., traceId: _Optional[str] = ..., sessionId: _Optional[str] = ..., spanContext: _Optional[str] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ...) -> None: ...
