"""Helpers for the processes that supervise others (`make run`'s devserver, the worker)."""
import ctypes
import signal


def die_with_parent() -> None:
    """Linux, as a `preexec_fn`: the child gets SIGTERM when its parent is gone, instead of living on
    unwatched (the children run in sessions of their own, which no signal to the parent's group reaches)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
