"""What each SNS, SQS and stream trigger runs, given its event's records and the composition root.

app.py's trigger functions call these in one line, and the local stack (tools/local/stack.py), which polls
the same topics, queues and stream itself, calls the same ones: a message is handled, dropped or handed
back the same way under ``make run`` as in AWS. Modules are imported by the functions that use them only
(batch_worker.py loads Powertools' batch utility).
"""
