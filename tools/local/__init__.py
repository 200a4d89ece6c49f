"""The local stack: moto server, provisioning, ``chalice local``, the triggers' loops, fault injection, and the
ledger stream read by hand for in-process stacks."""
