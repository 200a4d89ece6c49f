"""The ``./gateway`` command: an officer's commands over HTTP, and the local stack's."""
