"""RQ jobs and the worker: the outbox relay, notifications, the deadline sweep, postponements, digests.

Jobs take ids, open their own session, and may run twice without doing the work twice.
"""
