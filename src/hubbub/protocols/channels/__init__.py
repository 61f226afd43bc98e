"""Spec 000 ("whatsapp-messaging-service Realtime API") served on `/ws`.

The messages are declared once as msgspec Structs (`schema`, generated from the
spec's channel index) so that validation, the AsyncAPI document and the tests
cannot drift apart.
"""
