"""The local stack: moto server, provisioning, ``chalice local``, the triggers' loops, fault injection."""
