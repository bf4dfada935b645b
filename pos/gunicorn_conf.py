"""gunicorn's settings for ПОС, the same for `make run` and production: `gunicorn -c python:pos.gunicorn_conf app:app`
(the command line adds the address and the number of processes)."""
import gc

worker_class = "gthread"
threads = 4
# The app is imported once, in the arbiter, and forked: the processes start at once and share its memory.
preload_app = True


def pre_fork(_server, _worker) -> None:
    # What the arbiter imported stays out of the workers' garbage collections: they neither copy those
    # pages nor walk them again when they exit (without this, a worker's exit took seconds of CPU).
    gc.freeze()
